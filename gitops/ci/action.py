"""The CI entry (``gitops action``): read the event, complete the checkout, work out the stage
moves, and write them where the platform wants them (outputs, summary, log).

Expected failures end as one clear error (a file/line annotation for config errors) and exit
code 2; nothing here prints a traceback or a token.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gitops.ci import spec
from gitops.ci.context import Context, EventKind, Platform, detect
from gitops.ci.reporter import Reporter
from gitops.errors import GitopsError, UsageError
from gitops.yamlfile import YamlFileError

COMMANDS = ("auto", "moves", "plan", "apply", "reconcile")
TRUE = ("true", "1", "yes", "on")


@dataclass(frozen=True)
class Inputs:
    command: str
    config: str
    ref: str
    environments: str
    dry_run: bool
    comment: str
    working_directory: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Inputs:
        """Action inputs: GitHub passes ``INPUT_DRY-RUN`` (hyphen kept); GitLab jobs set
        ``INPUT_DRY_RUN`` (variable names cannot hold a hyphen). Both work."""
        values = {}
        for item in spec.INPUTS:
            key = "INPUT_" + item.name.upper()
            raw = env.get(key, env.get(key.replace("-", "_"), ""))
            default = "" if item.default.startswith("${{") else item.default
            values[item.name] = raw.strip() or default
        command = values["command"].lower()
        if command not in COMMANDS:
            raise UsageError(
                f"input `command` is {command!r}; expected one of: {', '.join(COMMANDS)}"
            )
        comment = values["comment"].lower()
        if comment not in ("update", "new", "off"):
            raise UsageError(f"input `comment` is {comment!r}; expected update, new or off")
        return cls(
            command=command,
            config=values["config"],
            ref=values["ref"],
            environments=values["environments"],
            dry_run=values["dry-run"].lower() in TRUE,
            comment=comment,
            working_directory=values["working-directory"],
        )

    def tags(self) -> list[str]:
        return [t.removeprefix("refs/tags/") for t in self.ref.replace(",", " ").split() if t]


def make_reporter(ctx: Context, env: Mapping[str, str], repo: Path) -> Reporter:
    secrets = [ctx.token] if ctx.token else []
    if ctx.platform == Platform.GITHUB:
        from gitops.ci.github import GitHubReporter

        return GitHubReporter(env, secrets=secrets)
    if ctx.platform == Platform.GITLAB:
        from gitops.ci.gitlab import GitLabReporter

        return GitLabReporter(env, repo, secrets=secrets)
    return Reporter(secrets=secrets)


def run(env: Mapping[str, str] | None = None) -> int:
    """Run the action for this process's CI event; the exit code for the job."""
    env = os.environ if env is None else env
    reporter = Reporter()
    try:
        ctx = detect(env)
        inputs = Inputs.from_env(env)
        repo = (ctx.workspace / inputs.working_directory).resolve()
        reporter = make_reporter(ctx, env, repo)
        return _run(ctx, inputs, repo, reporter)
    except YamlFileError as exc:
        hint = f" (hint: {exc.hint})" if exc.hint else ""
        reporter.error(exc.detail + hint, exc.file, exc.line)
        return exc.exit_code
    except GitopsError as exc:
        reporter.error(str(exc))
        return exc.exit_code


def _run(ctx: Context, inputs: Inputs, repo: Path, reporter: Reporter) -> int:
    from gitops.ci import checkout, summary
    from gitops.registry.moves import compute_changes
    from gitops.registry.reader import RegistrySource

    reporter.log(f"gitops: {ctx.platform} {ctx.event} event on {ctx.ref or '(no ref)'}")
    if ctx.pr_number is not None:
        reporter.log(f"pull request #{ctx.pr_number}: {ctx.pr_title}")
    deleted = ctx.event == EventKind.TAG_DELETE
    if ctx.platform != Platform.LOCAL:
        checkout.mark_safe_directory(repo)
        with reporter.group("Fetch registry tags"):
            checkout.complete_checkout(ctx, repo, reporter, deleted=deleted)
    config = None
    if (repo / inputs.config).is_file():  # gitops.config imports pydantic: only for a config
        from gitops.config import load_config

        config = load_config(repo, inputs.config)
    if config is None:
        reporter.log(f"no {inputs.config}: stage moves are reported, nothing is deployed")

    pushed, removed = _event_tags(ctx, inputs)
    source = RegistrySource.read(repo)
    changes = compute_changes(source, pushed, removed)
    registry = changes.registry
    for warning in registry.warnings:
        reporter.warning(warning)
    for conflict in registry.state.conflicts.values():
        reporter.warning(str(conflict))

    with reporter.group("Stage moves"):
        reporter.log_block(summary.text_table(changes))
    step = None
    if config is not None and inputs.command != "moves":
        from gitops.ci import deploy_step

        only = [e.strip() for e in inputs.environments.split(",") if e.strip()]
        step = deploy_step.run_deploys(
            inputs.command, ctx, config, changes, only, inputs.dry_run, reporter
        )
    if step is not None:  # deploy_step imports the deploy and forge code (and requests)
        from gitops.ci.deploy_step import markdown as deploy_markdown
        from gitops.ci.deploy_step import outputs as deploy_outputs
    else:
        deploy_markdown, deploy_outputs = _no_deploy_markdown, _no_deploy_outputs

    outputs = summary.outputs(changes, repo) | deploy_outputs(step)
    outputs["comment-url"] = ""
    if ctx.event == EventKind.PULL_REQUEST and step is not None:
        from gitops.ci import comment
        from gitops.forge import forge_for

        forge = forge_for(ctx, log=reporter.log)
        body = "# gitops\n" + deploy_markdown(step)
        outputs["comment-url"] = comment.publish(ctx, forge, reporter, "plan", body, inputs.comment)
    reporter.set_outputs(outputs)
    reporter.write_summary(summary.markdown(changes, ctx) + deploy_markdown(step))
    return 1 if step is not None and step.failed else 0


def _no_deploy_outputs(step: None) -> dict[str, str]:
    """``deploy_step.outputs(None)``, without importing the deploy code."""
    return {"plan": "[]", "deployments": "[]", "matrix": '{"include": []}'}


def _no_deploy_markdown(step: None) -> str:
    return ""


def _event_tags(ctx: Context, inputs: Inputs) -> tuple[list[str], list[str]]:
    """(pushed, deleted) tags: the ``ref`` input if given, else the event's own tag."""
    tags = inputs.tags()
    if not tags and ctx.tag:
        tags = [ctx.tag]
    if inputs.command == "auto" and ctx.event not in (EventKind.TAG_PUSH, EventKind.TAG_DELETE):
        if not inputs.tags():
            return [], []
    if ctx.event == EventKind.TAG_DELETE and not inputs.tags():
        return [], tags
    return tags, []
