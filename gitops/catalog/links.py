"""Links from the catalog to the forge: tags, commits, PRs and runs, when its URL is known.

A URL from the repository's data (a run URL in the state store, a PR URL in a tag message) is a
link only when it is plain http(s); a PR URL only when it is on the repository's own pages (a
tag message could name any site). Everything else is shown as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from gitops.markdown import url_part


@dataclass(frozen=True)
class Links:
    repo_url: str = ""  # https://github.com/owner/repo, https://gitlab.example.com/group/project
    gitlab: bool = False

    @classmethod
    def make(cls, repo_url: str, forge: str | None = None) -> Links:
        url = repo_url.strip().rstrip("/")
        if url and not is_web_url(url):
            from gitops.errors import UsageError

            raise UsageError(f"--repo-url must be an http(s) URL, not {repo_url!r}")
        if forge is None:
            forge = "gitlab" if "gitlab" in urlsplit(url).netloc.lower() else "github"
        return cls(url, forge == "gitlab")

    def tag(self, tag: str) -> str:
        if not self.repo_url or not tag:
            return ""
        middle = "/-/tags/" if self.gitlab else "/releases/tag/"
        return self.repo_url + middle + url_part(tag)

    def commit(self, sha: str) -> str:
        if not self.repo_url or not sha:
            return ""
        middle = "/-/commit/" if self.gitlab else "/commit/"
        return self.repo_url + middle + url_part(sha)

    def pr(self, url: str) -> str:
        """A PR/MR URL from a tag message: a link only on this repository's own pages."""
        if self.repo_url and is_web_url(url) and url.startswith(self.repo_url + "/"):
            return url
        return ""

    def run(self, url: str) -> str:
        """A run URL the state store recorded (our own runs wrote it)."""
        return url if is_web_url(url) else ""


def is_web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in url
