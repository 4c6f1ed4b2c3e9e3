"""Shared pieces of the test forge: errors, request context, identities, a tiny git, pagination.

The GitHub and GitLab halves (``forge_github``, ``forge_gitlab``) build on these; the server
(``forge_server``) owns the sockets. Nothing here talks to the network.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from requests.structures import CaseInsensitiveDict


class ApiError(Exception):
    """A handler's way out: the status, body and headers the real API would answer with."""

    def __init__(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{status} {body!r}")
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


@dataclass
class Reply:
    """What a handler answers: a dict/list becomes JSON, a str text, bytes as they are."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Identity:
    """Who a token authenticates as, and what the token may do.

    kind: ``github`` (personal access token), ``github-app`` (an installation token such as
    ``GITHUB_TOKEN``), ``gitlab`` (personal access token), ``gitlab-project`` (project access
    token, a bot user) or ``gitlab-job`` (``CI_JOB_TOKEN``: its project only, allowlisted
    endpoints only).
    """

    login: str
    token: str
    kind: str
    user_id: int
    name: str
    read_only: bool = False
    permissions: dict[str, str] | None = None  # GitHub App: {"pull-requests": "write", ...}
    scopes: tuple[str, ...] = ("api",)  # GitLab: "api" or "read_api"
    project: str | None = None  # GitLab job token: the job's project path
    role: str = "developer"  # GitLab: developer / maintainer / owner


@dataclass
class Ctx:
    """One request as a handler sees it (path params already decoded)."""

    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    query_pairs: list[tuple[str, str]]
    body: Any
    headers: CaseInsensitiveDict[str]
    identity: Identity | None
    api_root: str  # e.g. http://127.0.0.1:5000/api/v4
    web_root: str  # e.g. http://127.0.0.1:5000
    raw_body: bytes = b""
    doc: str = ""  # GitHub: the operation's documentation_url, quoted in its errors
    scope: str | None = None  # GitHub App permission the operation needs

    def url(self, path: str, pairs: Iterable[tuple[str, str]] = ()) -> str:
        """An absolute API URL for `path` (as on the wire) with the given query."""
        query = urlencode(list(pairs))
        return f"{self.api_root}{path}" + (f"?{query}" if query else "")


def now_iso(ms: bool = False) -> str:
    """UTC now the way each forge prints it (GitLab adds milliseconds)."""
    stamp = datetime.now(UTC)
    if ms:
        return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def as_bytes(content: str | bytes) -> bytes:
    return content.encode() if isinstance(content, str) else content


def blob_sha(data: bytes) -> str:
    """Git's own blob id, so `sha` values match what `git hash-object` would say."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


@dataclass
class Commit:
    sha: str
    parents: list[str]
    files: dict[str, bytes]
    message: str
    author_name: str
    author_email: str
    date: str

    @property
    def tree_sha(self) -> str:
        entries = "".join(f"{p}\0{blob_sha(d)}\n" for p, d in sorted(self.files.items()))
        return hashlib.sha1(entries.encode(), usedforsecurity=False).hexdigest()


class GitModel:
    """Commits with parents and file snapshots, branches and tags: enough git to say whether an
    update is a fast-forward, which commits a PR adds, and what a file holds on a ref."""

    _counter = itertools.count(1)

    def __init__(self) -> None:
        self.commits: dict[str, Commit] = {}
        self.branches: dict[str, str] = {}
        self.tags: dict[str, str] = {}

    def commit(
        self,
        parents: list[str],
        files: Mapping[str, bytes],
        message: str = "commit",
        author: tuple[str, str] = ("Forge Bot", "bot@forge.test"),
        sha: str | None = None,
    ) -> Commit:
        """Record a commit (a full snapshot of `files`); `sha` forces a known id."""
        for parent in parents:
            if parent not in self.commits:
                raise ValueError(f"unknown parent commit {parent}")
        if sha is None:
            seed = f"{parents}{sorted(files)}{message}{next(self._counter)}{time.time()}"
            sha = hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()
        commit = Commit(sha, list(parents), dict(files), message, *author, now_iso())
        self.commits[sha] = commit
        return commit

    def resolve(self, ref: str) -> str | None:
        """A branch, tag, `refs/...` name, full sha or unique abbreviation (>= 7) to a sha."""
        for prefix, table in (("refs/heads/", self.branches), ("refs/tags/", self.tags)):
            if ref.startswith(prefix):
                return table.get(ref.removeprefix(prefix))
        if ref in self.branches:
            return self.branches[ref]
        if ref in self.tags:
            return self.tags[ref]
        if ref in self.commits:
            return ref
        if len(ref) >= 7 and all(c in "0123456789abcdef" for c in ref):
            found = [sha for sha in self.commits if sha.startswith(ref)]
            if len(found) == 1:
                return found[0]
        return None

    def ancestors(self, sha: str) -> set[str]:
        """`sha` and everything reachable from it."""
        seen: set[str] = set()
        todo = [sha]
        while todo:
            current = todo.pop()
            if current in seen or current not in self.commits:
                continue
            seen.add(current)
            todo.extend(self.commits[current].parents)
        return seen

    def is_ancestor(self, older: str, newer: str) -> bool:
        return older in self.ancestors(newer)

    def between(self, base: str, head: str) -> list[str]:
        """Commits reachable from head but not from base (what a PR/MR would merge)."""
        return sorted(self.ancestors(head) - self.ancestors(base))

    def branches_containing(self, sha: str) -> list[str]:
        return sorted(name for name, head in self.branches.items() if self.is_ancestor(sha, head))


@dataclass
class Page:
    """One page of a list, with what both forges need to describe the rest."""

    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def last(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def github_page(items: list[Any], query: Mapping[str, str], default: int = 30) -> Page:
    """GitHub quietly falls back to defaults on odd values and caps per_page at 100."""
    per_page = _int(query.get("per_page"))
    per_page = default if per_page is None or per_page < 1 else min(per_page, 100)
    page = _int(query.get("page"))
    page = 1 if page is None or page < 1 else page
    start = (page - 1) * per_page
    return Page(items[start : start + per_page], page, per_page, len(items))


def gitlab_page(items: list[Any], query: Mapping[str, str], default: int = 20) -> Page:
    """GitLab (Grape) rejects non-integers with 400 and caps per_page at 100."""
    for name in ("page", "per_page"):
        if name in query and _int(query[name]) is None:
            raise ApiError(400, {"error": f"{name} is invalid"})
    per_page = _int(query.get("per_page"))
    per_page = default if per_page is None or per_page < 1 else min(per_page, 100)
    page = _int(query.get("page"))
    page = 1 if page is None or page < 1 else page
    start = (page - 1) * per_page
    return Page(items[start : start + per_page], page, per_page, len(items))


def _with_page(
    pairs: list[tuple[str, str]], page: int, per_page: int | None
) -> list[tuple[str, str]]:
    kept = [(k, v) for k, v in pairs if k != "page" and (per_page is None or k != "per_page")]
    kept.append(("page", str(page)))
    if per_page is not None:
        kept.append(("per_page", str(per_page)))
    return kept


def github_link(ctx: Ctx, link_path: str, page: Page) -> str | None:
    """GitHub's `Link`: prev, next, last, first; absent when everything fits on one page."""
    if page.total <= page.per_page and page.page == 1:
        return None
    rels: list[tuple[str, int]] = []
    if page.page > 1:
        rels.append(("prev", min(page.page - 1, page.last)))
    if page.page < page.last:
        rels += [("next", page.page + 1), ("last", page.last)]
    if page.page > 1:
        rels.append(("first", 1))
    parts = [
        f'<{ctx.url(link_path, _with_page(ctx.query_pairs, n, None))}>; rel="{rel}"'
        for rel, n in rels
    ]
    return ", ".join(parts)


def gitlab_headers(ctx: Ctx, page: Page) -> dict[str, str]:
    """GitLab's offset-pagination headers; totals are left out above 10,000 rows, as GitLab does."""
    big = page.total > 10_000
    headers = {
        "X-Page": str(page.page),
        "X-Per-Page": str(page.per_page),
        "X-Next-Page": str(page.page + 1) if page.page < page.last else "",
        "X-Prev-Page": str(page.page - 1) if page.page > 1 else "",
    }
    if not big:
        headers["X-Total"] = str(page.total)
        headers["X-Total-Pages"] = str(page.last)
    rels: list[tuple[str, int]] = []
    if page.page > 1:
        rels.append(("prev", page.page - 1))
    if page.page < page.last:
        rels.append(("next", page.page + 1))
    rels.append(("first", 1))
    if not big:
        rels.append(("last", page.last))
    links = [
        f'<{ctx.url(ctx.path, _with_page(ctx.query_pairs, n, page.per_page))}>; rel="{rel}"'
        for rel, n in rels
    ]
    headers["Link"] = ", ".join(links)
    return headers


@dataclass
class RateBudget:
    """One identity's request budget in the current window."""

    limit: int
    remaining: int
    reset: int  # epoch seconds
    window: float

    def refresh(self) -> None:
        if time.time() >= self.reset:
            self.remaining = self.limit
            self.reset = math.ceil(time.time() + self.window)

    @property
    def used(self) -> int:
        return self.limit - self.remaining


@dataclass
class RateConfig:
    """The budget each identity starts with; `status` is what GitHub answers when it runs out."""

    limit: int
    remaining: int | None = None
    reset_in: float = 3600.0
    status: int = 403

    def budget(self) -> RateBudget:
        remaining = self.limit if self.remaining is None else self.remaining
        return RateBudget(
            self.limit, remaining, math.ceil(time.time() + self.reset_in), self.reset_in
        )
