"""Plots old vs new as chart points: columns picked as declared or found, numbers only, each side
downsampled to a readable count that keeps first, last, extremes and the curve's shape."""

from __future__ import annotations

import math

import pytest

from gitops.report.model import FileRead, FileStatus, Kind, PlotSpec, Snapshot, Value
from gitops.report.plots import downsample, plot_diffs, points

P = Kind.PLOTS


def plot(path: str, rows: list[dict[str, Value]]) -> FileRead:
    return FileRead(path, P, FileStatus.OK, rows=tuple(rows))


def snap(*files: FileRead) -> Snapshot:
    return Snapshot("rev", "0" * 40, files)


def curve(n: int) -> list[dict[str, Value]]:
    return [{"step": i, "loss": 1 / (i + 1), "acc": i / n, "phase": "train"} for i in range(n)]


def test_declared_x_and_y() -> None:
    rows = [{"step": 10, "loss": 0.5, "acc": 0.1}, {"step": 20, "loss": 0.4, "acc": 0.2}]
    [p] = plot_diffs(
        None, snap(plot("l.csv", rows)), [PlotSpec("l.csv", x="step", y=("loss",))], 50
    )
    assert (p.x, p.series, p.error) == ("step", ("loss",), "")
    assert p.new == ((10.0, {"loss": 0.5}), (20.0, {"loss": 0.4}))
    assert p.old == () and p.old_status == FileStatus.MISSING and p.new_status == FileStatus.OK


def test_default_y_is_every_numeric_column_but_x_in_first_seen_order_new_side_first() -> None:
    old = snap(plot("l.csv", [{"step": 0, "old_only": 1, "loss": 2}]))
    new = snap(
        plot("l.csv", [{"step": 0, "name": "a", "loss": 1, "ok": True}, {"step": 1, "acc": 0.5}])
    )
    [p] = plot_diffs(old, new, [PlotSpec("l.csv", x="step")], 50)
    assert p.series == ("loss", "acc", "old_only")  # strings and booleans are not series
    assert p.new == ((0.0, {"loss": 1.0}), (1.0, {"acc": 0.5}))
    assert p.old == ((0.0, {"old_only": 1.0, "loss": 2.0}),)


def test_no_x_is_the_row_number() -> None:
    [p] = plot_diffs(None, snap(plot("l.csv", [{"loss": 3}, {"loss": 2}])), [PlotSpec("l.csv")], 50)
    assert p.x is None
    assert p.new == ((0.0, {"loss": 3.0}), (1.0, {"loss": 2.0}))


def test_absent_columns_are_named_in_the_error() -> None:
    rows = [{"loss": 3}, {"loss": 2}]
    [p] = plot_diffs(
        None, snap(plot("l.csv", rows)), [PlotSpec("l.csv", x="epoch", y=("loss", "f1"))], 50
    )
    assert p.x is None
    assert p.error == "no column 'epoch': x is the row number; no column 'f1'"
    assert p.new == ((0.0, {"loss": 3.0}), (1.0, {"loss": 2.0}))


@pytest.mark.parametrize(
    ("row", "point"),
    [
        ({"x": 1, "y": 2.5}, (1.0, {"y": 2.5})),
        ({"x": 1, "y": "2.5"}, None),  # strings are not drawn
        ({"x": 1, "y": True}, None),  # nor booleans
        ({"x": 1, "y": math.nan}, None),
        ({"x": 1, "y": math.inf}, None),
        ({"x": math.nan, "y": 1}, None),  # a point needs a finite x
        ({"x": "a", "y": 1}, None),
        ({"y": 1}, None),
        ({"x": 1, "y": 2, "z": math.nan}, (1.0, {"y": 2.0})),  # z is left out of this point only
    ],
)
def test_only_finite_numbers_make_points(row: dict[str, Value], point: object) -> None:
    got = points([row], "x", ["y", "z"])
    assert got == ([point] if point is not None else [])


def test_broken_sides_keep_status_and_error_and_draw_nothing() -> None:
    old = snap(FileRead("l.csv", P, FileStatus.MALFORMED, error="line 2: 3 fields, expected 2"))
    new = snap(FileRead("l.csv", P, FileStatus.MISSING, error="not in the tree"))
    [p] = plot_diffs(old, new, [PlotSpec("l.csv", x="step")], 50)
    assert (p.old_status, p.new_status) == (FileStatus.MALFORMED, FileStatus.MISSING)
    assert p.error == "old: line 2: 3 fields, expected 2; new: not in the tree"
    assert (p.old, p.new, p.x) == ((), (), "step")  # no rows: no complaint about columns


def test_specs_in_order_and_a_file_no_snapshot_has() -> None:
    new = snap(plot("a.csv", [{"v": 1}]), plot("b.csv", [{"v": 2}]))
    out = plot_diffs(None, new, [PlotSpec("b.csv"), PlotSpec("none.csv"), PlotSpec("a.csv")], 50)
    assert [p.spec.path for p in out] == ["b.csv", "none.csv", "a.csv"]
    assert (out[1].new_status, out[1].new) == (FileStatus.MISSING, ())


def test_short_series_are_not_touched() -> None:
    pts = points(curve(50), "step", ["loss", "acc"])
    assert downsample(pts, ["loss", "acc"], 50) == pts


@pytest.mark.parametrize("n", [51, 200, 10_000])
@pytest.mark.parametrize("max_points", [2, 3, 20, 50])
def test_downsampled_to_at_most_max_points_keeping_first_and_last_in_order(
    n: int, max_points: int
) -> None:
    pts = points(curve(n), "step", ["loss", "acc"])
    out = downsample(pts, ["loss", "acc"], max_points)
    assert len(out) == max_points
    xs = [p[0] for p in out]
    assert xs == sorted(set(xs))  # in order, no point twice
    assert (out[0], out[-1]) == (pts[0], pts[-1])
    assert all(p in pts for p in out)


def test_extremes_and_spikes_survive() -> None:
    n = 5000
    rows = [{"step": i, "loss": 1 - i / n, "lr": 0.1} for i in range(n)]
    rows[1234]["loss"] = 5.0  # the worst moment: the global max
    rows[3210]["loss"] = -1.0  # the best: the global min
    rows[2718]["loss"] = 1 - 2718 / n + 0.3  # a spike that is no extreme: LTTB's job
    pts = points(rows, "step", ["loss", "lr"])
    kept = {p[0] for p in downsample(pts, ["loss", "lr"], 30)}
    assert {0.0, 1234.0, 3210.0, 2718.0, n - 1.0} <= kept


def test_each_side_is_downsampled_on_its_own() -> None:
    old = snap(plot("l.csv", curve(1000)))
    new = snap(plot("l.csv", curve(30)))
    [p] = plot_diffs(old, new, [PlotSpec("l.csv", x="step", y=("loss",))], 20)
    assert (len(p.old), len(p.new)) == (20, 20)
    assert p.old[-1][0] == 999.0 and p.new[-1][0] == 29.0


def test_many_series_and_few_points_keep_first_and_last() -> None:
    rows = [{f"s{k}": math.sin(i + k) for k in range(10)} for i in range(100)]
    series = [f"s{k}" for k in range(10)]
    out = downsample(points(rows, None, series), series, 5)
    assert len(out) == 5 and out[0][0] == 0.0 and out[-1][0] == 99.0
