"""The report on a terminal (``gitops report --format text``): aligned columns, colour on a TTY.

Every string is one line with controls and invisible characters shown as escapes
(``gitops.safetext.one_line``): a metric named ``"\\x1b[2J"`` cannot clear the screen. Colour
marks only the verdict word (green better, red worse), so columns align either way. Charts
become sparklines (``▁▂▃▅▇``), old and new side by side.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from gitops.report.model import (
    Diff,
    FileStatus,
    GateReport,
    GateStatus,
    History,
    PlotDiff,
    Report,
    Side,
    Value,
    Verdict,
)
from gitops.report.numbers import format_column, format_delta
from gitops.report.render import counts
from gitops.safetext import one_line
from gitops.text import shorten

CELL = 60  # characters of a name in a column at most
SPARK = "▁▂▃▄▅▆▇█"
_COLOURS = {"green": "32", "red": "31", "yellow": "33", "dim": "2", "bold": "1"}
_VERDICT_COLOUR = {
    Verdict.BETTER: "green",
    Verdict.WORSE: "red",
    Verdict.CHANGED: "yellow",
    Verdict.ADDED: "yellow",
    Verdict.REMOVED: "yellow",
    Verdict.SAME: "dim",
}


def _clean(text: str) -> str:
    return shorten(one_line(text), CELL)


def _paint(text: str, colour: str, on: bool) -> str:
    return f"\x1b[{_COLOURS[colour]}m{text}\x1b[0m" if on and text else text


def _columns(rows: Sequence[Sequence[str]], last: Sequence[str] = ()) -> list[str]:
    """Rows aligned on their widest cell; ``last`` (already coloured) appended unpadded."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for n, row in enumerate(rows):
        line = "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row))
        if last:
            line += "  " + last[n]
        out.append(line.rstrip())
    return out


def _side(s: Side | None) -> str:
    if s is None:
        return "nothing"
    return f"{_clean(s.label)} ({s.sha[:7]})" if s.sha else _clean(s.label)


def _values(values: Sequence[Value | None]) -> list[str]:
    shown = format_column(values)
    return ["-" if v is None else _clean(t) for v, t in zip(values, shown, strict=True)]


def _file_notes(diff: Diff, report: Report) -> list[str]:
    out = []
    for f in diff.files:
        for status, error, s in (
            (f.new_status, f.new_error, report.head),
            (f.old_status, f.old_error, report.base),
        ):
            if status is not FileStatus.OK and s is not None:
                why = f": {_clean(error)}" if error else ""
                out.append(f"! {_clean(f.path)}: {status.value} in {_clean(s.label)}{why}")
        if f.skipped:
            keys = ", ".join(_clean(k) for k in f.skipped)
            out.append(f"  {_clean(f.path)}: not shown (lists or nulls): {shorten(keys, 200)}")
    return out


def _diff_section(title: str, diff: Diff, report: Report, color: bool) -> list[str]:
    if not diff.files:
        return []
    out = ["", _paint(title, "bold", color)]
    out += _file_notes(diff, report)
    changes = diff.changes()
    if report.base is None:
        rows = [c for c in changes if c.new is not None]
        if rows:
            values = _values([c.new for c in rows])
            table = [["PATH", "KEY", "VALUE"]]
            table += [[_clean(c.path), _clean(c.key), values[i]] for i, c in enumerate(rows)]
            out += _columns(table)
        return out
    moved = [c for c in changes if c.verdict is not Verdict.SAME]
    same = len(changes) - len(moved)
    if moved:
        both = _values([c.old for c in moved] + [c.new for c in moved])
        table = [["PATH", "KEY", _clean(report.base.label), _clean(_head(report)), "CHANGE", "%"]]
        verdicts = [""]
        for i, c in enumerate(moved):
            change, pct = format_delta(c)
            table.append(
                [_clean(c.path), _clean(c.key), both[i], both[len(moved) + i], change, pct]
            )
            verdicts.append(_paint(c.verdict.value, _VERDICT_COLOUR[c.verdict], color))
        out += _columns(table, verdicts)
    else:
        out.append("nothing changed")
    if same:
        out.append(_paint(f"({same} unchanged)", "dim", color))
    return out


def _head(report: Report) -> str:
    return report.head.label


def _gates(gates: GateReport, color: bool) -> list[str]:
    if not gates.results:
        return []
    failed = gates.failed
    if failed:
        head = _paint(f"gates: FAIL, {len(failed)} of {len(gates.results)}", "red", color)
    else:
        passed = sum(1 for r in gates.results if r.status is GateStatus.PASS)
        head = _paint(f"gates: pass ({passed})", "green", color)
    out = [head]
    for r in gates.results:
        colour = "green" if r.status is GateStatus.PASS else "dim"
        if r in failed:
            colour = "red"
        out.append(f"  {_paint(r.status.value, colour, color)}  {_clean(r.reason)}")
    return out


def sparkline(values: Sequence[float]) -> str:
    """``▁▃▅▇``: finite values scaled between their minimum and maximum; others as spaces."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return ""
    low, high = min(finite), max(finite)
    span = high - low
    out = []
    for v in values:
        if not math.isfinite(v):
            out.append(" ")
        elif span == 0:
            out.append(SPARK[len(SPARK) // 2])
        else:
            out.append(SPARK[min(len(SPARK) - 1, int((v - low) / span * len(SPARK)))])
    return "".join(out)


def _history(history: History | None) -> list[str]:
    if history is None or not history.points:
        return []
    out = ["", f"HISTORY of {_clean(history.artifact)} in {_clean(history.stage)}"]
    out.append(
        f"  versions: {_clean(history.points[0].version)} .. "
        f"{_clean(history.points[-1].version)} ({len(history.points)})"
    )
    for metric in history.metrics:
        raw = [history_value(p.values.get(metric)) for p in history.points]
        last = format_column([p.values.get(metric) for p in history.points])[-1]
        out.append(f"  {_clean(metric)}  {sparkline(raw)}  {_clean(last)}")
    return out


def history_value(value: Value | None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    return float(value)


def _plots(plots: Sequence[PlotDiff]) -> list[str]:
    if not plots:
        return []
    out = ["", "PLOTS"]
    for plot in plots:
        name = _clean(plot.spec.title or plot.spec.path)
        if plot.error:
            out.append(f"! {name}: {_clean(plot.error)}")
        for column in plot.series:
            old = [row.get(column, math.nan) for _, row in plot.old]
            new = [row.get(column, math.nan) for _, row in plot.new]
            out.append(f"  {name}: {_clean(column)}  old {sparkline(old)}  new {sparkline(new)}")
    return out


def render(report: Report, color: bool) -> str:
    """The whole report as terminal text, ending with a newline."""
    out = [_paint(_clean(report.title) or "metrics", "bold", color)]
    if report.base is None:
        out.append(f"{_side(report.head)}: first version here, nothing to compare with")
    else:
        c = counts(report.metrics)
        parts = [f"{c['better']} better", f"{c['worse']} worse"]
        parts += [f"{c[w]} {w}" for w in ("changed", "added", "removed") if c[w]]
        parts.append(f"{c['same']} unchanged")
        out.append(f"{_side(report.base)} -> {_side(report.head)}: {', '.join(parts)}")
    out += _gates(report.gates, color)
    out += [f"note: {_clean(n)}" for n in report.notes]
    out += _diff_section("METRICS", report.metrics, report, color)
    out += _diff_section("PARAMS", report.params, report, color)
    out += _plots(report.plots)
    out += _history(report.history)
    if report.stages:
        out += ["", "STAGES"]
        rows = [["ARTIFACT", "STAGE", "HOLDS", "BETTER", "WORSE", "GATES"]]
        for s in report.stages:
            c = counts(s.diff)
            gate = "-" if not s.gates.results else ("pass" if s.gates.passed else "FAIL")
            rows.append(
                [
                    _clean(s.artifact),
                    _clean(s.stage),
                    _clean(s.version),
                    str(c["better"]),
                    str(c["worse"]),
                    gate,
                ]
            )
        out += _columns(rows)
    if report.run_url:
        out += ["", f"run: {_clean(report.run_url)}"]
    return "\n".join(out) + "\n"
