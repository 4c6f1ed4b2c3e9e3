"""GitHub REST client (github.com and GitHub Enterprise Server, via ``GITHUB_API_URL``)."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from gitops.errors import GitopsError
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

COMMENT_LIMIT = 65_536
ACTIONS_BOT = "github-actions[bot]"
READ_ONLY = "Resource not accessible by integration"


class GitHub(Forge):
    comment_limit = COMMENT_LIMIT

    def __init__(
        self,
        api_url: str,
        repository: str,
        token: str,
        *,
        login: str = "",
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.repo = repository
        self._login = login
        self._token_is_app = token.startswith("ghs_")
        self.http = ForgeSession(
            api_url,
            {"Authorization": f"Bearer {token}"},
            token=token,
            timeout=timeout,
            retry=retry,
            extra_headers={
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
            },
            log=log,
        )

    @property
    def request_count(self) -> int:
        return self.http.request_count

    def _path(self, rest: str) -> str:
        return f"/repos/{self.repo}{rest}"

    def _write(self, method: str, path: str, json: Any, ok: tuple[int, ...] = ()) -> Any:
        """A write call; GitHub's read-only-token 403 becomes advice, not a bare status."""
        try:
            response = self.http.request(method, path, json=json, ok=ok)
        except ForgeError as exc:
            if exc.status == 403 and READ_ONLY in exc.forge_message:
                raise ForgePermissionError(
                    f"{exc}. The token cannot write here: a pull request from a fork gets a "
                    "read-only GITHUB_TOKEN, and otherwise the workflow needs `permissions:` "
                    "(contents, pull-requests, deployments or statuses: write)."
                ) from None
            raise
        return response

    def whoami(self) -> str:
        """Our login. The Actions token (``ghs_``) writes as github-actions[bot] and may not
        read ``/user``, so that case costs no request."""
        if not self._login:
            if self._token_is_app:
                self._login = ACTIONS_BOT
            else:
                self._login = self.http.request("GET", "/user").json()["login"]
        return self._login

    @staticmethod
    def _comment(data: Mapping[str, Any]) -> Comment:
        user = data.get("user") or {}
        return Comment(data["id"], data.get("body") or "", user.get("login", ""), data["html_url"])

    def list_comments(self, number: int) -> list[Comment]:
        items = self.http.paginate(self._path(f"/issues/{number}/comments"))
        return [self._comment(c) for c in items]

    def create_comment(self, number: int, body: str) -> Comment:
        response = self._write("POST", self._path(f"/issues/{number}/comments"), {"body": body})
        return self._comment(response.json())

    def update_comment(self, number: int, comment_id: int, body: str) -> Comment:
        response = self._write(
            "PATCH", self._path(f"/issues/comments/{comment_id}"), {"body": body}
        )
        return self._comment(response.json())

    def approvers(self, number: int) -> list[str]:
        latest: dict[str, str] = {}  # reviewer -> their latest state that counts
        for review in self.http.paginate(self._path(f"/pulls/{number}/reviews")):
            user = (review.get("user") or {}).get("login", "")
            state = review.get("state", "")
            if user and state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
                latest[user] = state  # a comment does not withdraw an approval
        return [user for user, state in latest.items() if state == "APPROVED"]

    def labels(self, number: int) -> list[str]:
        found = self.http.paginate(self._path(f"/issues/{number}/labels"))
        return [str(label.get("name", "")) for label in found]

    def is_member(self, group: str, user: str) -> bool:
        org, _, team = group.partition("/")
        if not org or not team:
            raise GitopsError(f"a GitHub team is written org/team, not {group!r}")
        path = f"/orgs/{quote(org, safe='')}/teams/{quote(team, safe='')}/memberships/"
        try:
            data = self.http.request("GET", path + quote(user, safe="")).json()
        except ForgeError as exc:
            if exc.status == 404:  # no such team, not a member, or a team we may not see
                return False
            if exc.status == 403:
                raise ForgePermissionError(
                    f"{exc}. Reading team {group} needs a token that may read the organisation's "
                    "members (a GitHub App with `members: read`, or a PAT with `read:org`); "
                    "GITHUB_TOKEN cannot."
                ) from None
            raise
        return data.get("state") == "active"

    @staticmethod
    def _pr(data: Mapping[str, Any]) -> PullRequest:
        return PullRequest(
            number=data["number"],
            url=data["html_url"],
            head=data["head"]["ref"],
            base=data["base"]["ref"],
            title=data.get("title") or "",
            state=data.get("state") or "",
        )

    def find_pr_for_commit(self, sha: str) -> PullRequest | None:
        pulls = self.http.request("GET", self._path(f"/commits/{sha}/pulls")).json()
        open_pulls = [p for p in pulls if p.get("state") == "open"]
        return self._pr(open_pulls[0]) if open_pulls else None

    def merged_pr(self, sha: str, branch: str) -> MergedPullRequest | None:
        try:
            found = self.http.request("GET", self._path(f"/commits/{sha}/pulls")).json()
        except ForgeError as exc:
            if exc.status not in (404, 422):  # a commit GitHub does not know
                raise
            found = []
        merged = [p for p in found if p.get("merged_at") and p["head"]["ref"] == branch]
        if not merged:
            owner = self.repo.split("/")[0]
            params = {"head": f"{owner}:{branch}", "state": "closed", "sort": "updated",
                      "direction": "desc"}  # fmt: skip
            found = self.http.request("GET", self._path("/pulls"), params=params).json()
            merged = sorted((p for p in found if p.get("merged_at")),
                            key=lambda p: p["merged_at"], reverse=True)  # fmt: skip
        if not merged:
            return None
        number = merged[0]["number"]
        full = self.http.request("GET", self._path(f"/pulls/{number}")).json()
        user = full.get("merged_by") or {}
        return MergedPullRequest(
            number=number,
            url=full.get("html_url", ""),
            merged_by=str(user.get("login") or ""),
            merged_by_id=user.get("id") if isinstance(user.get("id"), int) else None,
            labels=tuple(str(label.get("name", "")) for label in full.get("labels") or []),
        )

    def _open_pull(self, branch: str, base: str | None) -> Mapping[str, Any] | None:
        owner = self.repo.split("/")[0]
        params = {"head": f"{owner}:{branch}", "state": "open"}
        if base:
            params["base"] = base
        pulls = self.http.request("GET", self._path("/pulls"), params=params).json()
        return pulls[0] if pulls else None

    def find_pr_for_branch(self, branch: str, base: str | None = None) -> PullRequest | None:
        found = self._open_pull(branch, base)
        return self._pr(found) if found is not None else None

    def open_pr(self, head: str, base: str, title: str, body: str) -> PullRequest:
        """Open a PR, or update the open one of ``head``; one that already has this title and
        body is left as it is (no edit in its timeline, no ``edited`` event: a re-run that
        changes nothing must not look like news to the reviewers)."""
        existing = self._open_pull(head, base)
        if existing is None:
            payload = {"head": head, "base": base, "title": title, "body": body}
            response = self._write("POST", self._path("/pulls"), payload, ok=(422,))
            if response.status_code != 422:
                return self._pr(response.json())
            existing = self._open_pull(head, base)  # opened meanwhile by another run
            if existing is None:
                raise ForgeError("POST", self._path("/pulls"), 422, _message(response.json()))
        if existing.get("title") == title and (existing.get("body") or "") == body:
            return self._pr(existing)
        response = self._write(
            "PATCH", self._path(f"/pulls/{existing['number']}"), {"title": title, "body": body}
        )
        return self._pr(response.json())

    def create_branch(self, name: str, sha: str) -> bool:
        payload = {"ref": f"refs/heads/{name}", "sha": sha}
        response = self._write("POST", self._path("/git/refs"), payload, ok=(422,))
        if response.status_code == 422:
            if "already exists" in _message(response.json()):
                return False
            raise ForgeError("POST", self._path("/git/refs"), 422, _message(response.json()))
        return True

    def commit_files(
        self, branch: str, files: Mapping[str, str], message: str, start: str | None = None
    ) -> str:
        """One commit per file (the contents API's unit), made one after another as GitHub asks.
        A file that already holds ``text`` is not written: the contents API would make an
        empty commit of it (a re-run must not add commits to a PR); with nothing to write,
        the branch's tip is returned."""
        if start:
            self.create_branch(branch, start)
        sha = ""
        for path, text in files.items():
            url = self._path("/contents/" + quote(path))
            current = self.http.request("GET", url, params={"ref": branch}, ok=(404,))
            payload: dict[str, Any] = {
                "message": message,
                "content": base64.b64encode(text.encode()).decode(),
                "branch": branch,
            }
            if current.status_code == 200:
                data = current.json()
                if data.get("sha") == _blob_sha(text.encode()):
                    continue  # unchanged
                payload["sha"] = data["sha"]
            sha = self._write("PUT", url, payload).json()["commit"]["sha"]
        if not sha:
            ref = self.http.request("GET", self._path(f"/git/ref/heads/{quote(branch)}"))
            sha = ref.json()["object"]["sha"]
        return sha

    def file_text(self, ref: str, path: str) -> str | None:
        url = self._path("/contents/" + quote(path))
        response = self.http.request("GET", url, params={"ref": ref}, ok=(404,))
        if response.status_code == 404:
            return None
        data = response.json()
        if not isinstance(data, dict) or data.get("type") != "file":
            return None  # a directory
        return base64.b64decode(data.get("content") or "").decode("utf-8", errors="replace")

    def create_deployment(
        self,
        environment: str,
        ref: str,
        sha: str,
        description: str = "",
        payload: Mapping[str, Any] | None = None,
        is_tag: bool = True,
    ) -> Deployment:
        body: dict[str, Any] = {
            "ref": ref if is_tag else sha,
            "environment": environment,
            "description": shorten(description, 140),
            "payload": dict(payload or {}),
            "auto_merge": False,  # a tag cannot be merged; GitHub's default would try
            "required_contexts": [],  # the registry already decided; do not wait for checks
            "task": "deploy",
        }
        response = self._write("POST", self._path("/deployments"), body, ok=(202,))
        data = response.json()
        if response.status_code == 202 or "id" not in data:
            raise ForgeError("POST", self._path("/deployments"), 202, _message(data))
        return Deployment(data["id"], environment, data.get("url", ""))

    def set_deployment_status(
        self, deployment: Deployment, state: str, description: str = "", url: str = ""
    ) -> None:
        body = {
            "state": state,
            "description": shorten(description, 140),
            "environment": deployment.environment,
        }
        if url:
            body["log_url"] = url
        self._write("POST", self._path(f"/deployments/{deployment.id}/statuses"), body)

    def set_commit_status(
        self, sha: str, state: str, context: str, description: str = "", url: str = ""
    ) -> None:
        body = {"state": state, "context": context, "description": shorten(description, 140)}
        if url:
            body["target_url"] = url
        self._write("POST", self._path(f"/statuses/{sha}"), body)


def _blob_sha(data: bytes) -> str:
    """Git's blob id of ``data``: the ``sha`` the contents API gives a file."""
    import hashlib

    header = b"blob %d\0" % len(data)
    return hashlib.sha1(header + data, usedforsecurity=False).hexdigest()


def _message(data: Any) -> str:
    if isinstance(data, dict):
        errors = [e.get("message", "") for e in data.get("errors", []) if isinstance(e, dict)]
        return "; ".join([str(data.get("message", ""))] + [e for e in errors if e])
    return str(data)
