"""Which CI this process runs in, and its Context: the one module that knows every platform
(``context`` is the data alone, so the platforms' modules import it and nothing imports back)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from gitops.ci.context import Context, EventKind, Platform


def detect(env: Mapping[str, str], cwd: Path | None = None) -> Context:
    """The Context for this process: GitHub Actions, GitLab CI, or a plain terminal."""
    if env.get("GITHUB_ACTIONS") == "true":
        from gitops.ci import github

        return github.context_from_env(env)
    if env.get("GITLAB_CI") == "true":
        from gitops.ci import gitlab

        return gitlab.context_from_env(env)
    return Context(
        platform=Platform.LOCAL,
        event=EventKind.MANUAL,
        event_name="manual",
        workspace=cwd or Path.cwd(),
        token=env.get("GITOPS_TOKEN", ""),
    )
