"""Where we run and what happened: one ``Context`` built from GitHub's, GitLab's or no CI's env.

Everything after this module reads the Context, never the environment, so the rest of the code
is the same on every platform and tests can build a Context directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

ZERO_SHA = "0" * 40


class Platform(StrEnum):
    GITHUB = "github"
    GITLAB = "gitlab"
    LOCAL = "local"


class EventKind(StrEnum):
    TAG_PUSH = "tag_push"
    TAG_DELETE = "tag_delete"
    BRANCH_PUSH = "branch_push"
    PULL_REQUEST = "pull_request"
    SCHEDULE = "schedule"
    MANUAL = "manual"
    OTHER = "other"


@dataclass(frozen=True)
class Context:
    platform: Platform
    event: EventKind
    event_name: str  # the platform's own name: "push", "merge_request_event", ...
    workspace: Path
    ref: str = ""  # full ref: refs/tags/x, refs/heads/main, refs/pull/1/merge
    sha: str = ""  # the commit (never a tag object)
    before: str = ""  # the previous sha of the ref, when the platform says
    repository: str = ""  # owner/repo or group/project
    server_url: str = ""
    api_url: str = ""
    pr_number: int | None = None
    pr_title: str = ""
    head_ref: str = ""  # PR/MR source branch
    base_ref: str = ""  # PR/MR target branch
    head_sha: str = ""  # PR/MR head commit (GitHub's ``sha`` is the merge commit)
    base_sha: str = ""  # the target branch's tip when the event was made (GitHub)
    diff_base_sha: str = ""  # the merge base, when the platform says (GitLab)
    actor: str = ""
    run_url: str = ""
    token: str = field(default="", repr=False)
    token_kind: str = ""  # "github", "private" (GitLab access token), "job" (CI_JOB_TOKEN)
    read_only_token: bool = False  # a fork PR on GitHub

    @property
    def tag(self) -> str | None:
        """The tag the event is about, if any."""
        return self.ref.removeprefix("refs/tags/") if self.ref.startswith("refs/tags/") else None

    @property
    def pr_label(self) -> str:
        """How the platform names the PR/MR: "pull request #7" on GitHub, "merge request !7" on
        GitLab (``#7`` is an issue there)."""
        if self.platform == Platform.GITLAB:
            return f"merge request !{self.pr_number}"
        return f"pull request #{self.pr_number}"

    @property
    def repo_url(self) -> str:
        if not (self.server_url and self.repository):
            return ""
        return f"{self.server_url.rstrip('/')}/{self.repository}"

    def tag_url(self, tag: str) -> str:
        from gitops.markdown import url_part

        if not self.repo_url:
            return ""
        middle = "/-/tags/" if self.platform == Platform.GITLAB else "/releases/tag/"
        return self.repo_url + middle + url_part(tag)

    def commit_url(self, sha: str) -> str:
        if not self.repo_url:
            return ""
        middle = "/-/commit/" if self.platform == Platform.GITLAB else "/commit/"
        return self.repo_url + middle + sha
