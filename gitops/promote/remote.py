"""The forge of a clone on a laptop: which platform and repository its ``origin`` is, the API
to talk to and the token from the environment. In CI the Context says all this instead.

Credentials in the URL (``https://user:token@host/...``) are never read, kept or printed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from gitops.errors import GitopsError, UsageError

GITHUB_HOSTS = ("github.com",)
GITLAB_HOSTS = ("gitlab.com",)
_SCP = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?P<path>[^/].*)$")  # git@host:owner/repo


@dataclass(frozen=True)
class Remote:
    platform: str  # "github" or "gitlab"
    host: str
    repository: str  # owner/name, or group/subgroup/project
    api_url: str
    server_url: str


def parse_remote_url(url: str) -> tuple[str, str]:
    """(host, path) of a git URL: https, ssh:// or scp-like ``git@host:owner/repo.git``."""
    url = url.strip()
    if "://" in url:
        parts = urlsplit(url)
        host, path = parts.hostname or "", parts.path
    else:
        found = _SCP.match(url)
        if not found:
            raise UsageError("origin is a local path, not a GitHub or GitLab repository")
        host, path = found["host"], found["path"]
    path = path.strip("/").removesuffix(".git")
    if not host or path.count("/") < 1:
        raise UsageError("origin's URL names no owner/repository on a forge")
    return host.lower(), path


def origin_url(repo: Path, remote: str = "origin") -> str:
    from gitops.registry.git import run_git

    try:
        return run_git(repo, "remote", "get-url", "--", remote).decode().strip()
    except GitopsError:
        raise UsageError(
            f"no remote {remote!r} in {repo}: promotions open a pull/merge request on the "
            "forge origin points to"
        ) from None


def resolve_remote(url: str, platform: str | None, api_url: str | None) -> Remote:
    """The forge ``url`` is on. github.com and gitlab.com are known; any other host needs
    ``platform`` (``--forge github|gitlab``: GitHub Enterprise's API is /api/v3, GitLab's
    /api/v4); ``api_url`` overrides where the API is."""
    host, path = parse_remote_url(url)
    if platform is None:
        if host in GITHUB_HOSTS:
            platform = "github"
        elif host in GITLAB_HOSTS:
            platform = "gitlab"
        else:
            raise UsageError(
                f"origin is on {host}: say which forge it is with --forge github or --forge gitlab"
            )
    if platform not in ("github", "gitlab"):
        raise UsageError(f"--forge is {platform!r}: use github or gitlab")
    server = f"https://{host}"
    if api_url is None:
        if platform == "github":
            api_url = "https://api.github.com" if host == "github.com" else f"{server}/api/v3"
        else:
            api_url = f"{server}/api/v4"
    return Remote(platform, host, path, api_url.rstrip("/"), server)


def token_for(platform: str, env: Mapping[str, str]) -> str:
    """GITOPS_TOKEN, else the platform's own variable; a UsageError naming both when neither
    is set (and what the token must be allowed to do)."""
    own = "GITHUB_TOKEN" if platform == "github" else "GITLAB_TOKEN"
    token = env.get("GITOPS_TOKEN", "").strip() or env.get(own, "").strip()
    if not token:
        may = (
            "contents and pull requests: write"
            if platform == "github"
            else "the `api` scope, Developer role"
        )
        raise UsageError(
            f"no token to open the {'pull' if platform == 'github' else 'merge'} request: "
            f"set GITOPS_TOKEN or {own} (a token with {may})"
        )
    return token
