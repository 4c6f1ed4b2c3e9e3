"""Forge API clients (GitHub, GitLab) behind one interface; see ``base.Forge``."""

from __future__ import annotations

from collections.abc import Callable

from gitops.ci.context import Context, Platform
from gitops.forge.base import Forge
from gitops.forge.http import RetryPolicy


def forge_for(
    ctx: Context,
    *,
    timeout: float = 30.0,
    retry: RetryPolicy | None = None,
    log: Callable[[str], None] | None = None,
) -> Forge | None:
    """The client for the platform we run on, or ``None`` when there is no API to talk to."""
    if not (ctx.api_url and ctx.repository and ctx.token):
        return None
    if ctx.platform == Platform.GITHUB:
        from gitops.forge.github import GitHub

        return GitHub(ctx.api_url, ctx.repository, ctx.token, timeout=timeout, retry=retry, log=log)
    if ctx.platform == Platform.GITLAB:
        from gitops.forge.gitlab import GitLab

        return GitLab(
            ctx.api_url,
            ctx.repository,
            ctx.token,
            token_kind=ctx.token_kind,
            server_url=ctx.server_url,
            timeout=timeout,
            retry=retry,
            log=log,
        )
    return None
