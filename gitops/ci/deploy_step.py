"""The deploy half of a CI run: which environments to plan/apply for this event, the outputs
(``plan``, ``deployments``, ``matrix``), the summary sections and the forge's deployment records.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gitops.ci.context import Context, EventKind, Platform
from gitops.ci.reporter import Reporter
from gitops.config import GitopsConfig
from gitops.deploy import sources
from gitops.deploy.apply import Applier, Recorder, Result, RunInfo
from gitops.deploy.plan import Action, Plan, environment_levels, plan_now, with_upstreams
from gitops.deploy.render import plan_markdown, plan_table, results_markdown, results_table
from gitops.deploy.store import StateStore, http_auth_env, open_store
from gitops.errors import GitopsError, UsageError
from gitops.forge.base import Forge
from gitops.forge.http import ForgeError
from gitops.registry.moves import Changes
from gitops.text import one_line, shorten

if TYPE_CHECKING:
    from gitops.ci.action import RunRecord
    from gitops.deploy.state import LiveState


@dataclass
class DeployStep:
    plan: Plan
    results: list[Result]
    applied: bool
    levels: list[list[str]] = field(default_factory=list)  # environments in `after:` order

    @property
    def failed(self) -> bool:
        return any(r.failed for r in self.results)


def target_environments(
    command: str, ctx: Context, config: GitopsConfig, changes: Changes, only: list[str]
) -> list[str] | None:
    """Environments this run plans for; ``None`` means none at all.

    auto: a tag event -> the environments bound to the stages that moved; a schedule -> all.
    plan/apply/reconcile: all (or the ``environments`` input).
    """
    for name in only:
        if name not in config.environments:
            raise UsageError(f"input `environments` names unknown environment {name!r}")
    chosen = only or list(config.environments)
    if command in ("plan", "apply", "reconcile"):
        return chosen
    if ctx.event in (EventKind.TAG_PUSH, EventKind.TAG_DELETE):
        moved = {m.stage for m in changes.moves}
        return [n for n in chosen if config.environments[n].stage in moved]
    if ctx.event in (EventKind.SCHEDULE, EventKind.PULL_REQUEST):
        return chosen  # a pull request only plans (see run_deploys)
    return None


def run_deploys(
    command: str,
    ctx: Context,
    config: GitopsConfig,
    changes: Changes,
    only: list[str],
    dry_run: bool,
    reporter: Reporter,
    record: RunRecord,
) -> None:
    """Plan and (unless this event only plans) apply; ``record.step`` holds the plan as soon as
    it is made and every result as soon as it is known, also when a later step fails."""
    environments = target_environments(command, ctx, config, changes, only)
    if environments is None:
        return
    registry = changes.registry
    reporter.add_secrets(_setting_secrets(config))
    store = _store(ctx, config, registry.root)
    state, _ = store.read(with_upstreams(config, environments))
    plan = sources.attach(plan_now(registry, config, state, environments), registry.root)
    levels = environment_levels(config, environments)
    step = record.step = DeployStep(plan, [], applied=False, levels=levels)
    with reporter.group("Deployment plan"):
        reporter.log_block(plan_table(plan))
    for conflict in plan.conflicts:
        if not changes.conflicts:  # already said with the moves
            reporter.error(conflict)
            record.fail(conflict, 1)
    plan_only = command == "plan" or (command == "auto" and ctx.event == EventKind.PULL_REQUEST)
    if plan_only or not plan.changes:
        return
    run = RunInfo(actor=ctx.actor, why=_why(ctx, changes), run_url=ctx.run_url)
    from gitops.forge import forge_for

    forge = None if ctx.read_only_token else forge_for(ctx)
    use_records = forge is not None and config.state.forge_records and not dry_run
    recorder = _forge_recorder(forge, ctx, reporter) if use_records else None
    applier = Applier(
        registry,
        config,
        store,
        run,
        dry_run=dry_run,
        log=reporter.log,
        recorder=recorder,
        forge=forge,
        mask=reporter.redact,
        group=reporter.group,
    )
    step.applied = not dry_run
    try:
        applier.apply(plan, environments)
    finally:
        step.results = list(applier.results)  # what was done, also when recording failed
        reporter.log_block(results_table(step.results))
    for r in step.results:
        if r.failed:
            reporter.error(f"{r.environment}: {r.artifact} {r.to_version}: {one_line(r.message)}")


def _setting_secrets(config: GitopsConfig) -> list[str]:
    """Values the deploy settings read from the environment (a webhook's secret, ``${VAR}``
    in its headers): whatever their variables are called, they are secrets."""
    import os
    import re

    names: set[str] = set()
    for env in config.environments.values():
        settings = env.deploy.model_dump()
        if isinstance(settings.get("secret_env"), str):
            names.add(settings["secret_env"])
        for value in (settings.get("headers") or {}).values():
            names.update(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", str(value)))
    return [os.environ[n] for n in sorted(names) if os.environ.get(n)]


def _store(ctx: Context, config: GitopsConfig, root: Path) -> StateStore:
    """On GitLab the clone's job token may not push: with an access token in GITOPS_TOKEN the
    state branch is pushed with it (in an HTTP header set through the environment)."""
    if ctx.platform == Platform.GITLAB and ctx.token_kind == "private" and ctx.repo_url:
        url = ctx.repo_url + ".git"
        env = http_auth_env(url, "oauth2", ctx.token)
        return open_store(config.state, root, in_ci=True, push_url=url, git_env=env)
    return open_store(config.state, root, in_ci=True)


def read_state(ctx: Context, config: GitopsConfig, root: Path) -> LiveState:
    """Every environment's live state, as this run's store reads it (policies, proposals and
    the merge job weigh all of them)."""
    state, _ = _store(ctx, config, root).read(list(config.environments))
    return state


def _why(ctx: Context, changes: Changes) -> str:
    tags = [t.tag for t in changes.tags if t.event]
    if tags:
        return "tag " + ", ".join(tags)
    return f"{ctx.event} event" + (f" on {ctx.ref}" if ctx.ref else "")


def _forge_recorder(forge: Forge, ctx: Context, reporter: Reporter) -> Recorder:
    """Deployment records on GitHub/GitLab, for the Environments view; never fails the run."""
    states = {"deployed": "success", "removed": "inactive", "failed": "failure"}
    states["rolled-back"] = "failure"
    unreachable: list[str] = []  # once the API cannot be reached, it is not tried per deploy

    def record(action: Action, result: Result) -> None:
        if result.status not in states or action.to_commit is None and result.status != "removed":
            return
        if unreachable:
            return
        try:
            deployment = forge.create_deployment(
                environment=action.environment,
                ref=ctx.tag or ctx.sha,
                sha=action.to_commit or ctx.sha,
                description=f"{action.artifact} {action.to_version or '(removed)'}",
                payload={"artifact": action.artifact, "version": action.to_version},
                is_tag=bool(ctx.tag),
            )
            forge.set_deployment_status(
                deployment, states[result.status], shorten(result.message, 140), ctx.run_url
            )
        except GitopsError as exc:
            if isinstance(exc, ForgeError) and exc.status is None:  # no answer at all
                unreachable.append(str(exc))
                reporter.warning(
                    f"could not record the deployment on the forge: {exc}; no more deployment "
                    "records are tried in this run"
                )
                return
            reporter.warning(f"could not record the deployment on the forge: {exc}")

    return record


def outputs(step: DeployStep | None) -> dict[str, str]:
    if step is None:
        return {"plan": "[]", "deployments": "[]", "matrix": json.dumps({"include": []})}
    per_env: dict[str, int] = {}
    for action in step.plan.changes:
        per_env[action.environment] = per_env.get(action.environment, 0) + 1
    # in `after:` order, with each environment's level: with `max-parallel: 1` the jobs run
    # staging before prod (the order rule then lets prod go in the same workflow run)
    level_of = {name: i for i, level in enumerate(step.levels) for name in level}
    ordered = sorted(per_env, key=lambda name: level_of.get(name, 0))
    matrix = {
        "include": [
            {"environment": name, "changes": per_env[name], "level": level_of.get(name, 0)}
            for name in ordered
        ]
    }
    compact = {"separators": (",", ":")}
    return {
        "plan": json.dumps([a.to_json() for a in step.plan.changes], **compact),
        "deployments": json.dumps([r.to_json() for r in step.results], **compact),
        "matrix": json.dumps(matrix, **compact),
    }


def markdown(step: DeployStep | None) -> str:
    if step is None:
        return ""
    text = "\n" + plan_markdown(step.plan)
    if step.results:
        text += "\n" + results_markdown(step.results)
    return text
