"""GitLab REST v4 client (gitlab.com and self-managed, via ``CI_API_V4_URL``).

The CI job token can read merge requests and write deployments, but not notes, merge requests,
branches, commits or commit statuses (platforms.md §3.3). Those calls stop before the request
with a message saying which token to set, instead of a bare 403.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from gitops.forge.base import (
    Comment,
    Deployment,
    Forge,
    ForgePermissionError,
    MergedPullRequest,
    PullRequest,
)
from gitops.forge.http import ForgeError, ForgeSession, RetryPolicy
from gitops.text import shorten

COMMENT_LIMIT = 1_000_000
JOB_TOKEN_ADVICE = (
    "GitLab's CI_JOB_TOKEN cannot {what}. Create a project access token (role Developer, "
    "scope `api`), store it as a masked CI/CD variable named GITOPS_TOKEN, and run again."
)
# our deployment states (GitHub's words) -> GitLab's
DEPLOYMENT_STATES = {
    "queued": "running",
    "pending": "running",
    "in_progress": "running",
    "success": "success",
    "failure": "failed",
    "error": "failed",
    "inactive": "canceled",
}
COMMIT_STATES = {"pending": "pending", "success": "success", "failure": "failed", "error": "failed"}


class GitLab(Forge):
    comment_limit = COMMENT_LIMIT

    def __init__(
        self,
        api_url: str,
        project: str,
        token: str,
        *,
        token_kind: str = "private",
        server_url: str = "",
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.project = project
        self.job_token = token_kind == "job"
        self.server_url = server_url.rstrip("/")
        header = "JOB-TOKEN" if self.job_token else "PRIVATE-TOKEN"
        self.http = ForgeSession(
            api_url, {header: token}, token=token, timeout=timeout, retry=retry, log=log
        )
        self._login = ""

    @property
    def request_count(self) -> int:
        return self.http.request_count

    def _path(self, rest: str) -> str:
        return f"/projects/{quote(self.project, safe='')}{rest}"

    def _needs_write_token(self, what: str) -> None:
        if self.job_token:
            raise ForgePermissionError(JOB_TOKEN_ADVICE.format(what=what))

    def _mr_url(self, iid: int) -> str:
        return f"{self.server_url}/{self.project}/-/merge_requests/{iid}"

    def pr_name(self, number: int) -> str:
        return f"merge request !{number}"  # GitLab's own reference; #7 is an issue

    def check_can_comment(self) -> None:
        self._needs_write_token("write merge request comments")

    def whoami(self) -> str:
        """Our username; the job token cannot read ``/user`` (it would be a bare 401)."""
        self._needs_write_token("tell whose comments are ours (GET /user)")
        if not self._login:
            self._login = self.http.request("GET", "/user").json()["username"]
        return self._login

    def _comment(self, iid: int, data: Mapping[str, Any]) -> Comment:
        author = data.get("author") or {}
        url = f"{self._mr_url(iid)}#note_{data['id']}"
        return Comment(data["id"], data.get("body") or "", author.get("username", ""), url)

    def list_comments(self, number: int) -> list[Comment]:
        params = {"sort": "asc", "order_by": "created_at"}
        items = self.http.paginate(self._path(f"/merge_requests/{number}/notes"), params)
        return [self._comment(number, n) for n in items if not n.get("system")]

    def create_comment(self, number: int, body: str) -> Comment:
        self._needs_write_token("write merge request comments")
        path = self._path(f"/merge_requests/{number}/notes")
        return self._comment(number, self.http.request("POST", path, json={"body": body}).json())

    def update_comment(self, number: int, comment_id: int, body: str) -> Comment:
        self._needs_write_token("write merge request comments")
        path = self._path(f"/merge_requests/{number}/notes/{comment_id}")
        return self._comment(number, self.http.request("PUT", path, json={"body": body}).json())

    def approvers(self, number: int) -> list[str]:
        data = self.http.request("GET", self._path(f"/merge_requests/{number}/approvals")).json()
        return [
            (item.get("user") or {}).get("username", "")
            for item in data.get("approved_by") or []
            if (item.get("user") or {}).get("username")
        ]

    def labels(self, number: int) -> list[str]:
        data = self.http.request("GET", self._path(f"/merge_requests/{number}")).json()
        return [str(label) for label in data.get("labels") or []]

    def is_member(self, group: str, user: str) -> bool:
        group = group.strip("/")
        found = self.http.request("GET", "/users", params={"username": user}).json()
        ids = [u["id"] for u in found if str(u.get("username", "")).lower() == user.lower()]
        if not ids:
            return False
        path = f"/groups/{quote(group, safe='')}/members/all/{ids[0]}"
        try:
            self.http.request("GET", path)
        except ForgeError as exc:
            if exc.status == 404:  # not a member, or no such group (we may not see)
                return False
            raise
        return True

    @staticmethod
    def _mr(data: Mapping[str, Any]) -> PullRequest:
        return PullRequest(
            number=data["iid"],
            url=data.get("web_url", ""),
            head=data.get("source_branch", ""),
            base=data.get("target_branch", ""),
            title=data.get("title") or "",
            state=data.get("state") or "",
        )

    def find_pr_for_commit(self, sha: str) -> PullRequest | None:
        mrs = self.http.request("GET", self._path(f"/repository/commits/{sha}/merge_requests"))
        opened = [m for m in mrs.json() if m.get("state") == "opened"]
        return self._mr(opened[0]) if opened else None

    def merged_pr(self, sha: str, branch: str) -> MergedPullRequest | None:
        try:
            path = self._path(f"/repository/commits/{sha}/merge_requests")
            found = self.http.request("GET", path).json()
        except ForgeError as exc:
            if exc.status != 404:  # a commit GitLab does not know
                raise
            found = []
        merged = [m for m in found if m.get("state") == "merged"
                  and m.get("source_branch") == branch]  # fmt: skip
        if not merged:
            params = {"source_branch": branch, "state": "merged", "order_by": "updated_at"}
            merged = self.http.request("GET", self._path("/merge_requests"), params=params).json()
        if not merged:
            return None
        mr = merged[0]
        user = mr.get("merge_user") or mr.get("merged_by") or {}
        return MergedPullRequest(
            number=mr["iid"],
            url=mr.get("web_url", ""),
            merged_by=str(user.get("username") or ""),
            merged_by_id=user.get("id") if isinstance(user.get("id"), int) else None,
            labels=tuple(str(label) for label in mr.get("labels") or []),
        )

    def _open_mr(self, branch: str, base: str | None) -> Mapping[str, Any] | None:
        params = {"source_branch": branch, "state": "opened"}
        if base:
            params["target_branch"] = base
        mrs = self.http.request("GET", self._path("/merge_requests"), params=params).json()
        return mrs[0] if mrs else None

    def find_pr_for_branch(self, branch: str, base: str | None = None) -> PullRequest | None:
        found = self._open_mr(branch, base)
        return self._mr(found) if found is not None else None

    def open_pr(self, head: str, base: str, title: str, body: str) -> PullRequest:
        """Open an MR, or update the open one of ``head``; one that already has this title and
        description is left as it is (no edit in its activity: a re-run that changes nothing
        must not look like news to the reviewers)."""
        self._needs_write_token("open merge requests")
        found = self._open_mr(head, base)
        if found is not None and found.get("title") == title:
            if (found.get("description") or "") == body:
                return self._mr(found)
        existing = self._mr(found) if found is not None else None
        if existing is None:
            payload = {
                "source_branch": head,
                "target_branch": base,
                "title": title,
                "description": body,
                "remove_source_branch": True,
            }
            response = self.http.request(
                "POST", self._path("/merge_requests"), json=payload, ok=(409,)
            )
            if response.status_code != 409:
                return self._mr(response.json())
            existing = self.find_pr_for_branch(head, base)  # opened meanwhile by another run
            if existing is None:
                raise ForgeError("POST", self._path("/merge_requests"), 409, str(response.json()))
        path = self._path(f"/merge_requests/{existing.number}")
        return self._mr(
            self.http.request("PUT", path, json={"title": title, "description": body}).json()
        )

    def create_branch(self, name: str, sha: str) -> bool:
        self._needs_write_token("create branches")
        path = self._path("/repository/branches")
        response = self.http.request("POST", path, json={"branch": name, "ref": sha}, ok=(400,))
        if response.status_code == 400:
            if "already exists" in str(response.json().get("message", "")):
                return False
            raise ForgeError("POST", path, 400, str(response.json().get("message", "")))
        return True

    def commit_files(
        self, branch: str, files: Mapping[str, str], message: str, start: str | None = None
    ) -> str:
        """All files in one commit (GitLab's commits API takes a list of actions). Files that
        already hold their text on ``branch`` are left out, and with nothing left no commit is
        made (a re-run must not add commits to an MR): the branch's tip is returned."""
        import hashlib

        self._needs_write_token("push commits")
        actions = []
        ref = branch if start is None else start
        tip = ""
        for path, text in files.items():
            probe = self._path("/repository/files/" + quote(path, safe=""))
            exists = self.http.request("GET", probe, params={"ref": ref}, ok=(404,))
            if exists.status_code == 200 and start is None:
                data = exists.json()
                if data.get("content_sha256") == hashlib.sha256(text.encode()).hexdigest():
                    tip = str(data.get("commit_id") or "")
                    continue  # unchanged
            actions.append(
                {
                    "action": "update" if exists.status_code == 200 else "create",
                    "file_path": path,
                    "content": text,
                    "encoding": "text",
                }
            )
        if not actions and tip:
            return tip
        payload: dict[str, Any] = {"branch": branch, "commit_message": message, "actions": actions}
        if start is not None:
            payload["start_sha"] = start
        return self.http.request("POST", self._path("/repository/commits"), json=payload).json()[
            "id"
        ]

    def file_text(self, ref: str, path: str) -> str | None:
        url = self._path("/repository/files/" + quote(path, safe="") + "/raw")
        response = self.http.request("GET", url, params={"ref": ref}, ok=(404,))
        if response.status_code == 404:
            return None
        return response.content.decode("utf-8", errors="replace")

    def create_deployment(
        self,
        environment: str,
        ref: str,
        sha: str,
        description: str = "",
        payload: Mapping[str, Any] | None = None,
        is_tag: bool = True,
    ) -> Deployment:
        body = {
            "environment": environment,
            "sha": sha,
            "ref": ref,
            "tag": is_tag,
            "status": "running",
        }
        data = self.http.request("POST", self._path("/deployments"), json=body).json()
        return Deployment(data["id"], environment, "")

    def set_deployment_status(
        self, deployment: Deployment, state: str, description: str = "", url: str = ""
    ) -> None:
        status = DEPLOYMENT_STATES.get(state)
        if status is None:
            raise ValueError(f"unknown deployment state {state!r}")
        path = self._path(f"/deployments/{deployment.id}")
        self.http.request("PUT", path, json={"status": status})

    def set_commit_status(
        self, sha: str, state: str, context: str, description: str = "", url: str = ""
    ) -> None:
        self._needs_write_token("set commit statuses")
        body = {
            "state": COMMIT_STATES[state],
            "name": context,
            "description": shorten(description, 255),
        }
        if url:
            body["target_url"] = url
        self.http.request("POST", self._path(f"/statuses/{sha}"), json=body)
