"""``gitops report``: what the metrics did between two revisions (the text of ``--help``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from gitops.errors import UsageError

if TYPE_CHECKING:
    from gitops.report.model import Report
    from gitops.report.settings import ReportSettings

DESCRIPTION = """What the metrics and params did between two revisions: text on a terminal,
Markdown or JSON for a script. Gates from gitops.yaml decide the exit code with
--fail-on-regression.

    gitops report --base main --head HEAD        two refs
    gitops report churn@v1.3.0                   a version against the one before it
    gitops report churn --stage prod             the latest version against what prod holds
    gitops report churn@v1.3.0 --stage prod      that version against what prod holds
"""

FORMATS = ("text", "md", "json")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="metric and params diff between two revisions, a version and the one before, "
        "or a candidate and what a stage holds",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("target", nargs="?", metavar="NAME[@VERSION]", help="an artifact or version")
    p.add_argument("--base", metavar="REF", help="the old revision (branch, tag, sha)")
    p.add_argument("--head", metavar="REF", help="the new revision (default: HEAD)")
    p.add_argument("--stage", help="compare with the version this stage holds")
    p.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="text (default on a terminal), md (Markdown) or json",
    )
    p.add_argument("-o", "--output", type=Path, help="also write the Markdown report here")
    p.add_argument("--json-output", type=Path, help="also write the JSON report here")
    p.add_argument(
        "--fail-on-regression",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="exit 1 when a gate fails (default: reports.fail_on_regression in gitops.yaml)",
    )
    p.add_argument("-r", "--repo", default=".", type=Path, help="repository (default: .)")
    p.add_argument("-c", "--config", default="gitops.yaml", help="config file (in the repo)")


def run(args: argparse.Namespace) -> int:
    from gitops.registry.git import repo_root

    repo = repo_root(args.repo)
    settings = _settings(repo, args.config)
    report = make(repo, settings, args.target, args.base, args.head, args.stage)
    return emit(report, settings, args, repo)


def _settings(repo: Path, config: str) -> ReportSettings | None:
    """``reports:`` of gitops.yaml (the whole file is checked: a broken one is one clear
    error); None without the file, and then nothing imports pydantic."""
    if not (repo / config).is_file():
        return None
    from gitops.config import load_config

    loaded = load_config(repo, config)
    return loaded.reports if loaded is not None else None


def make(
    repo: Path,
    settings: ReportSettings | None,
    target: str | None,
    base: str | None,
    head: str | None,
    stage: str | None,
) -> Report:
    """The report the arguments ask for (a usage error names what is missing)."""
    from gitops.report import compare
    from gitops.report.build import build_report
    from gitops.report.model import DEFAULT_HISTORY

    if base is not None or head is not None:
        if target is not None or stage is not None:
            raise UsageError("give either --base/--head or NAME[@VERSION] [--stage S], not both")
        if base is None:
            raise UsageError("--head needs --base (the revision to compare with)")
        return build_report(repo, settings, compare.refs(repo, base, head or "HEAD"))
    if target is None:
        raise UsageError(
            "what to compare: --base REF [--head REF], NAME@VERSION, or NAME --stage STAGE"
        )
    from gitops.registry.reader import load_registry

    name, _, number = target.partition("@")
    registry = load_registry(repo, only=name)
    if stage is not None:
        comparison = compare.candidate(registry, name, stage, number or None)
        count = settings.history if settings is not None else DEFAULT_HISTORY
        held = compare.stage_history(registry, name, stage, count)
        head = comparison.head
        if count and (not held or held[-1].sha != head.sha):  # where it would land
            held = [*held, compare.HeldVersion(head.version, head.sha, "(candidate)")]
            held = held[-count:]
        return build_report(repo, settings, comparison, history=held)
    if not number:
        raise UsageError(f"give a version ({name}@vX.Y.Z) or a stage (--stage STAGE)")
    return build_report(repo, settings, compare.version(registry, name, number))


def emit(
    report: Report,
    settings: ReportSettings | None,
    args: argparse.Namespace,
    repo: Path | None = None,
) -> int:
    """Write what ``args`` ask for; each form is built only when asked (10,000 metrics: the
    JSON document alone costs ~10 ms, the Markdown ~150 ms). ``repo``: its root, if known."""
    from gitops.report import render, text

    fmt = args.format or ("text" if sys.stdout.isatty() else "md")
    markdown = None
    if args.output is not None or fmt == "md":
        from gitops.registry.git import repo_root
        from gitops.report.build import repo_template

        root = repo if repo is not None else repo_root(args.repo)
        markdown = render.markdown(report, repo_template(root, settings))
    document = None
    if args.json_output is not None or fmt == "json":
        document = json.dumps(render.to_json(report), indent=2) + "\n"
    if args.output is not None:
        _write(args.output, markdown or "")
    if args.json_output is not None:
        _write(args.json_output, document or "")
    if fmt == "md":
        sys.stdout.write(markdown or "")
    elif fmt == "json":
        sys.stdout.write(document or "")
    else:
        sys.stdout.write(text.render(report, color=sys.stdout.isatty()))
    enforce = args.fail_on_regression
    if enforce is None:
        enforce = settings is not None and settings.fail_on_regression
    if not report.gates.passed:
        for failed in report.gates.failed:
            print(f"gate failed: {failed.reason}", file=sys.stderr)
        return 1 if enforce else 0
    return 0


def _write(path: Path, content: str) -> None:
    from gitops.fileio import write_atomic

    write_atomic(path, content)
