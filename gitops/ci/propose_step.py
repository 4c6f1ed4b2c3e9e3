"""Automatic proposals in the scheduled reconcile (``policies.<stage>.promote``): after the
deploys, each version that has soaked healthily in its stage gets the promotion PR/MR to the
next stage opened (or updated). The pipeline proposes; a person merges.

A version is proposed once: an open PR/MR whose request already asks for it is left alone (not
edited, no new commit), and so is one that people closed without merging (its branch still
asks for that version): the hourly schedule must not nag. Read-only tokens and forge failures
are warnings: the reconcile itself has already done its work.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gitops.ci.context import Context, EventKind, Platform
from gitops.ci.reporter import Reporter
from gitops.errors import GitopsError
from gitops.markdown import code, escape, link, table

if TYPE_CHECKING:
    from gitops.ci.action import Inputs, RunRecord
    from gitops.config import GitopsConfig
    from gitops.deploy.state import LiveState
    from gitops.forge.base import Forge
    from gitops.promote.propose import Due, NotYet
    from gitops.registry.reader import Registry

BOT = "gitops"  # the requester of a scheduled proposal


@dataclass(frozen=True)
class Outcome:
    """What became of one due promotion: its PR/MR (``url``) and what was done."""

    due: Due
    action: str  # "opened", "updated", "already proposed", "declined", "failed", "not proposed"
    url: str = ""
    label: str = ""  # "pull request #7", "merge request !7"
    detail: str = ""


def wanted(ctx: Context, inputs: Inputs) -> bool:
    """Proposals belong to the reconcile: a scheduled run (command auto) or `reconcile`."""
    if inputs.command == "reconcile":
        return True
    return inputs.command == "auto" and ctx.event == EventKind.SCHEDULE


def run(
    ctx: Context,
    inputs: Inputs,
    repo: Path,
    config: GitopsConfig,
    registry: Registry,
    reporter: Reporter,
    record: RunRecord,
) -> None:
    """Propose what is due; the outcome goes to the log, the summary and the ``proposals``
    output. Never fails the run (a proposal is an offer, not a deploy)."""
    if not wanted(ctx, inputs) or not any(p.promote for p in config.policies.values()):
        return
    from gitops.promote import times
    from gitops.promote.propose import due

    with reporter.group("Automatic proposals"):
        state = _state(ctx, config, registry.root)
        ready, waiting = due(config, registry, state, times.now())
        for wait in waiting:
            reporter.log(
                f"proposal: {wait.artifact} {wait.version} for {wait.target}: not yet, {wait.why}"
            )
        if not ready:
            reporter.log("proposal: no promotion is due")
        outcomes = _propose(ctx, inputs, repo, config, registry, state, ready, reporter)
    record.proposals = json.dumps(
        [o.url for o in outcomes if o.url and o.action != "declined"], separators=(",", ":")
    )
    record.proposals_markdown = markdown(outcomes, waiting)


def _state(ctx: Context, config: GitopsConfig, root: Path) -> LiveState:
    """The state store as the deploys of this run left it (every environment: the plan in a
    proposal's body covers the target stage too)."""
    from gitops.ci.deploy_step import read_state

    state = read_state(ctx, config, root)
    return state


def _propose(
    ctx: Context,
    inputs: Inputs,
    repo: Path,
    config: GitopsConfig,
    registry: Registry,
    state: LiveState,
    ready: list[Due],
    reporter: Reporter,
) -> list[Outcome]:
    from gitops.forge import forge_for

    if not ready:
        return []
    names = ", ".join(f"{d.artifact} {d.version} for {d.target}" for d in ready)
    if inputs.dry_run:
        reporter.log(f"proposal: dry run, not proposed: {names}")
        return [Outcome(d, "not proposed", detail="dry run") for d in ready]
    forge = forge_for(ctx, log=reporter.log)
    blocked = _no_write(ctx, forge)
    if forge is None or blocked:
        reporter.warning(f"due promotions not proposed ({names}): {blocked}")
        return [Outcome(d, "not proposed", detail=blocked) for d in ready]
    outcomes: list[Outcome] = []
    for item in ready:
        outcome = _one(ctx, repo, config, registry, state, forge, item, reporter)
        outcomes.append(outcome)
        if outcome.action == "failed" and outcome.detail.startswith(NO_PERMISSION):
            rest = ready[len(outcomes) :]
            if rest:
                reporter.log(f"proposal: not tried with this token: {len(rest)} more")
            outcomes += [Outcome(d, "not proposed", detail=outcome.detail) for d in rest]
            break
    return outcomes


NO_PERMISSION = "the token may not open it"


def _no_write(ctx: Context, forge: Forge | None) -> str:
    """Why this run cannot open PRs/MRs at all ("" when it may try)."""
    if forge is None:
        return "the run has no token for the forge API"
    if ctx.read_only_token:
        return "the token is read-only"
    if ctx.platform == Platform.GITLAB and ctx.token_kind == "job":
        return (
            "CI_JOB_TOKEN cannot create branches or merge requests: set GITOPS_TOKEN (a project "
            "access token, `api` scope, Developer role) as a masked CI/CD variable"
        )
    return ""


def _one(
    ctx: Context,
    repo: Path,
    config: GitopsConfig,
    registry: Registry,
    state: LiveState,
    forge: Forge,
    item: Due,
    reporter: Reporter,
) -> Outcome:
    """Open or update the PR/MR of ``item``, unless one already asks for that version."""
    from gitops.ci.promote_step import default_branch
    from gitops.ci.report_step import _links
    from gitops.forge.base import ForgePermissionError
    from gitops.forge.http import ForgeError
    from gitops.promote import times
    from gitops.promote.open import promote
    from gitops.promote.request import branch_name

    what = f"{item.artifact} {item.version} for {item.target}"
    try:
        base = default_branch(ctx, os.environ)
        branch = branch_name(item.target, item.artifact)
        asked = _asked_version(forge, branch, item)
        existing = forge.find_pr_for_branch(branch, base)
        if existing is not None and asked == item.version:
            reporter.log(f"proposal: {what}: already proposed in {existing.url}")
            label = forge.pr_name(existing.number)
            return Outcome(item, "already proposed", existing.url, label)
        if existing is None and asked == item.version:
            why = (
                f"{branch} already asks for it and no PR/MR is open: closed without merging? "
                "Delete the branch to have it proposed again"
            )
            reporter.log(f"proposal: {what}: not proposed again, {why}")
            return Outcome(item, "declined", detail=why)
        start = ctx.sha if ctx.sha and ctx.ref == f"refs/heads/{base}" else None
        pr = promote(
            repo,
            forge,
            config,
            item.artifact,
            item.version,
            item.target,
            item.reason,
            requester(ctx),
            times.now(),
            base,
            registry=registry,
            state=state,
            start=start,
            links=_links(ctx),
            run_url=ctx.run_url,
            in_ci=True,
            log=reporter.log,
        )
    except GitopsError as exc:
        denied = isinstance(exc, ForgePermissionError) or (
            isinstance(exc, ForgeError) and exc.status in (401, 403)
        )
        detail = f"{NO_PERMISSION}: {exc}" if denied else str(exc)
        reporter.warning(f"proposal: {what} not proposed: {detail}")
        return Outcome(item, "failed", detail=detail)
    action = "updated" if existing is not None else "opened"
    reporter.log(f"proposal: {what}: {forge.pr_name(pr.number)} {action}: {pr.url}")
    return Outcome(item, action, pr.url, forge.pr_name(pr.number))


def _asked_version(forge: Forge, branch: str, item: Due) -> str | None:
    """The version the request file on ``branch`` asks for (None: no branch, no file, or one
    that does not parse: then it is proposed, which rewrites it)."""
    from gitops.promote.request import parse_request, request_path
    from gitops.yamlfile import YamlFileError

    path = request_path(item.target, item.artifact)
    text = forge.file_text(branch, path)
    if text is None:
        return None
    try:
        return parse_request(text, path).version
    except (YamlFileError, GitopsError, ValueError):
        return None


def requester(ctx: Context) -> str:
    """Who asks: on a schedule the pipeline itself (GitHub's actor there is whoever last
    edited the workflow file, who asked for nothing); a reconcile started by hand, its person."""
    if ctx.event == EventKind.SCHEDULE or not ctx.actor:
        return BOT
    return ctx.actor


def markdown(outcomes: list[Outcome], waiting: list[NotYet]) -> str:
    """The job summary's "Proposals" section: each due promotion and its PR/MR, then what
    waits and why. Every value is escaped (names and reasons reach people)."""
    if not outcomes and not waiting:
        return ""
    lines = ["", "## Proposals", ""]
    if outcomes:
        rows = []
        for o in outcomes:
            where = link(o.label or o.url, o.url) if o.url else ""
            note = escape(o.detail) if o.detail else ""
            rows.append(
                [
                    code(o.due.artifact),
                    code(o.due.version),
                    f"{code(o.due.source)} → {code(o.due.target)}",
                    escape(o.action),
                    " ".join(x for x in (where, note) if x),
                ]
            )
        lines += [table(["artifact", "version", "stages", "proposal", "PR/MR"], rows), ""]
    else:
        lines += ["No promotion is due.", ""]
    if waiting:
        lines += ["Waiting:", ""]
        for w in waiting:
            lines.append(
                f"- {code(w.artifact, False)} {code(w.version, False)} for "
                f"{code(w.target, False)}: {escape(w.why)}"
            )
        lines.append("")
    return "\n".join(lines)
