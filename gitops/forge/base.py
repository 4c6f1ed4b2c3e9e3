"""What every feature needs from a forge, whichever it is: comments, PRs, branches, files,
deployment records and commit statuses. GitHub and GitLab implement it in their modules.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gitops.errors import GitopsError

MARKER = "<!-- gitops:{key} -->"


class ForgePermissionError(GitopsError):
    """The token may not do this; the message says which token or permission to use."""


@dataclass(frozen=True)
class Comment:
    id: int
    body: str
    author: str
    url: str


@dataclass(frozen=True)
class CommentResult:
    action: str  # "created", "updated", "unchanged" or "skipped"
    url: str
    truncated: bool
    requests: int  # forge calls this took, for the log and the benchmarks


@dataclass(frozen=True)
class PullRequest:
    number: int
    url: str
    head: str
    base: str
    title: str
    state: str


@dataclass(frozen=True)
class MergedPullRequest:
    """A merged PR/MR as a promotion's merge job needs it: who merged, with which labels."""

    number: int
    url: str
    merged_by: str  # the login/username ("" when the forge does not say)
    merged_by_id: int | None  # for the noreply e-mail of the tagger
    labels: tuple[str, ...]


@dataclass(frozen=True)
class Deployment:
    id: int
    environment: str
    url: str


def marker(key: str) -> str:
    return MARKER.format(key=key)


def fit_body(body: str, limit: int, full_text_at: str) -> tuple[str, bool]:
    """``body`` cut at a clean boundary (blank line, else line end) below ``limit`` characters,
    with a note saying where the whole text is. The first line (the marker) is always kept."""
    if len(body) <= limit:
        return body, False
    where = f" The full report is in {full_text_at}." if full_text_at else ""
    note = (
        f"\n\n> **Note:** this report was cut at {{kept:,}} of {len(body):,} characters.{where}\n"
    )
    budget = limit - len(note) - 20
    cut = body.rfind("\n\n", 0, budget)
    if cut < budget // 2:
        cut = body.rfind("\n", 0, budget)
    if cut <= 0:
        cut = budget
    kept = body[:cut].rstrip()
    if kept.count("```") % 2:  # never leave a code fence open
        kept += "\n```"
    unclosed = kept.count("<details>") - kept.count("</details>")
    kept += "\n\n</details>" * max(unclosed, 0)  # nor a folded section
    return kept + note.format(kept=len(kept)), True


class Forge(ABC):
    """A forge API client bound to one repository (GitHub repo or GitLab project)."""

    comment_limit: int

    @abstractmethod
    def whoami(self) -> str:
        """The login whose comments are ours."""

    @abstractmethod
    def list_comments(self, number: int) -> list[Comment]: ...

    @abstractmethod
    def create_comment(self, number: int, body: str) -> Comment: ...

    @abstractmethod
    def update_comment(self, number: int, comment_id: int, body: str) -> Comment: ...

    @property
    @abstractmethod
    def request_count(self) -> int: ...

    def pr_name(self, number: int) -> str:
        """How this forge names a PR/MR in text for people: ``pull request #7`` on GitHub."""
        return f"pull request #{number}"

    def check_can_comment(self) -> None:
        """Raise ``ForgePermissionError`` when the token can never write comments, before any
        request (GitLab's job token). Other refusals only show when the forge answers."""
        return None

    def upsert_comment(
        self, number: int, key: str, body: str, mode: str = "update", full_text_at: str = ""
    ) -> CommentResult:
        """The sticky comment: find our earlier one by its hidden marker (only among comments
        by our own user, across all pages), update it or create one. ``new`` always creates;
        ``off`` does nothing."""
        start = self.request_count
        if mode == "off":
            return CommentResult("skipped", "", False, 0)
        self.check_can_comment()  # anyone can paste our marker: never look for it in vain
        tagged = marker(key)
        text, truncated = fit_body(f"{tagged}\n{body}", self.comment_limit, full_text_at)
        existing: Comment | None = None
        if mode == "update":
            candidates = [c for c in self.list_comments(number) if tagged in c.body]
            if candidates:
                me = self.whoami()
                ours = [c for c in candidates if c.author == me]
                existing = ours[-1] if ours else None
        if existing is not None and existing.body == text:
            return CommentResult("unchanged", existing.url, truncated, self.request_count - start)
        if existing is not None:
            done = self.update_comment(number, existing.id, text)
            return CommentResult("updated", done.url, truncated, self.request_count - start)
        done = self.create_comment(number, text)
        return CommentResult("created", done.url, truncated, self.request_count - start)

    @abstractmethod
    def approvers(self, number: int) -> list[str]:
        """Who approves the PR/MR now (GitHub: each reviewer's latest review is APPROVED and
        not dismissed; GitLab: the MR's approvals), for a policy's ``approvals``."""

    @abstractmethod
    def labels(self, number: int) -> list[str]:
        """The PR/MR's labels now (an override label lifts a freeze window)."""

    @abstractmethod
    def is_member(self, group: str, user: str) -> bool:
        """Whether ``user`` is in the GitHub team ``org/team`` or the GitLab group
        ``group/subgroup`` (inherited membership counts), for a policy's ``actors``."""

    @abstractmethod
    def find_pr_for_commit(self, sha: str) -> PullRequest | None: ...

    @abstractmethod
    def merged_pr(self, sha: str, branch: str) -> MergedPullRequest | None:
        """The merged PR/MR from ``branch`` that brought in commit ``sha`` (its merge commit,
        or one of its commits); else the latest merged one from ``branch``; None if none."""

    @abstractmethod
    def find_pr_for_branch(self, branch: str, base: str | None = None) -> PullRequest | None: ...

    @abstractmethod
    def open_pr(self, head: str, base: str, title: str, body: str) -> PullRequest:
        """Open a PR/MR, or update the open one for the same branch instead of failing."""

    @abstractmethod
    def create_branch(self, name: str, sha: str) -> bool:
        """Create ``name`` at ``sha``; False if it already exists (it is never moved)."""

    @abstractmethod
    def commit_files(
        self, branch: str, files: Mapping[str, str], message: str, start: str | None = None
    ) -> str:
        """Commit ``files`` (path -> text) on ``branch``; returns the new commit sha."""

    @abstractmethod
    def file_text(self, ref: str, path: str) -> str | None:
        """The text of ``path`` at ``ref`` (a branch or commit), None when there is no such
        file (or ref): what an open promotion PR/MR asks for, read without a clone."""

    @abstractmethod
    def create_deployment(
        self,
        environment: str,
        ref: str,
        sha: str,
        description: str = "",
        payload: Mapping[str, Any] | None = None,
        is_tag: bool = True,
    ) -> Deployment: ...

    @abstractmethod
    def set_deployment_status(
        self, deployment: Deployment, state: str, description: str = "", url: str = ""
    ) -> None: ...

    @abstractmethod
    def set_commit_status(
        self, sha: str, state: str, context: str, description: str = "", url: str = ""
    ) -> None: ...
