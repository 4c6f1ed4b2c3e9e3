"""The report half of a CI run: the metric report of a pull/merge request (its head against
the merge base, and against what each stage holds of the artifacts it touches) or of each stage
move (the new version against the one the stage held before, with the stage's history); the
files behind the ``report`` / ``report-json`` outputs; the commit status the gates decide.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gitops.ci.context import Context
from gitops.ci.reporter import Reporter
from gitops.errors import GitopsError
from gitops.report import compare
from gitops.report.build import Holding, build_report, repo_template
from gitops.report.model import DEFAULT_HISTORY, Report

if TYPE_CHECKING:
    from gitops.forge.base import Forge
    from gitops.registry.moves import Changes
    from gitops.report.settings import ReportSettings

REPORT_DIR = ".gitops/report"  # in the repository: the one folder later steps can read
STATUS_CONTEXT = "gitops/report"


def _links(ctx: Context):  # noqa: ANN202 - compare.Links
    def link(ref: str) -> str:
        if not ref:
            return ""
        if len(ref) == 40 and all(c in "0123456789abcdef" for c in ref):
            return ctx.commit_url(ref)
        return ctx.tag_url(ref)

    return link


def pull_request_report(
    ctx: Context,
    repo: Path,
    changes: Changes,
    settings: ReportSettings | None,
    plan_markdown: str,
    reporter: Reporter,
) -> Report:
    comparison = compare.pull_request(repo, ctx, reporter.log)
    registry = changes.registry
    holdings: list[Holding] = []
    assert comparison.base is not None
    touched = compare.touched_artifacts(repo, registry, comparison.base.sha, comparison.head.sha)
    if touched:
        from gitops.registry.moves import stage_holders

        for (name, stage), held in sorted(stage_holders(registry, only=touched).items()):
            holdings.append(Holding(name, stage, held.version, held.commit))
        reporter.log(f"report: the pull request touches {', '.join(touched)}")
    return build_report(
        repo,
        settings,
        comparison,
        holdings=holdings,
        plan_markdown=plan_markdown,
        run_url=ctx.run_url,
    )


def move_reports(
    ctx: Context, repo: Path, changes: Changes, settings: ReportSettings | None
) -> list[Report]:
    """One report per stage move that put a version somewhere (a vacate has no metrics)."""
    reports = []
    links = _links(ctx)
    for move in changes.moves:
        comparison = compare.stage_move(changes.registry, move, links)
        if comparison is None:
            continue
        count = settings.history if settings is not None else DEFAULT_HISTORY
        held = compare.stage_history(changes.registry, move.artifact, move.stage, count)
        reports.append(build_report(repo, settings, comparison, history=held, run_url=ctx.run_url))
    return reports


def worth_showing(report: Report) -> bool:
    """A report with no metrics, params or plots files says nothing: a registry without
    metrics gets no empty report on every PR and tag (a PR's comment is then the plan)."""
    d = report.declared
    return bool(d.metrics or d.params or d.plots)


def text(report: Report) -> str:
    """The report as plain text for the job log (no colour: runners show escapes as text)."""
    from gitops.report.text import render as render_text

    return render_text(report, color=False)


def render(reports: Sequence[Report], repo: Path, settings: ReportSettings | None) -> str:
    from gitops.report.render import markdown

    template = repo_template(repo, settings)
    return "\n\n".join(markdown(r, template) for r in reports)


def write_files(reports: Sequence[Report], text: str, repo: Path, ctx: Context) -> dict[str, str]:
    """The Markdown and the JSON where later steps read them; outputs are paths relative to
    the workspace (the container's absolute paths mean nothing to the runner's other steps)."""
    from gitops.fileio import write_atomic
    from gitops.report.render import to_json

    folder = repo / REPORT_DIR
    md, js = folder / "report.md", folder / "report.json"
    write_atomic(md, text)
    write_atomic(js, json.dumps([to_json(r) for r in reports], indent=2) + "\n")
    base = ctx.workspace.resolve()
    return {
        "report": os.path.relpath(md.resolve(), base),
        "report-json": os.path.relpath(js.resolve(), base),
    }


def gate_failures(reports: Sequence[Report]) -> list[str]:
    return [f"gate failed: {r.reason}" for report in reports for r in report.gates.failed]


def set_status(
    ctx: Context, forge: Forge | None, report: Report, enforce: bool, reporter: Reporter
) -> None:
    """A commit status on the PR head naming the broken gates (only when gates are set)."""
    if forge is None or ctx.read_only_token or not report.gates.results:
        return
    failed = report.gates.failed
    if not failed:
        state, text = "success", f"{len(report.gates.results)} gate(s) passed"
    else:
        names = ", ".join(dict.fromkeys(r.metric or r.gate for r in failed))
        state = "failure" if enforce else "success"
        text = f"{len(failed)} gate(s) failed: {names}" + ("" if enforce else " (not enforced)")
    try:
        forge.set_commit_status(report.head.sha, state, STATUS_CONTEXT, text[:140], ctx.run_url)
    except GitopsError as exc:
        reporter.warning(f"could not set the commit status {STATUS_CONTEXT}: {exc}")
