"""A whole report from a comparison: every revision it needs read at once, then diffed, gated
and charted. The only step of ``gitops.report`` that calls the others; it does no I/O of its
own beyond ``metrics.read_snapshots`` (one batch of git reads for every revision).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gitops.report import diff as diffing
from gitops.report import gates as gating
from gitops.report.compare import Comparison, HeldVersion
from gitops.report.direction import Directions
from gitops.report.metrics import read_snapshots
from gitops.report.model import (
    DEFAULT_PLOT_POINTS,
    Diff,
    Direction,
    History,
    HistoryPoint,
    Kind,
    PlotSpec,
    Report,
    Snapshot,
    StageHolding,
)
from gitops.report.plots import plot_diffs

HISTORY_METRICS = 4  # lines in a history chart: more is unreadable

if TYPE_CHECKING:  # pydantic is imported only where a gitops.yaml is read
    from gitops.report.settings import ReportSettings


@dataclass(frozen=True)
class Holding:
    """A stage that holds a version of an artifact a pull request touches."""

    artifact: str
    stage: str
    version: str
    sha: str


def build_report(
    repo: Path,
    settings: ReportSettings | None,
    comparison: Comparison,
    *,
    history: Sequence[HeldVersion] = (),
    holdings: Sequence[Holding] = (),
    plan_markdown: str = "",
    run_url: str = "",
    notes: Sequence[str] = (),
) -> Report:
    gates_set = settings.gates if settings is not None else {}
    plot_points = settings.plot_points if settings is not None else DEFAULT_PLOT_POINTS
    head, base = comparison.head, comparison.base
    wanted = [(head.label, head.sha)]
    if base is not None:
        wanted.append((base.label, base.sha))
    wanted += [(f"{comparison.artifact}@{h.version}", h.sha) for h in history]
    wanted += [(f"{h.artifact}@{h.version} ({h.stage})", h.sha) for h in holdings]
    snapshots = _read(repo, settings, wanted)
    new = snapshots[head.sha]
    old = snapshots[base.sha] if base is not None else None

    directions = Directions(settings)
    metrics = diffing.diff(old, new, Kind.METRICS, directions)
    params = diffing.diff(old, new, Kind.PARAMS, directions)
    gates = gating.evaluate(gates_set, metrics, directions)
    plots = plot_diffs(old, new, _plot_specs(new, old), plot_points)

    chart = None
    if history and comparison.artifact and comparison.stage:
        chart = _history(comparison.artifact, comparison.stage, history, snapshots, metrics,
                         settings)  # fmt: skip
    stages = tuple(
        StageHolding(
            h.artifact,
            h.stage,
            h.version,
            h.sha,
            held := diffing.diff(snapshots[h.sha], new, Kind.METRICS, directions),
            gating.evaluate(gates_set, held, directions),
        )
        for h in holdings
    )
    return Report(
        kind=comparison.kind,
        title=comparison.title,
        base=base,
        head=head,
        metrics=metrics,
        params=params,
        gates=gates,
        declared=new.declared,
        plots=tuple(plots),
        history=chart,
        stages=stages,
        plan_markdown=plan_markdown,
        run_url=run_url,
        notes=(*comparison.notes, *notes),
    )


def _read(
    repo: Path, settings: ReportSettings | None, wanted: list[tuple[str, str]]
) -> dict[str, Snapshot]:
    """Each distinct commit read once, whatever the number of names it has here; the head
    (``wanted[0]``) last: the newest revision is where sub-project dvc.yaml files are found."""
    first: dict[str, str] = {}
    for label, sha in wanted:
        first.setdefault(sha, label)
    order = [(label, sha) for sha, label in first.items()]
    read = read_snapshots(repo, settings, [*order[1:], order[0]])
    return {s.sha: s for s in read}


def _plot_specs(new: Snapshot, old: Snapshot | None) -> list[PlotSpec]:
    declared = new.declared
    specs = list(declared.plots)
    if old is not None:
        seen = {s.path for s in specs}
        specs += [s for s in old.declared.plots if s.path not in seen]
    return specs


def _charted(metrics: Diff, settings: ReportSettings | None) -> list[tuple[str, str]]:
    """(path, key) of the metrics a history chart draws: the gated ones first, then those with
    a direction (a count or a seed says nothing over versions), in file order, at most
    ``HISTORY_METRICS``."""
    directions = Directions(settings)
    gates = settings.gates if settings is not None else {}
    results = gating.evaluate(gates, metrics, directions).results
    gated = {(r.path, r.metric) for r in results if r.metric}
    numeric = [
        c
        for c in metrics.changes()
        if isinstance(c.new, int | float) and not isinstance(c.new, bool) and math.isfinite(c.new)
    ]
    chosen = [(c.path, c.key) for c in numeric if (c.path, c.key) in gated]
    chosen += [(c.path, c.key) for c in numeric
               if (c.path, c.key) not in gated and c.direction != Direction.NONE]  # fmt: skip
    return chosen[:HISTORY_METRICS]


def _history(
    artifact: str,
    stage: str,
    held: Sequence[HeldVersion],
    snapshots: dict[str, Snapshot],
    metrics: Diff,
    settings: ReportSettings | None,
) -> History:
    charted = _charted(metrics, settings)
    points = []
    for h in held:
        snap = snapshots[h.sha]
        values = {}
        for path, key in charted:
            read = snap.file(path, Kind.METRICS)
            if read is not None and key in read.values:
                values[f"{path}:{key}"] = read.values[key]
        points.append(HistoryPoint(h.version, h.sha, h.tag, values))
    return History(artifact, stage, tuple(f"{p}:{k}" for p, k in charted), tuple(points))


def repo_template(repo: Path, settings: ReportSettings | None) -> str | None:
    """The repository's own template text (``reports.template``), or None for ours."""
    if settings is None or not settings.template:
        return None
    from gitops.errors import UsageError

    try:
        return (repo / settings.template).read_text(encoding="utf-8")
    except (OSError, UnicodeError) as exc:
        raise UsageError(f"reports.template: cannot read {settings.template}: {exc}") from None
