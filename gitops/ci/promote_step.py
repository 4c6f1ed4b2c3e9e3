"""The action's ``command: promote``: open (or update) the promotion PR/MR for the ``name``,
``version``, ``stage`` and ``reason`` inputs (``workflows/promote.yml``'s form, GitLab's web
pipeline). The person who started the run is the requester; the PR/MR's URL is an output.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from gitops.ci.context import Context, Platform
from gitops.ci.reporter import Reporter
from gitops.errors import GitopsError, UsageError
from gitops.markdown import code, escape
from gitops.promote import times

if TYPE_CHECKING:
    from gitops.ci.action import Inputs, RunRecord


def default_branch(ctx: Context, env: Mapping[str, str]) -> str:
    """The branch promotion PRs/MRs target: the repository's default branch as the platform
    says it (GitHub's event payload, GitLab's CI_DEFAULT_BRANCH), else the run's branch."""
    if ctx.platform == Platform.GITLAB and env.get("CI_DEFAULT_BRANCH"):
        return env["CI_DEFAULT_BRANCH"]
    if ctx.platform == Platform.GITHUB and env.get("GITHUB_EVENT_PATH"):
        try:
            with open(env["GITHUB_EVENT_PATH"], encoding="utf-8") as f:
                payload = json.load(f)
            branch = (payload.get("repository") or {}).get("default_branch")
        except (OSError, ValueError, AttributeError):
            branch = None
        if isinstance(branch, str) and branch:
            return branch
    if ctx.ref.startswith("refs/heads/"):
        return ctx.ref.removeprefix("refs/heads/")
    raise UsageError("cannot tell the default branch: run the promotion from a branch")


def checkout_and_run(
    ctx: Context,
    inputs: Inputs,
    repo: Path,
    reporter: Reporter,
    record: RunRecord,
    env: Mapping[str, str],
) -> None:
    """The checkout completed as for every command (every registry tag: the stage's history
    and what it holds), then ``run``."""
    from gitops.ci import checkout

    checkout.prepare(ctx, repo, reporter, "promote")
    run(ctx, inputs, repo, reporter, record, env)


def run(
    ctx: Context,
    inputs: Inputs,
    repo: Path,
    reporter: Reporter,
    record: RunRecord,
    env: Mapping[str, str],
) -> None:
    """Check the names first (a typo costs no forge request), then open or update the PR/MR."""
    from gitops.ci.report_step import _links
    from gitops.forge import forge_for
    from gitops.promote.open import check_candidate, promote
    from gitops.registry.reader import load_registry

    missing = [k for k in ("name", "version", "stage") if not getattr(inputs, k)]
    if missing:
        raise UsageError(
            f"command `promote` needs the inputs {', '.join(missing)} "
            "(the artifact, its registered version and the stage)"
        )
    registry = load_registry(repo)
    for warning in registry.warnings:
        reporter.warning(warning)
    config = None
    if (repo / inputs.config).is_file():
        from gitops.config import load_config

        config = load_config(repo, inputs.config)
    check_candidate(registry, config, inputs.name, inputs.version, inputs.stage)
    forge = forge_for(ctx, log=reporter.log)
    if forge is None:
        raise GitopsError("no forge API to open the promotion on: the run has no token")
    if ctx.platform == Platform.GITHUB and ctx.read_only_token:
        raise GitopsError(
            "the token is read-only: a promotion needs contents and pull-requests: write"
        )
    requester = ctx.actor or forge.whoami()
    base = default_branch(ctx, env)
    start = ctx.sha if ctx.sha and ctx.ref == f"refs/heads/{base}" else None  # checked out
    with reporter.group("Promotion"):
        pr = promote(
            repo,
            forge,
            config,
            inputs.name,
            inputs.version,
            inputs.stage,
            inputs.reason,
            requester,
            times.now(),
            base,
            registry=registry,
            start=start,
            links=_links(ctx),
            run_url=ctx.run_url,
            in_ci=True,
            log=reporter.log,
        )
        reporter.log(f"promote: {forge.pr_name(pr.number)}: {pr.url}")
    record.pr_url = pr.url
    record.report_text = (
        f"## Promotion\n\n{code(inputs.name, False)} {code(inputs.version, False)} to "
        f"{code(inputs.stage, False)}, requested by {code(requester, False)}: "
        f"[{escape(forge.pr_name(pr.number))}]({pr.url})\n"
    )
