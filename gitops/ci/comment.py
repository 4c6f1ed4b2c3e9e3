"""Post a report as the sticky PR/MR comment, or, when the token may not, into the summary.

A pull request from a fork gets a read-only GITHUB_TOKEN, and GitLab's job token cannot write
notes: in both cases the report goes into the job summary with a warning, and the job goes on.
"""

from __future__ import annotations

from gitops.ci.context import Context
from gitops.ci.reporter import Reporter
from gitops.errors import GitopsError
from gitops.forge.base import Forge, ForgePermissionError


def publish(
    ctx: Context,
    forge: Forge | None,
    reporter: Reporter,
    key: str,
    body: str,
    mode: str = "update",
) -> str:
    """The comment's URL, or "" when it went to the summary (or nowhere, with mode off)."""
    if mode == "off" or ctx.pr_number is None:
        return ""
    if forge is None or ctx.read_only_token:
        why = "the token is read-only (a pull request from a fork?)" if forge else "no forge API"
        reporter.warning(f"not commenting on #{ctx.pr_number}: {why}; the report is in the summary")
        reporter.write_summary(body)
        return ""
    try:
        result = forge.upsert_comment(ctx.pr_number, key, body, mode, full_text_at=ctx.run_url)
    except ForgePermissionError as exc:
        reporter.warning(f"not commenting on #{ctx.pr_number}: {exc}; the report is in the summary")
        reporter.write_summary(body)
        return ""
    except GitopsError as exc:
        reporter.warning(f"could not comment on #{ctx.pr_number}: {exc}")
        reporter.write_summary(body)
        return ""
    reporter.log(f"comment {result.action}: {result.url} ({result.requests} API requests)")
    return result.url
