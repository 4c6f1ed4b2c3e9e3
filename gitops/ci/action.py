"""The CI entry (``gitops action``): read the event, complete the checkout, work out the stage
moves, and write them where the platform wants them (outputs, summary, log).

Expected failures end as one clear error (a file/line annotation for config errors) and exit
code 2; nothing here prints a traceback or a token.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gitops.ci import merge_step, spec, summary
from gitops.ci.context import Context, EventKind, Platform
from gitops.ci.detect import detect
from gitops.ci.reporter import Reporter
from gitops.errors import GitopsError, UsageError
from gitops.yamlfile import YamlFileError

if TYPE_CHECKING:
    from gitops.ci.deploy_step import DeployStep
    from gitops.ci.merge_step import Merged
    from gitops.config import GitopsConfig
    from gitops.registry.moves import Changes
    from gitops.report.model import Report

COMMANDS = ("auto", "moves", "plan", "apply", "reconcile", "promote", "catalog")
TRUE = ("true", "1", "yes", "on")
FALSE = ("false", "0", "no", "off")


@dataclass(frozen=True)
class Inputs:
    command: str
    config: str
    ref: str
    environments: str
    dry_run: bool
    comment: str
    working_directory: str
    fail_on_regression: bool | None  # None: as gitops.yaml says
    name: str = ""  # command promote: the artifact, its version, the stage, why
    version: str = ""
    stage: str = ""
    reason: str = ""
    pull: bool = False  # the pushed tag's version into the workspace (gto-action's `pull`)

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
        enforce = values["fail-on-regression"].lower()
        if enforce not in ("", *TRUE, *FALSE):
            raise UsageError(f"input `fail-on-regression` is {enforce!r}; expected true or false")
        pull = values["pull"].lower()
        if pull not in (*TRUE, *FALSE):
            raise UsageError(f"input `pull` is {pull!r}; expected true or false")
        return cls(
            command=command,
            config=values["config"],
            ref=values["ref"],
            environments=values["environments"],
            dry_run=values["dry-run"].lower() in TRUE,
            comment=comment,
            working_directory=values["working-directory"],
            fail_on_regression=None if not enforce else enforce in TRUE,
            name=values["name"],
            version=values["version"],
            stage=values["stage"],
            reason=values["reason"],
            pull=pull in TRUE,
        )

    def tags(self) -> list[str]:
        return [t.removeprefix("refs/tags/") for t in self.ref.replace(",", " ").split() if t]


def make_reporter(ctx: Context, env: Mapping[str, str], repo: Path) -> Reporter:
    from gitops.secrets import Masker

    # the token, and every variable whose name says it is a secret: masked in the log, the
    # outputs, the summary and the records on the state branch (through ``redact``)
    secrets = Masker.from_environment(env, [ctx.token]).values
    if ctx.platform == Platform.GITHUB:
        from gitops.ci.github import GitHubReporter

        return GitHubReporter(env, secrets=secrets)
    if ctx.platform == Platform.GITLAB:
        from gitops.ci.gitlab import GitLabReporter

        return GitLabReporter(env, repo, secrets=secrets)
    return Reporter(secrets=secrets)


@dataclass
class RunRecord:
    """Everything a run has worked out so far. Whatever fails, and wherever, the outputs and
    the summary are written from it: downstream jobs and people never see empty outputs after
    a log that announced a move."""

    changes: Changes | None = None
    step: DeployStep | None = None
    comment_url: str = ""
    pr_url: str = ""  # the promotion PR/MR (command promote)
    catalog: str = ""  # the site's folder (command catalog), relative to the workspace
    pulled: str = ""  # where `pull: true` put the tag's version, relative to the workspace
    merged: Merged | None = None  # the promotion requests a push to the default branch landed
    config_file: str = "gitops.yaml"
    proposals: str = "[]"  # automatic proposals: JSON list of their PR/MR URLs
    proposals_markdown: str = ""  # their summary section
    policy_markdown: str = ""  # a promotion PR/MR: the policy verdict, in its comment
    reports: list[Report] = field(default_factory=list)
    report_text: str = ""  # the reports as Markdown (with the plan, on a PR)
    report_outputs: dict[str, str] = field(default_factory=dict)  # report, report-json paths
    errors: list[str] = field(default_factory=list)
    code: int = 0

    def fail(self, message: str, code: int) -> None:
        self.errors.append(message)
        self.code = max(self.code, code)


def run(env: Mapping[str, str] | None = None) -> int:
    """Run the action for this process's CI event; the exit code for the job."""
    env = os.environ if env is None else env
    reporter = Reporter()
    record = RunRecord()
    ctx: Context | None = None
    repo: Path | None = None
    try:
        ctx = detect(env)
        reporter = make_reporter(ctx, env, ctx.workspace)
        inputs = Inputs.from_env(env)
        repo = (ctx.workspace / inputs.working_directory).resolve()
        reporter = make_reporter(ctx, env, repo)
        if inputs.command == "promote":
            from gitops.ci import promote_step

            promote_step.checkout_and_run(ctx, inputs, repo, reporter, record, env)
        elif inputs.command == "catalog":
            from gitops.catalog import ci_step

            ci_step.checkout_and_run(ctx, inputs, repo, reporter, record, env)
        else:
            _run(ctx, inputs, repo, reporter, record, env)
    except YamlFileError as exc:
        hint = f" (hint: {exc.hint})" if exc.hint else ""
        reporter.error(exc.detail + hint, exc.file, exc.line)
        where = f"{exc.file}:{exc.line}" if exc.line else exc.file
        record.fail(f"{where}: {exc.detail}{hint}", exc.exit_code)
    except GitopsError as exc:
        reporter.error(str(exc))
        record.fail(str(exc), exc.exit_code)
    _finish(ctx, repo, reporter, record)
    return record.code


def _run(
    ctx: Context,
    inputs: Inputs,
    repo: Path,
    reporter: Reporter,
    record: RunRecord,
    env: Mapping[str, str],
) -> None:
    from gitops.ci import checkout
    from gitops.registry.moves import compute_changes
    from gitops.registry.reader import RegistrySource

    checkout.prepare(ctx, repo, reporter, "", deleted=ctx.event == EventKind.TAG_DELETE)
    if ctx.pr_number is not None:
        reporter.log(f"{ctx.pr_label}: {ctx.pr_title}")

    pushed, removed = _event_tags(ctx, inputs)
    merged = False
    if merge_step.is_merge_push(ctx, env, inputs.command):
        ctx, pushed, merged = _merge(ctx, inputs, repo, reporter, record)
    source = RegistrySource.read(repo)
    changes = record.changes = compute_changes(source, pushed, removed)
    for warning in changes.registry.warnings:
        reporter.warning(warning)
    with reporter.group("Stage moves"):
        reporter.log_block(summary.text_table(changes))
    for error in changes.conflict_errors():  # held, not vacated: and the run fails
        reporter.error(error)
        record.fail(error, 1)
    if inputs.pull:  # before anything may fail: the later steps of the job have the bytes
        from gitops.ci import pull_step

        pull_step.run(ctx, repo, changes, reporter, record)

    config = None  # read after the moves: a bad file keeps them
    if (repo / inputs.config).is_file():  # gitops.config imports pydantic: only for a config
        from gitops.config import load_config

        config = load_config(repo, inputs.config)
    if config is None:
        reporter.log(f"no {inputs.config}: stage moves are reported, nothing is deployed")
    moved = (
        [m.to_commit or "" for m in changes.moves] if ctx.event != EventKind.PULL_REQUEST else []
    )
    if moved and (_gated(config, changes) or _anything_to_report(repo, moved, config)):
        _report(ctx, inputs, repo, config, reporter, record)  # before deploys: a failed one
        # still leaves its report
    if config is not None and inputs.command != "moves":
        from gitops.ci import deploy_step
        from gitops.deploy.names import check_names

        for warning in check_names(config, changes.registry):  # a typo is an error (file:line)
            reporter.warning(str(warning))

        only = [e.strip() for e in inputs.environments.split(",") if e.strip()]
        only, blocked = only, False
        if not merged:  # a merged promotion was checked before its tag was made
            only, blocked = _policy_gate(ctx, config, changes, only, reporter, record, env)
        if not blocked:
            deploy_step.run_deploys(
                inputs.command, ctx, config, changes, only, inputs.dry_run, reporter, record
            )
    step = record.step
    if step is not None and step.failed:
        failed = [r for r in step.results if r.failed]
        record.fail(f"{len(failed)} deploy(s) failed: see the deployments output", 1)
    if config is not None:  # the scheduled reconcile proposes what has soaked (after deploys)
        from gitops.ci import propose_step

        propose_step.run(ctx, inputs, repo, config, changes.registry, reporter, record)
    if ctx.event == EventKind.PULL_REQUEST and inputs.command in ("auto", "plan"):
        if _anything_to_report(repo, [ctx.sha or ctx.head_sha], config):  # checked out
            _report(ctx, inputs, repo, config, reporter, record)
        if config is not None and config.policies:
            from gitops.ci import pr_policy_step

            record.policy_markdown = pr_policy_step.run(
                ctx, repo, config, changes.registry, reporter
            )
        _comment(ctx, inputs, reporter, record)


def _merge(
    ctx: Context, inputs: Inputs, repo: Path, reporter: Reporter, record: RunRecord
) -> tuple[Context, list[str], bool]:
    """A push to the default branch: land the promotion requests it brought in. With tags
    pushed, the rest of the run is theirs, as a tag push (deployed in this very run)."""
    from dataclasses import replace

    config = None
    if (repo / inputs.config).is_file():
        from gitops.config import load_config

        config = load_config(repo, inputs.config)
    merged = merge_step.run(ctx, repo, config, reporter, inputs.dry_run)
    record.config_file = inputs.config
    record.merged = merged
    for landing in merged.refused:
        assert landing.decision is not None
        for v in landing.decision.violations:
            r = landing.request
            record.fail(f"promotion {r.artifact} {r.version} -> {r.stage} is not tagged: "
                        f"policy {v.rule}: {v.message}. Fix: {v.fix}.", 1)  # fmt: skip
    if not merged.tags:
        return ctx, [], False
    tagged = replace(ctx, event=EventKind.TAG_PUSH, ref=f"refs/tags/{merged.tags[0]}")
    return tagged, list(merged.tags), True


def _policy_gate(
    ctx: Context,
    config: GitopsConfig,
    changes: Changes,
    only: list[str],
    reporter: Reporter,
    record: RunRecord,
    env: Mapping[str, str],
) -> tuple[list[str], bool]:
    """The environments a tag event may deploy once policies are checked: those of refused
    stages are taken out (``blocked``: nothing at all is left to deploy). Each broken rule is
    an error of the run."""
    if ctx.event != EventKind.TAG_PUSH or not config.policies:
        return only, False
    from gitops.ci.policy_step import default_branch_ref, refused_stages

    with reporter.group("Policies"):
        signed = any(config.policies[m.stage].signed_tags for m in changes.moves
                     if m.stage in config.policies)  # fmt: skip
        signers = default_branch_ref(ctx, env, changes.registry.root) if signed else "HEAD"
        refused = refused_stages(ctx, config, changes, record.reports, reporter,
                                 signers_ref=signers)  # fmt: skip
        if not refused:
            reporter.log("policies: every stage move is allowed")
            return only, False
    for messages in refused.values():
        for message in messages:
            reporter.error(message)
            record.fail(message, 1)
    held = {env for stage in refused for env in config.environments_for(stage)}
    moved = {m.stage for m in changes.moves}
    wanted = only or [n for n, e in config.environments.items() if e.stage in moved]
    kept = [env for env in wanted if env not in held]
    return kept, not kept


def _gated(config: GitopsConfig | None, changes: Changes) -> bool:
    """Whether a moved stage's policy asks for the metric gates (they need the report, even
    of a version without metrics files: a required metric missing fails its gate)."""
    if config is None or not config.policies:
        return False
    return any(
        (policy := config.policies.get(m.stage)) is not None and policy.gates for m in changes.moves
    )


def _anything_to_report(repo: Path, shas: list[str], config: GitopsConfig | None) -> bool:
    """Whether the revisions have metrics, params or plots files; asked without the report's
    code (a registry without metrics files pays nothing for reports, and a PR of such a
    repository gets the plan alone)."""
    if config is not None:
        s = config.reports
        if s.metrics is not None or s.params is not None or s.plots is not None:
            return True
    from gitops.report.probe import has_report_files

    return has_report_files(repo, list(dict.fromkeys(sha for sha in shas if sha)))


def _report(
    ctx: Context,
    inputs: Inputs,
    repo: Path,
    config: GitopsConfig | None,
    reporter: Reporter,
    record: RunRecord,
) -> None:
    """The metric report(s) of this run, their files, the gates' verdict and commit status.
    A report that cannot be made fails the run with its reason; the deploy goes on."""
    from gitops.ci import report_step

    assert record.changes is not None
    settings = config.reports if config is not None else None  # None: defaults, no pydantic
    try:
        with reporter.group("Metric report"):
            if ctx.event == EventKind.PULL_REQUEST:
                plan = ""
                if record.step is not None:
                    from gitops.ci.deploy_step import markdown as deploy_markdown

                    plan = deploy_markdown(record.step)
                record.reports = [
                    report_step.pull_request_report(
                        ctx, repo, record.changes, settings, plan, reporter
                    )
                ]
            else:
                record.reports = report_step.move_reports(ctx, repo, record.changes, settings)
            record.reports = [r for r in record.reports if report_step.worth_showing(r)]
            if not record.reports:
                reporter.log("report: no metrics, params or plots files (dvc.yaml, metrics.json)")
                return
            for report in record.reports:  # the log has it too (GitLab shows no summary page)
                reporter.log_block(report_step.text(report))
            record.report_text = report_step.render(record.reports, repo, settings)
            record.report_outputs = report_step.write_files(
                record.reports, record.report_text, repo, ctx
            )
            reporter.log(f"report: {record.report_outputs['report']}")
    except GitopsError as exc:
        reporter.error(f"no metric report: {exc}")
        record.fail(f"no metric report: {exc}", 1)
        return
    enforce = inputs.fail_on_regression
    if enforce is None:
        enforce = settings is not None and settings.fail_on_regression
    for message in report_step.gate_failures(record.reports):
        if enforce:
            reporter.error(message)
            record.fail(message, 1)
        else:
            reporter.warning(message + " (not enforced: fail-on-regression is off)")
    if ctx.event == EventKind.PULL_REQUEST and inputs.command in ("auto", "plan"):
        from gitops.forge import forge_for

        forge = forge_for(ctx, log=reporter.log)
        report_step.set_status(ctx, forge, record.reports[0], enforce, reporter)


def _comment(ctx: Context, inputs: Inputs, reporter: Reporter, record: RunRecord) -> None:
    """One sticky comment: the report with the plan in it, or the plan alone when no report
    could be made. Its key stays "plan", so PRs commented by earlier versions keep one comment."""
    from gitops.ci import comment
    from gitops.forge import forge_for

    body = record.report_text
    if not body and record.step is not None:
        from gitops.ci.deploy_step import markdown as deploy_markdown

        body = "# gitops\n" + deploy_markdown(record.step)
    if record.policy_markdown:  # first: what must still happen before the merge
        head = "" if body else "# gitops\n"
        body = head + "## Policy\n\n" + record.policy_markdown + "\n" + body
    if not body:
        return
    forge = forge_for(ctx, log=reporter.log)
    record.comment_url = comment.publish(ctx, forge, reporter, "plan", body, inputs.comment)


def _finish(ctx: Context | None, repo: Path | None, reporter: Reporter, record: RunRecord) -> None:
    """Outputs and summary from what the run knows, plus its errors; never raises (a writer
    that fails is reported, and the exit code stays a failure)."""
    if record.step is not None:  # deploy_step imports the deploy and forge code (and requests)
        from gitops.ci.deploy_step import markdown as deploy_markdown
        from gitops.ci.deploy_step import outputs as deploy_outputs
    else:
        deploy_markdown, deploy_outputs = _no_deploy_markdown, _no_deploy_outputs
    try:
        values = summary.empty_outputs()
        if record.changes is not None and repo is not None:
            values = summary.outputs(record.changes, repo)
        values |= deploy_outputs(record.step)
        values["comment-url"] = record.comment_url
        values["pr-url"] = record.pr_url
        values["catalog"] = record.catalog
        values["pulled-path"] = record.pulled
        values["proposals"] = record.proposals
        values["report"] = record.report_outputs.get("report", "")
        values["report-json"] = record.report_outputs.get("report-json", "")
        values["error"] = "\n".join(record.errors)
        reporter.set_outputs(values)
        text = summary.errors_markdown(record.errors)
        if record.changes is not None and ctx is not None:
            text += summary.markdown(record.changes, ctx)
        if record.merged is not None and ctx is not None and repo is not None:
            registry = record.changes.registry if record.changes is not None else None
            text += merge_step.markdown(record.merged, ctx, repo, record.config_file, registry)
        if record.policy_markdown:
            text += "\n## Policy\n\n" + record.policy_markdown + "\n"
        if record.report_text:
            text += "\n" + record.report_text + "\n"
        if not (record.reports and record.reports[0].plan_markdown):  # else it is in the report
            text += deploy_markdown(record.step)
        text += record.proposals_markdown
        if text:
            reporter.write_summary(text)
    except (OSError, UnicodeError, GitopsError) as exc:
        reporter.error(f"could not write the outputs or the summary: {exc}")
        record.code = max(record.code, 1)


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
