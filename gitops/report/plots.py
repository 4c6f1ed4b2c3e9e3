"""Plots files old vs new, as points a chart can draw: picked columns, numbers only, few points.

Why downsample: a training curve of 10,000 steps drawn as a Mermaid chart in a PR comment is
unreadable and can push the comment past GitHub's 65,536 characters. Each side keeps at most
``max_points`` points, chosen by Largest-Triangle-Three-Buckets (LTTB, Steinarsson 2013) over all
drawn series at once (each series scaled by its own range, so a loss in 0..1 and a count in
0..10,000 weigh the same), plus the points LTTB must never lose: the first and the last, and
each series' minimum and maximum (the best and worst epoch). LTTB keeps a curve's shape far
better than taking every n-th point, which misses spikes.

Rules:
- x: ``spec.x`` when given (the row number, 0-based, when it is not given, or when rows exist
  and none has that column: the error says so); y: ``spec.y``, else every column with a
  number in some row, in first-seen order, but x.
- Points: rows whose x is a finite number and with at least one finite y; a y that is a
  string, a boolean, NaN or infinite is left out of that point (a chart cannot draw it).
- A side whose file is missing, malformed or unreadable keeps its status, has no points, and
  its error is in ``PlotDiff.error`` ("old: ..."/"new: ..."). No old snapshot: old is MISSING.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import isfinite

from gitops.report.model import FileRead, FileStatus, Kind, PlotDiff, PlotSpec, Snapshot, Value

Point = tuple[float, dict[str, float]]
_NUMBERS = (int, float)


def plot_diffs(
    old: Snapshot | None, new: Snapshot, specs: Sequence[PlotSpec], max_points: int
) -> list[PlotDiff]:
    """One PlotDiff per spec, in the specs' order (module docstring)."""
    return [_plot(spec, old, new, max_points) for spec in specs]


def _plot(spec: PlotSpec, old: Snapshot | None, new: Snapshot, max_points: int) -> PlotDiff:
    new_file = new.file(spec.path, Kind.PLOTS)
    old_file = old.file(spec.path, Kind.PLOTS) if old is not None else None
    new_rows = _rows(new_file)
    old_rows = _rows(old_file)
    errors = [
        f"{side}: {f.error}" for side, f in (("old", old_file), ("new", new_file)) if f and f.error
    ]
    x = spec.x
    if x is not None and (new_rows or old_rows) and not any(x in r for r in (*new_rows, *old_rows)):
        errors.append(f"no column {x!r}: x is the row number")
        x = None
    if spec.y:
        series = tuple(spec.y)
        absent = [y for y in series if not any(y in row for row in (*new_rows, *old_rows))]
        if absent and (new_rows or old_rows):
            errors.append("no column " + ", ".join(repr(y) for y in absent))
    else:
        series = _numeric_columns((*new_rows, *old_rows), x)
    return PlotDiff(
        spec=spec,
        x=x,
        series=series,
        old=tuple(downsample(points(old_rows, x, series), series, max_points)),
        new=tuple(downsample(points(new_rows, x, series), series, max_points)),
        old_status=old_file.status if old_file is not None else FileStatus.MISSING,
        new_status=new_file.status if new_file is not None else FileStatus.MISSING,
        error="; ".join(errors),
    )


def _rows(file: FileRead | None) -> tuple[dict[str, Value], ...]:
    if file is None or file.status != FileStatus.OK:
        return ()
    return file.rows


def _finite(value: object) -> bool:
    """A number a chart can draw: int or float (not bool), not NaN or infinite."""
    return type(value) in _NUMBERS and isfinite(value)  # type: ignore[arg-type]


def _numeric_columns(rows: Sequence[dict[str, Value]], x: str | None) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for row in rows:
        for column, value in row.items():
            if column != x and column not in found and _finite(value):
                found[column] = None
    return tuple(found)


def points(rows: Sequence[dict[str, Value]], x: str | None, series: Sequence[str]) -> list[Point]:
    """The drawable points of some rows: (x, {column: y}) with finite numbers only."""
    out: list[Point] = []
    for n, row in enumerate(rows):
        at = row.get(x) if x is not None else n
        if not _finite(at):
            continue
        ys = {y: float(row[y]) for y in series if _finite(row.get(y))}  # type: ignore[arg-type]
        if ys:
            out.append((float(at), ys))  # type: ignore[arg-type]
    return out


def downsample(pts: list[Point], series: Sequence[str], max_points: int) -> list[Point]:
    """At most ``max_points`` of ``pts`` in their order: first, last, each series' min and max,
    and LTTB's choice for the rest (module docstring)."""
    n = len(pts)
    if n <= max_points:
        return pts
    keep = {0, n - 1}
    for y in series:
        present = [i for i in range(n) if y in pts[i][1]]
        if present:
            keep.add(min(present, key=lambda i: pts[i][1][y]))
            keep.add(max(present, key=lambda i: pts[i][1][y]))
    if len(keep) >= max_points:  # many series, few points: the first, last, then extremes
        fixed = [0, n - 1] + sorted(keep - {0, n - 1})
        return [pts[i] for i in sorted(fixed[:max_points])]
    budget = max_points - len(keep)
    for i in _lttb(pts, series, budget + 2, keep):
        keep.add(i)
        if len(keep) == max_points:
            break
    return [pts[i] for i in sorted(keep)]


def _lttb(pts: list[Point], series: Sequence[str], target: int, fixed: set[int]) -> list[int]:
    """Largest-Triangle-Three-Buckets: ``target`` indexes (first and last included), the interior
    ones one per bucket, each the point making the largest triangle with the point chosen before
    and the next bucket's average; areas summed over the series, each scaled by its range.
    Points already ``fixed`` are skipped when choosing (they are kept anyway)."""
    n = len(pts)
    scale: dict[str, float] = {}
    for y in series:
        values = [p[1][y] for p in pts if y in p[1]]
        if values:
            scale[y] = (max(values) - min(values)) or 1.0
    xs = [p[0] for p in pts]
    x_scale = (max(xs) - min(xs)) or 1.0
    buckets = target - 2
    if buckets <= 0:
        return [0, n - 1]
    size = (n - 2) / buckets
    chosen = [0]
    a = 0
    for b in range(buckets):
        start = int(b * size) + 1
        end = min(int((b + 1) * size) + 1, n - 1)
        next_end = min(int((b + 2) * size) + 1, n - 1) if b + 1 < buckets else n
        next_start = end if b + 1 < buckets else n - 1
        nxt = pts[next_start:next_end] or [pts[n - 1]]
        avg_x = sum(p[0] for p in nxt) / len(nxt)
        avg_y = {y: _mean([p[1][y] for p in nxt if y in p[1]]) for y in scale}
        ax, ay = pts[a]
        best, best_area = -1, -1.0
        for i in range(start, max(end, start + 1)):
            if i in fixed:
                continue
            px, py = pts[i]
            area = 0.0
            for y, s in scale.items():
                if y in ay and y in py and avg_y[y] is not None:
                    area += abs(
                        (ax - avg_x) / x_scale * (py[y] - ay[y]) / s
                        - (ax - px) / x_scale * (avg_y[y] - ay[y]) / s
                    )
            if area > best_area:
                best, best_area = i, area
        if best >= 0:
            chosen.append(best)
            a = best
    chosen.append(n - 1)
    return chosen


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None
