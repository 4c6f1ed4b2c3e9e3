"""Post a report as the sticky PR/MR comment; when the token may not, say so and go on.

A pull request from a fork gets a read-only GITHUB_TOKEN, and GitLab's job token cannot write
notes: in both cases a warning says why, and the job goes on. The report is not written here: the
caller puts it in the job summary on every run, so it is there once whether or not a comment
could be written.
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
    """The comment's URL, or "" when none was written (mode off, or no permission)."""
    if mode == "off" or ctx.pr_number is None:
        return ""
    where = ctx.pr_label
    if forge is None or ctx.read_only_token:
        why = "the token is read-only (a pull request from a fork?)" if forge else "no forge API"
        reporter.warning(f"not commenting on {where}: {why}; the report is in the job summary")
        return ""
    try:
        result = forge.upsert_comment(ctx.pr_number, key, body, mode, full_text_at=ctx.run_url)
    except ForgePermissionError as exc:
        reporter.warning(f"not commenting on {where}: {exc} The report is in the job summary.")
        return ""
    except GitopsError as exc:
        reporter.warning(f"could not comment on {where}: {exc}; the report is in the job summary")
        return ""
    reporter.log(f"comment {result.action}: {result.url} ({result.requests} API requests)")
    return result.url
