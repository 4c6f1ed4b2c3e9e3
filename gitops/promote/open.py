"""Open (or update) a promotion PR/MR: the request file on its own branch, committed through the
forge API, with the report of the candidate against what the stage holds as its body.

Nothing is pushed with git and no tag is made here: merging the PR/MR does that
(``gitops.promote.merge``). The same artifact and stage again reuses the branch and the open
PR/MR (a new commit of the file, a new body), so there is one review per promotion.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from gitops.errors import GitopsError, UsageError
from gitops.markdown import code, escape
from gitops.promote.request import PromotionRequest, branch_name
from gitops.report.compare import Links, no_links

if TYPE_CHECKING:
    from gitops.config import GitopsConfig
    from gitops.deploy.plan import Plan
    from gitops.deploy.state import LiveState
    from gitops.forge.base import Forge, PullRequest
    from gitops.registry.reader import Registry
    from gitops.registry.state import Version
    from gitops.report.model import Report

Log = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class Candidate:
    """A version checked to exist and to be promotable into the stage."""

    artifact: str
    version: str
    commit: str
    stage: str
    held: str | None  # what the stage holds now (None: nothing)


def check_candidate(
    registry: Registry, config: GitopsConfig | None, name: str, version: str, stage: str
) -> Candidate:
    """The names checked before any forge request: an unknown artifact, version or stage, or a
    version the stage already holds, is one UsageError saying what exists instead."""
    from gitops.deploy.names import did_you_mean, used_stages
    from gitops.registry.moves import stage_holders
    from gitops.registry.tags import is_valid_fullname, is_valid_name

    if not is_valid_fullname(name):
        raise UsageError(f"invalid artifact name {name!r}")
    if name in registry.state.conflicts:
        raise UsageError(str(registry.state.conflicts[name]))
    artifact = registry.state.artifacts.get(name)
    if artifact is None:
        hint = did_you_mean(name, registry.state.artifacts)
        raise UsageError(f"unknown artifact {name!r}: no tag registers it" + _tail(hint))
    found = _registered(artifact.versions, version)
    if found is None:
        known = [v.version for v in artifact.versions if v.is_registered and v.is_active]
        hint = did_you_mean(version, known) or ("registered: " + ", ".join(known[-5:]))
        if not known:
            hint = f"register one first (gitops register {name})"
        raise UsageError(f"{name} has no registered version {version!r}" + _tail(hint))
    if not is_valid_name(stage):
        raise UsageError(f"invalid stage name {stage!r}")
    allowed = registry.config.stages
    if allowed is not None:
        if stage not in allowed:
            hint = did_you_mean(stage, allowed)
            listed = ", ".join(allowed) or "none"
            raise UsageError(f"unknown stage {stage!r}: .gto allows {listed}" + _tail(hint))
    else:
        known_stages = used_stages(registry)
        if config is not None:
            known_stages |= {env.stage for env in config.environments.values()}
            known_stages |= set(config.policies)
        if stage not in known_stages:
            hint = did_you_mean(stage, known_stages)
            raise UsageError(
                f"unknown stage {stage!r}: no tag, environment or policy uses it"
                + _tail(hint or "a new stage? list it in .gto (stages:) or gitops.yaml first")
            )
    held = stage_holders(registry, only=[name]).get((name, stage))
    if held is not None and held.version == version:
        raise UsageError(f"{stage} already holds {name} {version}: nothing to promote")
    return Candidate(name, version, found.commit, stage, held.version if held else None)


def _tail(hint: str) -> str:
    return f" ({hint})" if hint else ""


def _registered(versions: list[Version], version: str) -> Version | None:
    found = [v for v in versions if v.version == version and v.is_registered and v.is_active]
    return found[0] if len(found) == 1 else None


def iso_utc(now: datetime) -> str:
    """``2026-12-05T00:50:00Z``: the request file's form of ``now`` (timezone-aware)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def stage_plan(
    registry: Registry, config: GitopsConfig, live: LiveState, candidate: Candidate
) -> Plan:
    """What the environments of the stage would do once it holds the candidate: the plan as
    ``plan`` makes it, with the candidate in the stage (``after:`` waits included)."""
    from gitops.deploy.plan import (
        Action,
        Plan,
        action_kind,
        artifact_info,
        desired_state,
        waits_for,
        with_upstreams,
    )
    from gitops.registry.moves import Holder

    envs = config.environments_for(candidate.stage)
    info = artifact_info(registry)
    desired = desired_state(registry, config, with_upstreams(config, envs), info)
    want = Holder(candidate.version, candidate.commit)
    for env_name in envs:
        if candidate.artifact in desired.get(env_name, {}):
            desired[env_name][candidate.artifact] = want
    plan = Plan()
    for env_name in envs:
        if candidate.artifact not in desired.get(env_name, {}):
            continue  # the environment does not serve it
        env = config.environments[env_name]
        have = live.live(env_name, candidate.artifact)
        running = have.version if have is not None else None
        kind = action_kind(running, want, env.prune, registry, candidate.artifact)
        waiting: tuple[str, ...] = ()
        if kind in ("deploy", "update", "rollback"):
            waiting = waits_for(
                config, env_name, kind, candidate.artifact, candidate.version, live, desired
            )
        path = info[candidate.artifact].path if candidate.artifact in info else None
        plan.actions.append(
            Action(
                env_name,
                candidate.artifact,
                env.stage,
                kind,
                running,
                candidate.version,
                candidate.commit,
                path,
                waiting=waiting,
            )
        )
    return plan


def read_live(config: GitopsConfig, root: Path, stage: str, in_ci: bool) -> LiveState:
    """The state store's word on the stage's environments and those they wait for."""
    from gitops.deploy.plan import with_upstreams
    from gitops.deploy.store import open_store

    envs = with_upstreams(config, config.environments_for(stage))
    state, _ = open_store(config.state, root, in_ci).read(envs)
    return state


def default_tip(repo: Path, base_branch: str) -> str:
    """The commit the request branch starts from: origin's ``base_branch`` as this clone last
    fetched it, else the local branch of that name."""
    from gitops.registry.git import run_git

    for ref in (f"refs/remotes/origin/{base_branch}", f"refs/heads/{base_branch}"):
        try:
            out = run_git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        except GitopsError:
            continue
        return out.decode().strip()
    raise UsageError(
        f"no branch {base_branch!r} in {repo}: fetch it first (git fetch origin {base_branch})"
    )


def policy_lines(config: GitopsConfig | None, stage: str) -> list[str]:
    """What the stage's policy asks of this PR/MR, in words (Markdown, escaped)."""
    policy = config.policies.get(stage) if config is not None else None
    if policy is None:
        return []
    rules = []
    if policy.after:
        soak = f" for at least {policy.soak}" if policy.soak else ""
        where = ", ".join(code(s, False) for s in policy.after)
        rules.append(f"healthy in {where}{escape(soak)} first")
    if policy.approvals:
        rules.append(f"{policy.approvals} approval(s)")
    if policy.actors is not None:
        rules.append("merged by one of " + ", ".join(code(a, False) for a in policy.actors))
    if policy.signed_tags:
        rules.append("a signed stage tag")
    if policy.gates:
        rules.append("the metric gates pass")
    if policy.freeze:
        label = f" (label {code(policy.override_label, False)} lifts them)"
        rules.append(
            f"no freeze window open ({len(policy.freeze)} set)"
            + (label if policy.override_label else "")
        )
    if not rules:
        return []
    return [f"Policy for {code(stage, False)}: " + "; ".join(rules) + "."]


def render_body(
    request: PromotionRequest,
    *,
    what: str,
    held: str | None,
    environments: list[str],
    report_markdown: str,
    plan_markdown: str,
    policy: list[str],
) -> str:
    """The PR/MR body: who asks for what and why, what merging does, then the report (with the
    plan in it) or the plan alone. Every value from people is escaped."""
    r = request
    short = r.commit[:12]
    lines = [
        f"# Promote {code(r.artifact, False)} {code(r.version, False)} to {code(r.stage, False)}",
        "",
        f"Requested by {code(r.requested_by, False)} at {escape(r.created_at)}.",
    ]
    if r.reason.strip():
        lines.append(f"Reason: {escape(r.reason)}")
    lines.append("")
    now = (f"{code(r.stage, False)} holds {code(held, False)} now"
           if held else f"{code(r.stage, False)} holds no version of it yet")  # fmt: skip
    lines.append(f"{now}; the candidate is commit {code(short, False)}.")
    if environments:
        deploy = "deploys it to " + ", ".join(code(e, False) for e in environments)
    else:
        deploy = "deploys it to the environments of that stage (none is configured)"
    lines += [
        "",
        f"**Merging this {what} creates the stage tag** "
        f"({code(f'{r.artifact}#{r.stage}#N', False)}, GTO's next counter) on that commit and "
        f"{deploy} in the same run. The request file {code(r.path, False)} stays as the record.",
    ]
    if policy:
        lines += ["", *policy]
    body = "\n".join(lines) + "\n"
    if report_markdown:
        return body + "\n" + report_markdown
    if plan_markdown:
        return body + "\n" + plan_markdown
    return body


def promote(
    repo: Path,
    forge: Forge,
    config: GitopsConfig | None,
    name: str,
    version: str,
    stage: str,
    reason: str,
    requester: str,
    now: datetime,
    base_branch: str,
    *,
    registry: Registry | None = None,
    state: LiveState | None = None,
    start: str | None = None,
    links: Links = no_links,
    run_url: str = "",
    in_ci: bool = False,
    log: Log = _quiet,
) -> PullRequest:
    """The promotion PR/MR for ``name`` ``version`` into ``stage``, opened or updated.

    ``registry``/``state``: read from ``repo`` when not given; ``start``: the commit a new
    branch starts from (default: origin's ``base_branch`` in this clone).
    """
    from gitops.registry.git import repo_root
    from gitops.registry.reader import load_registry

    root = repo_root(repo)
    registry = load_registry(root) if registry is None else registry
    candidate = check_candidate(registry, config, name, version, stage)
    request = PromotionRequest(
        artifact=name,
        version=version,
        stage=stage,
        commit=candidate.commit,
        requested_by=requester,
        reason=reason,
        created_at=iso_utc(now),
    )
    plan_md, envs = "", []
    if config is not None:
        from gitops.deploy.render import plan_markdown
        from gitops.deploy.sources import attach

        envs = config.environments_for(stage)
        if envs:
            live = read_live(config, root, stage, in_ci) if state is None else state
            plan_md = plan_markdown(attach(stage_plan(registry, config, live, candidate), root))
    report_md = _report(root, registry, config, candidate, plan_md, links, run_url)
    what = "merge request" if forge.pr_name(1).startswith("merge") else "pull request"
    body = render_body(
        request,
        what=what,
        held=candidate.held,
        environments=envs,
        report_markdown=report_md,
        plan_markdown=plan_md,
        policy=policy_lines(config, stage),
    )
    from gitops.forge.base import fit_body

    body, _ = fit_body(body, forge.comment_limit, "")
    branch = branch_name(stage, name)
    tip = start or default_tip(root, base_branch)
    if forge.create_branch(branch, tip):
        log(f"promote: branch {branch} created from {base_branch} ({tip[:7]})")
    else:
        log(f"promote: branch {branch} exists: the request is updated there")
    title = f"Promote {name} {version} to {stage}"
    message = f"{title}\n\nRequested by {requester}." + (f"\n\n{reason}" if reason else "")
    sha = forge.commit_files(branch, {request.path: request.to_yaml()}, message)
    log(f"promote: {request.path} committed on {branch} ({sha[:7]})")
    return forge.open_pr(branch, base_branch, title, body)


def _report(
    root: Path,
    registry: Registry,
    config: GitopsConfig | None,
    candidate: Candidate,
    plan_md: str,
    links: Links,
    run_url: str,
) -> str:
    """The candidate against what the stage holds (gates and the stage's history included),
    with the plan in it; "" when the repository has no metrics, params or plots files."""
    from gitops.ci.report_step import worth_showing
    from gitops.report.build import repo_template
    from gitops.report.render import markdown

    settings = config.reports if config is not None else None
    report = candidate_report(root, registry, config, candidate, plan_md, links, run_url)
    if not worth_showing(report):
        return ""
    return markdown(report, repo_template(root, settings))


def candidate_report(
    root: Path,
    registry: Registry,
    config: GitopsConfig | None,
    candidate: Candidate,
    plan_md: str = "",
    links: Links = no_links,
    run_url: str = "",
) -> Report:
    """The report of the candidate against what the stage holds now: the promotion PR's body,
    and the gates a policy checks at merge."""
    from gitops.report import compare
    from gitops.report.build import build_report
    from gitops.report.model import DEFAULT_HISTORY

    settings = config.reports if config is not None else None
    name, stage = candidate.artifact, candidate.stage
    comparison = compare.candidate(registry, name, stage, candidate.version, links)
    count = settings.history if settings is not None else DEFAULT_HISTORY
    held = compare.stage_history(registry, name, stage, count)
    head = comparison.head
    if count and (not held or held[-1].sha != head.sha):  # where it would land
        held = [*held, compare.HeldVersion(head.version or "", head.sha, "(candidate)")][-count:]
    return build_report(
        root, settings, comparison, history=held, plan_markdown=plan_md, run_url=run_url
    )
