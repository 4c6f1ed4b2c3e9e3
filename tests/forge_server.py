"""A test forge: a real HTTP server on 127.0.0.1 that answers like GitHub's and GitLab's REST APIs.

Our client is tested the way it runs: real ``requests`` calls over a real socket, against a server
that keeps state (repositories, pull/merge requests, comments/notes, branches, files, deployments,
statuses), validates requests as the real APIs do and answers with their shapes, status codes,
pagination and rate-limit headers. On top of that it can misbehave on purpose (``inject``: 5xx,
429 with ``Retry-After``, GitHub's secondary rate limit, slow answers, connection resets) and it
records every request so tests can assert what was sent and count calls.

    with ForgeServer() as forge:
        forge.add_user("octocat", "ghp_test")
        forge.add_repo("acme/models")
        forge.add_pr("acme/models", 7, head_ref="promote/v1")
        forge.inject("POST", r"/issues/7/comments$", 502, times=2)
        ...  # point the client at forge.github_url / forge.gitlab_url
        assert len(forge.find("POST", r"/comments$")) == 3

GitHub is served at ``forge.github_url`` (``http://127.0.0.1:PORT`` plus an optional prefix such
as ``/api/v3`` for GitHub Enterprise), GitLab at ``forge.gitlab_url`` (``.../api/v4``).
"""

from __future__ import annotations

import json
import re
import secrets
import socket
import struct
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from forge_core import Commit, Ctx, GitModel, Identity, RateConfig, Reply, as_bytes
from forge_github import (
    ACTIONS_BOT,
    GhComment,
    GhPull,
    GhRepo,
    GitHubApi,
    GitHubState,
    secondary_limit_body,
)
from forge_gitlab import GitLabApi, GitLabState, GlMr, GlNote, GlProject, encode_project
from requests.structures import CaseInsensitiveDict

GITLAB_ROOT = "/api/v4"
ACTIONS_BOT_LOGIN = ACTIONS_BOT[0]

__all__ = [
    "ACTIONS_BOT_LOGIN",
    "Fault",
    "ForgeServer",
    "RecordedRequest",
    "encode_project",
]


@dataclass
class RecordedRequest:
    """One request as it arrived, and what the forge answered (status None: connection reset)."""

    method: str
    path: str  # as sent, percent-encoding kept, without the query
    query: dict[str, str]
    headers: CaseInsensitiveDict[str]
    body: bytes
    json: Any
    time: float  # time.time() on arrival
    forge: str | None  # "github", "gitlab" or None (neither root)
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    fault: Fault | None = None

    @property
    def token(self) -> str | None:
        """The credential the request carried, whichever header it used."""
        for name in ("PRIVATE-TOKEN", "JOB-TOKEN"):
            if name in self.headers:
                return self.headers[name]
        auth = self.headers.get("Authorization", "")
        return auth.split(" ", 1)[1].strip() if " " in auth else None


@dataclass
class Fault:
    """A misbehaviour for requests matching `method` and `pattern` (searched in the raw path).

    `times` None means forever. `status` None with a `delay` answers normally, only late; `reset`
    closes the socket without answering (the client sees a connection reset).
    """

    method: str | None
    pattern: re.Pattern[str]
    status: int | None
    times: int | None
    headers: dict[str, str]
    body: Any
    delay: float
    reset: bool
    rate_headers: bool = False
    hits: int = 0

    @property
    def remaining(self) -> int | None:
        return None if self.times is None else max(self.times - self.hits, 0)

    def matches(self, method: str, path: str) -> bool:
        if self.remaining == 0:
            return False
        return self.method in (None, "*", method) and self.pattern.search(path) is not None


class _Handler(BaseHTTPRequestHandler):
    """Thin: reads the request and hands it to the ForgeServer."""

    protocol_version = "HTTP/1.1"  # keep-alive, like the real forges
    disable_nagle_algorithm = True  # else small writes wait ~40 ms for delayed ACKs
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except (OSError, ValueError):
            self.close_connection = True
            return
        self.server.forge._dispatch(self, body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def reset(self) -> None:
        """Close with RST and no answer: what a dying load balancer looks like to the client."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
        self.close_connection = True

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], forge: ForgeServer) -> None:
        self.forge = forge
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that time out and hang up are part of the tests


class ForgeServer:
    """GitHub and GitLab REST APIs on one ephemeral 127.0.0.1 port, with state you seed."""

    def __init__(self, *, github_prefix: str = "", github_link_style: str = "repositories") -> None:
        """`github_prefix`: "" for api.github.com, "/api/v3" for GitHub Enterprise Server.
        `github_link_style`: "repositories" puts `/repositories/{id}/...` URLs in `Link` headers
        as api.github.com does; "repos" uses `/repos/{owner}/{repo}/...`."""
        if github_prefix and (not github_prefix.startswith("/") or github_prefix.endswith("/")):
            raise ValueError("github_prefix is '' or like '/api/v3'")
        self.github_prefix = github_prefix
        self.lock = threading.RLock()
        self.github = GitHubState()
        self.gitlab = GitLabState()
        self.github_api = GitHubApi(self.github, github_link_style)
        self.gitlab_api = GitLabApi(self.gitlab)
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> ForgeServer:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        self._httpd = _Server(("127.0.0.1", 0), self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="forge",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._stopping.set()  # wakes handlers sleeping in a `delay`
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> ForgeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the forge is not running: call start() or use `with`")
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def github_url(self) -> str:
        """What `GITHUB_API_URL` would be."""
        return self.base_url + self.github_prefix

    @property
    def gitlab_url(self) -> str:
        """What `CI_API_V4_URL` would be."""
        return self.base_url + GITLAB_ROOT

    # --- identities and rate limits ----------------------------------------------------------

    def add_user(
        self,
        login: str,
        token: str | None = None,
        *,
        kind: str = "github",
        read_only: bool = False,
        permissions: Mapping[str, str] | None = None,
        scopes: tuple[str, ...] = ("api",),
        project: str | int | None = None,
        name: str | None = None,
        role: str = "developer",
    ) -> Identity:
        """Register a token. kinds: "github" (PAT), "github-app" (installation token such as
        GITHUB_TOKEN: `GET /user` is 403; use login ACTIONS_BOT_LOGIN), "gitlab" (PAT),
        "gitlab-project" (project access token, a bot), "gitlab-job" (CI_JOB_TOKEN of `project`,
        acting as `login`). `read_only` is the fork-PR GITHUB_TOKEN; `permissions` a GitHub App's
        {"pull-requests": "write", "contents": "read", ...}; `scopes` GitLab's ("api",) or
        ("read_api",)."""
        kinds = ("github", "github-app", "gitlab", "gitlab-project", "gitlab-job")
        if kind not in kinds:
            raise ValueError(f"kind must be one of {kinds}")
        if kind == "gitlab-job" and project is None:
            raise ValueError("a job token belongs to a project: pass project=")
        prefix = {
            "github": "ghp_",
            "github-app": "ghs_",
            "gitlab": "glpat-",
            "gitlab-project": "glpat-",
            "gitlab-job": "glcbt-",
        }[kind]
        token = token or prefix + secrets.token_hex(10)
        with self.lock:
            if token in self.github.tokens or token in self.gitlab.tokens:
                raise ValueError("token already registered")
            if kind.startswith("github"):
                user_id = self.github.user(login).id
                table = self.github.tokens
            else:
                user_id = self.gitlab.user(login, name, bot=kind == "gitlab-project").id
                table = self.gitlab.tokens
            identity = Identity(
                login,
                token,
                kind,
                user_id,
                name or login,
                read_only,
                dict(permissions) if permissions is not None else None,
                tuple(scopes),
                str(project) if project is not None else None,
                role,
            )
            table[token] = identity
        return identity

    def set_rate_limit(
        self,
        forge: str,
        limit: int,
        *,
        remaining: int | None = None,
        reset_in: float = 3600.0,
        status: int = 403,
    ) -> None:
        """Give every identity on `forge` ("github"/"gitlab") a fresh budget. `status`: what
        GitHub answers when it runs out (403 or 429); GitLab always answers 429."""
        with self.lock:
            state = self.github if forge == "github" else self.gitlab if forge == "gitlab" else None
            if state is None:
                raise ValueError("forge is 'github' or 'gitlab'")
            state.rate = RateConfig(limit, remaining, reset_in, status)
            state.budgets.clear()

    # --- seeding: git ------------------------------------------------------------------------

    def _target(self, target: str | int | GhRepo | GlProject) -> GhRepo | GlProject:
        if isinstance(target, GhRepo | GlProject):
            return target
        found = [
            t for t in (self.github.repo(str(target)), self.gitlab.project(target)) if t is not None
        ]
        if not found:
            raise KeyError(f"no repository or project {target!r}")
        if len(found) > 1:
            raise ValueError(
                f"{target!r} is both a GitHub repo and a GitLab project: pass the object"
            )
        return found[0]

    @staticmethod
    def _seed(
        git: GitModel,
        default_branch: str,
        head_sha: str | None,
        files: Mapping[str, str | bytes] | None,
        title: str,
    ) -> None:
        content = {p: as_bytes(c) for p, c in (files or {"README.md": f"# {title}\n"}).items()}
        git.branches[default_branch] = git.commit([], content, "Initial commit", sha=head_sha).sha

    def add_commit(
        self,
        target: str | int | GhRepo | GlProject,
        branch: str,
        files: Mapping[str, str | bytes | None],
        message: str = "seed commit",
        *,
        sha: str | None = None,
        parent: str | None = None,
    ) -> str:
        """Commit `files` (None deletes) on `branch`, creating the branch from `parent` (a ref or
        sha; default: the default branch) if it does not exist. Returns the new sha."""
        with self.lock:
            owner = self._target(target)
            git = owner.git
            start = git.resolve(parent) if parent else git.branches.get(branch)
            if start is None:
                start = git.branches[owner.default_branch]
            snapshot = dict(git.commits[start].files)
            for path, content in files.items():
                if content is None:
                    snapshot.pop(path, None)
                else:
                    snapshot[path] = as_bytes(content)
            commit = git.commit([start], snapshot, message, sha=sha)
            git.branches[branch] = commit.sha
            return commit.sha

    def add_branch(
        self, target: str | int | GhRepo | GlProject, name: str, ref: str | None = None
    ) -> str:
        """Point branch `name` at `ref` (a ref or sha; default: the default branch)."""
        with self.lock:
            owner = self._target(target)
            sha = owner.git.resolve(ref or owner.default_branch)
            if sha is None:
                raise KeyError(f"unknown ref {ref!r}")
            owner.git.branches[name] = sha
            return sha

    def add_tag(
        self, target: str | int | GhRepo | GlProject, name: str, ref: str | None = None
    ) -> str:
        with self.lock:
            owner = self._target(target)
            sha = owner.git.resolve(ref or owner.default_branch)
            if sha is None:
                raise KeyError(f"unknown ref {ref!r}")
            owner.git.tags[name] = sha
            return sha

    def branch_sha(self, target: str | int | GhRepo | GlProject, branch: str) -> str | None:
        with self.lock:
            return self._target(target).git.branches.get(branch)

    def file(self, target: str | int | GhRepo | GlProject, ref: str, path: str) -> bytes | None:
        """A file's bytes at `ref`, or None: what the client's commits left behind."""
        with self.lock:
            git = self._target(target).git
            sha = git.resolve(ref)
            return git.commits[sha].files.get(path) if sha else None

    def commit(self, target: str | int | GhRepo | GlProject, ref: str) -> Commit | None:
        with self.lock:
            git = self._target(target).git
            sha = git.resolve(ref)
            return git.commits[sha] if sha else None

    def _ensure_head(
        self, git: GitModel, branch: str, base: str, head_sha: str | None, title: str
    ) -> str:
        """Make `branch` exist with at least one commit over `base`; `head_sha` pins its tip."""
        if head_sha is not None and head_sha in git.commits:
            git.branches[branch] = head_sha
            return head_sha
        start = git.branches.get(branch, git.branches[base])
        files = {**git.commits[start].files, f"changes/{branch}.txt": title.encode()}
        git.branches[branch] = git.commit([start], files, title, sha=head_sha).sha
        return git.branches[branch]

    # --- seeding: GitHub ---------------------------------------------------------------------

    def add_repo(
        self,
        full_name: str,
        *,
        default_branch: str = "main",
        head_sha: str | None = None,
        files: Mapping[str, str | bytes] | None = None,
        private: bool = True,
        actions_can_create_prs: bool = True,
    ) -> GhRepo:
        """A GitHub repository with one commit (`files`, default a README) on `default_branch`.
        `actions_can_create_prs` is the setting "Allow GitHub Actions to create ... pull
        requests" (off: app tokens get 403 on `POST /pulls`)."""
        with self.lock:
            repo = self.github.add_repo(full_name, default_branch, private, actions_can_create_prs)
            self._seed(repo.git, default_branch, head_sha, files, repo.name)
            return repo

    def repo(self, full_name: str) -> GhRepo:
        repo = self.github.repo(full_name)
        if repo is None:
            raise KeyError(full_name)
        return repo

    def add_pr(
        self,
        repo: str | GhRepo,
        number: int | None = None,
        *,
        head_ref: str,
        head_sha: str | None = None,
        base_ref: str | None = None,
        title: str = "A pull request",
        author: str = "octocat",
        body: str | None = None,
        state: str = "open",
        draft: bool = False,
        fork_owner: str | None = None,
    ) -> GhPull:
        """A pull request; its head branch is created (one commit over base) when missing, or
        moved to `head_sha`. `fork_owner` makes it a fork PR whose head is not a branch here."""
        with self.lock:
            gh = repo if isinstance(repo, GhRepo) else self.repo(repo)
            base = base_ref or gh.default_branch
            if fork_owner is None:
                self._ensure_head(gh.git, head_ref, base, head_sha, title)
                return self.github_api.add_pull(
                    gh, number, head_ref, base, title, author, body=body, draft=draft, state=state
                )
            files = {
                **gh.git.commits[gh.git.branches[base]].files,
                f"changes/{head_ref}.txt": title.encode(),
            }
            sha = (
                head_sha
                if head_sha in gh.git.commits
                else gh.git.commit([gh.git.branches[base]], files, title, sha=head_sha).sha
            )
            return self.github_api.add_pull(
                gh,
                number,
                head_ref,
                base,
                title,
                author,
                body=body,
                draft=draft,
                state=state,
                head_owner=fork_owner,
                head_sha=sha,
            )

    def merge_pr(
        self,
        repo: str | GhRepo,
        number: int,
        *,
        merged_by: str | None = None,
        sha: str | None = None,
    ) -> str:
        """Merge a PR as GitHub's merge button would; returns the merge commit sha. ``sha``:
        the merge commit's id, when a test made the same merge in a real repository;
        ``merged_by``: who pressed the button (GitHub's ``merged_by``)."""
        with self.lock:
            gh = repo if isinstance(repo, GhRepo) else self.repo(repo)
            pull = gh.pulls[number]
            head, base = gh.head_sha(pull), gh.git.branches[pull.base_ref]
            pull.merged_commits = gh.git.between(base, head)
            files = {**gh.git.commits[base].files, **gh.git.commits[head].files}
            merge = gh.git.commit([base, head], files, f"Merge pull request #{number}", sha=sha)
            gh.git.branches[pull.base_ref] = merge.sha
            pull.state, pull.merge_commit_sha = "closed", merge.sha
            pull.merged_at = pull.closed_at = merge.date
            pull.merged_by = merged_by
            return merge.sha

    def label_pr(self, repo: str | GhRepo, number: int, *labels: str) -> None:
        with self.lock:
            gh = repo if isinstance(repo, GhRepo) else self.repo(repo)
            gh.pulls[number].labels.extend(labels)

    def add_comment(
        self,
        repo: str | GhRepo,
        number: int,
        body: str,
        author: str = "octocat",
        *,
        created_at: str | None = None,
    ) -> GhComment:
        """An issue comment on PR `number` (ids ascend, like GitHub's)."""
        with self.lock:
            gh = repo if isinstance(repo, GhRepo) else self.repo(repo)
            if number not in gh.pulls:
                raise KeyError(f"{gh.full_name}#{number} does not exist")
            return self.github_api.add_comment(gh, number, body, author, created_at)

    def comments(self, repo: str | GhRepo, number: int) -> list[GhComment]:
        with self.lock:
            gh = repo if isinstance(repo, GhRepo) else self.repo(repo)
            return sorted(
                (c for c in gh.comments.values() if c.number == number), key=lambda c: c.id
            )

    def add_status(
        self,
        repo: str | GhRepo,
        ref: str,
        state: str,
        context: str = "default",
        creator: str = "ci-bot",
    ) -> None:
        """A commit status (e.g. a failing check that makes a deployment 409)."""
        with self.lock:
            gh = repo if isinstance(repo, GhRepo) else self.repo(repo)
            sha = gh.git.resolve(ref)
            if sha is None:
                raise KeyError(f"unknown ref {ref!r}")
            self.github.user(creator)
            self.github_api.add_status(gh, sha, state, context, creator)

    # --- seeding: reviews, teams, approvals, groups ---------------------------------------------

    def add_review(self, repo: str, number: int, user: str, state: str = "APPROVED") -> None:
        """A review on a GitHub pull request (APPROVED, CHANGES_REQUESTED, COMMENTED,
        DISMISSED), on its head commit."""
        with self.lock:
            gh = self.repo(repo)
            self.github_api.add_review(gh, gh.pulls[number], user, state)

    def add_team(self, org: str, slug: str, members: list[str]) -> None:
        with self.lock:
            for login in members:
                self.github.user(login)
            self.github.teams[(org.lower(), slug.lower())] = set(members)

    def approve_mr(self, project: str | int, iid: int, user: str) -> None:
        with self.lock:
            self.gitlab.user(user)
            self._target(project).mrs[iid].approved_by.append(user)  # type: ignore[union-attr]

    def add_group(self, path: str, members: list[str]) -> None:
        """A GitLab group (full path) with its members, inherited ones included."""
        with self.lock:
            for username in members:
                self.gitlab.user(username)
            self.gitlab.groups[path.lower()] = set(members)

    # --- seeding: GitLab ---------------------------------------------------------------------

    def add_project(
        self,
        path: str,
        *,
        project_id: int | None = None,
        default_branch: str = "main",
        head_sha: str | None = None,
        files: Mapping[str, str | bytes] | None = None,
        visibility: str = "private",
    ) -> GlProject:
        """A GitLab project, addressed in URLs by its id or its URL-encoded path."""
        with self.lock:
            project = self.gitlab.add_project(path, project_id, default_branch, visibility)
            self._seed(project.git, default_branch, head_sha, files, project.name)
            return project

    def project(self, ref: str | int) -> GlProject:
        project = self.gitlab.project(ref)
        if project is None:
            raise KeyError(ref)
        return project

    def add_mr(
        self,
        project: str | int | GlProject,
        iid: int | None = None,
        *,
        source_branch: str,
        target_branch: str | None = None,
        head_sha: str | None = None,
        title: str = "A merge request",
        author: str = "alice",
        description: str | None = None,
        state: str = "opened",
    ) -> GlMr:
        with self.lock:
            gl = project if isinstance(project, GlProject) else self.project(project)
            target = target_branch or gl.default_branch
            self._ensure_head(gl.git, source_branch, target, head_sha, title)
            return self.gitlab_api.add_mr(
                gl, iid, source_branch, target, title, author, description=description, state=state
            )

    def merge_mr(
        self,
        project: str | int | GlProject,
        iid: int,
        *,
        merged_by: str | None = None,
        sha: str | None = None,
    ) -> str:
        """Merge an MR (``sha``, ``merged_by``: as ``merge_pr``)."""
        with self.lock:
            gl = project if isinstance(project, GlProject) else self.project(project)
            mr = gl.mrs[iid]
            head, base = gl.git.branches[mr.source_branch], gl.git.branches[mr.target_branch]
            mr.merged_commits = gl.git.between(base, head)
            files = {**gl.git.commits[base].files, **gl.git.commits[head].files}
            merge = gl.git.commit(
                [base, head], files, f"Merge branch '{mr.source_branch}'", sha=sha
            )
            gl.git.branches[mr.target_branch] = merge.sha
            mr.state, mr.merge_commit_sha = "merged", merge.sha
            mr.merged_by = merged_by
            return merge.sha

    def label_mr(self, project: str | int | GlProject, iid: int, *labels: str) -> None:
        with self.lock:
            gl = project if isinstance(project, GlProject) else self.project(project)
            gl.mrs[iid].labels.extend(labels)

    def add_note(
        self,
        project: str | int | GlProject,
        iid: int,
        body: str,
        author: str = "alice",
        *,
        system: bool = False,
        created_at: str | None = None,
    ) -> GlNote:
        """A note on MR `iid`; `system=True` for GitLab's own "added 1 commit" notes."""
        with self.lock:
            gl = project if isinstance(project, GlProject) else self.project(project)
            return self.gitlab_api.add_note(gl, iid, body, author, system, created_at)

    def notes(self, project: str | int | GlProject, iid: int) -> list[GlNote]:
        with self.lock:
            gl = project if isinstance(project, GlProject) else self.project(project)
            return sorted((n for n in gl.notes.values() if n.iid == iid), key=lambda n: n.id)

    # --- faults ------------------------------------------------------------------------------

    def inject(
        self,
        method: str | None,
        path_regex: str,
        status: int | None = None,
        *,
        times: int | None = 1,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        delay: float = 0.0,
        reset: bool = False,
    ) -> Fault:
        """Misbehave on the next `times` requests whose method is `method` ("*"/None: any) and
        whose raw path matches `path_regex` (re.search). Faults are tried in the order given;
        they answer before authentication and rate limiting, like a proxy would.

        - `status` + optional `headers`/`body` (dict -> JSON, str -> text): answer that instead;
        - `delay` seconds of silence first (with `status` None the real answer follows);
        - `reset=True`: close the connection without answering."""
        if status is None and not delay and not reset:
            raise ValueError("a fault needs a status, a delay or reset=True")
        fault = Fault(
            method.upper() if method else None,
            re.compile(path_regex),
            status,
            times,
            dict(headers or {}),
            body,
            delay,
            reset,
        )
        with self.lock:
            self.faults.append(fault)
        return fault

    def inject_secondary_rate_limit(
        self,
        method: str | None,
        path_regex: str,
        *,
        times: int | None = 1,
        retry_after: int | None = 1,
    ) -> Fault:
        """GitHub's secondary rate limit: 403, its message, `retry-after` and the (non-zero)
        primary rate-limit headers."""
        headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
        fault = self.inject(
            method, path_regex, 403, times=times, headers=headers, body=secondary_limit_body()
        )
        fault.rate_headers = True
        return fault

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.matches(method, path):
                fault.hits += 1
                return fault
        return None

    # --- recording ---------------------------------------------------------------------------

    def find(
        self, method: str | None = None, path: str | None = None, forge: str | None = None
    ) -> list[RecordedRequest]:
        """Recorded requests with this method and a raw path matching `path` (re.search)."""
        with self.lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method.upper())
                and (path is None or re.search(path, r.path))
                and (forge is None or r.forge == forge)
            ]

    def count(
        self, method: str | None = None, path: str | None = None, forge: str | None = None
    ) -> int:
        return len(self.find(method, path, forge))

    def clear_requests(self) -> None:
        with self.lock:
            self.requests.clear()

    def __iter__(self) -> Iterator[RecordedRequest]:
        with self.lock:
            return iter(list(self.requests))

    # --- serving -----------------------------------------------------------------------------

    def _which(self, path: str) -> tuple[str | None, str]:
        if path == GITLAB_ROOT or path.startswith(GITLAB_ROOT + "/"):
            return "gitlab", path[len(GITLAB_ROOT) :] or "/"
        if path == self.github_prefix or path.startswith(self.github_prefix + "/"):
            return "github", path[len(self.github_prefix) :] or "/"
        return None, path

    def _dispatch(self, handler: _Handler, body: bytes) -> None:
        split = urlsplit(handler.path)
        pairs = parse_qsl(split.query, keep_blank_values=True)
        headers: CaseInsensitiveDict[str] = CaseInsensitiveDict(handler.headers.items())
        forge, rel_path = self._which(split.path)
        try:
            parsed = json.loads(body) if body else None
        except (ValueError, UnicodeDecodeError):
            parsed = None
        record = RecordedRequest(
            handler.command, split.path, dict(pairs), headers, body, parsed, time.time(), forge
        )
        with self.lock:
            self.requests.append(record)
            fault = self._take_fault(handler.command, split.path)
        record.fault = fault
        if fault is not None:
            if fault.delay:
                self._stopping.wait(fault.delay)
            if fault.reset:
                handler.reset()
                return
            if fault.status is not None:
                self._send(handler, record, self._fault_reply(fault, forge, headers))
                return
        self._send(
            handler, record, self._answer(forge, handler.command, rel_path, pairs, headers, body)
        )

    def _ctx(
        self,
        method: str,
        path: str,
        pairs: list[tuple[str, str]],
        headers: CaseInsensitiveDict[str],
        body: bytes,
        api_root: str,
    ) -> Ctx:
        return Ctx(
            method, path, {}, dict(pairs), pairs, None, headers, None, api_root, self.base_url, body
        )

    def _answer(
        self,
        forge: str | None,
        method: str,
        path: str,
        pairs: list[tuple[str, str]],
        headers: CaseInsensitiveDict[str],
        body: bytes,
    ) -> Reply:
        if method == "HEAD":
            method = "GET"
        with self.lock:
            if forge == "gitlab":
                return self.gitlab_api.handle(
                    self._ctx(method, path, pairs, headers, body, self.gitlab_url)
                )
            if forge == "github":
                return self.github_api.handle(
                    self._ctx(method, path, pairs, headers, body, self.github_url)
                )
        return Reply(404, {"message": "Not Found"})

    def _fault_reply(
        self, fault: Fault, forge: str | None, headers: CaseInsensitiveDict[str]
    ) -> Reply:
        status = fault.status or 500
        body = fault.body
        if body is None:
            phrase = HTTPStatus(status).phrase
            if status >= 500:
                body = f"<html><body><h1>{status} {phrase}</h1></body></html>\n"
            elif forge == "gitlab":
                body = "Retry later\n" if status == 429 else {"message": f"{status} {phrase}"}
            else:
                body = {
                    "message": phrase,
                    "documentation_url": "https://docs.github.com/rest",
                    "status": str(status),
                }
        extra: dict[str, str] = {}
        if fault.rate_headers and forge == "github":
            with self.lock:
                auth = headers.get("Authorization", "")
                identity = self.github.tokens.get(auth.split(" ", 1)[-1].strip()) if auth else None
                extra = self.github_api.rate_headers(self.github_api.budget_for(identity))
        return Reply(status, body, {**extra, **fault.headers})

    def _send(self, handler: _Handler, record: RecordedRequest, reply: Reply) -> None:
        headers = dict(reply.headers)
        body = reply.body
        if body is None or reply.status in (204, 304):
            data = b""
        elif isinstance(body, bytes):
            data = body
            headers.setdefault("Content-Type", "application/octet-stream")
        elif isinstance(body, str):
            data = body.encode()
            headers.setdefault(
                "Content-Type", "text/html; charset=utf-8" if body.startswith("<") else "text/plain"
            )
        else:
            data = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        record.status = reply.status
        record.response_headers = headers
        try:
            handler.send_response(reply.status)
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            if handler.command != "HEAD" and data:
                handler.wfile.write(data)
        except OSError:  # the client gave up (timeout) and closed the socket
            handler.close_connection = True
