"""Gates on a diff: min, max, max_drop (absolute and relative, by direction), required, globs,
non-numbers, and reasons that name the metric, its value and the limit without float noise.

Run as a script (``python tests/test_report_gates.py``) it prints the time of diffing 10,000
metrics and judging 50 glob gates over them (median of 5): printed, never asserted."""

from __future__ import annotations

import math

import pytest

from gitops.report.diff import diff
from gitops.report.direction import Directions
from gitops.report.gates import evaluate, fmt, judge
from gitops.report.model import (
    Change,
    Direction,
    FileRead,
    FileStatus,
    GateResult,
    GateStatus,
    Kind,
    Snapshot,
    Value,
)
from gitops.report.settings import GateSettings, ReportSettings

M = Kind.METRICS
PASS, FAIL, MISSING, SKIPPED = (
    GateStatus.PASS,
    GateStatus.FAIL,
    GateStatus.MISSING,
    GateStatus.SKIPPED,
)


def snap(*files: FileRead) -> Snapshot:
    return Snapshot("rev", "0" * 40, files)


def ok(path: str, values: dict[str, Value]) -> FileRead:
    return FileRead(path, M, FileStatus.OK, dict(values))


def gated(gates: dict[str, GateSettings], old: Snapshot | None, new: Snapshot) -> list[GateResult]:
    settings = ReportSettings(gates=gates)
    d = Directions(settings)
    return list(evaluate(settings.gates, diff(old, new, M, d), d).results)


def single(
    gate: GateSettings, old: Value | None, new: Value | None, key: str = "accuracy"
) -> tuple[GateStatus, str]:
    """One gate on one metric of metrics.json, old -> new."""
    before = snap(ok("metrics.json", {} if old is None else {key: old}))
    after = snap(ok("metrics.json", {} if new is None else {key: new}))
    [result] = gated({key: gate}, before, after)
    return result.status, result.reason


@pytest.mark.parametrize(
    ("gate", "old", "new", "key", "status", "reason"),
    [
        # min / max on the new value
        (GateSettings(min=0.85), 0.9, 0.81, "accuracy", FAIL, "accuracy 0.81 < min 0.85"),
        (GateSettings(min=0.85), 0.9, 0.85, "accuracy", PASS, "accuracy 0.85 passes min 0.85"),
        (GateSettings(max=0.4), 0.3, 0.5, "loss", FAIL, "loss 0.5 > max 0.4"),
        (GateSettings(max=0.4), 0.3, 0.4, "loss", PASS, "loss 0.4 passes max 0.4"),
        (
            GateSettings(min=0.9, max=0.95),
            None,
            0.99,
            "accuracy",
            FAIL,
            "accuracy 0.99 > max 0.95",
        ),
        (GateSettings(min=1), 2, 0, "accuracy", FAIL, "accuracy 0 < min 1"),  # ints print as ints
        # max_drop, absolute, by direction
        (
            GateSettings(max_drop=0.01),
            0.85,
            0.81,
            "accuracy",
            FAIL,
            "accuracy fell 0.04 from 0.85 to 0.81 (max_drop 0.01)",
        ),
        (
            GateSettings(max_drop=0.04),
            0.85,
            0.81,
            "accuracy",
            PASS,
            "accuracy 0.81 passes max_drop 0.04",
        ),
        (
            GateSettings(max_drop=0.01),
            0.81,
            0.95,
            "accuracy",
            PASS,
            "accuracy 0.95 passes max_drop 0.01",
        ),
        (
            GateSettings(max_drop=0.01),
            0.2,
            0.25,
            "loss",
            FAIL,
            "loss rose 0.05 from 0.2 to 0.25 (max_drop 0.01)",
        ),
        (GateSettings(max_drop=0.01), 0.25, 0.1, "loss", PASS, "loss 0.1 passes max_drop 0.01"),
        (
            GateSettings(max_drop=1),
            10,
            13,
            "epochs",
            FAIL,
            "epochs moved 3 from 10 to 13 (max_drop 1)",  # no direction: either way counts
        ),
        (
            GateSettings(max_drop=1),
            10,
            7,
            "epochs",
            FAIL,
            "epochs moved 3 from 10 to 7 (max_drop 1)",
        ),
        (
            GateSettings(max_drop=0.01, higher_is_better=False),
            0.81,
            0.85,
            "accuracy",
            FAIL,
            "accuracy rose 0.04 from 0.81 to 0.85 (max_drop 0.01)",  # the gate's direction
        ),
        # max_drop, relative to |old|
        (
            GateSettings(max_drop="2%"),
            0.85,
            0.81,
            "accuracy",
            FAIL,
            "accuracy fell 0.04 (4.71%) from 0.85 to 0.81 (max_drop 2%)",
        ),
        (
            GateSettings(max_drop="5%"),
            0.85,
            0.81,
            "accuracy",
            PASS,
            "accuracy 0.81 passes max_drop 5%",
        ),
        # exactly at the limit passes: 0.8 * 5% is 0.04 in decimals (floats say 0.04000000000000001)
        (
            GateSettings(max_drop="5%"),
            0.8,
            0.76,
            "accuracy",
            PASS,
            "accuracy 0.76 passes max_drop 5%",
        ),
        (
            GateSettings(max_drop=0.04),
            0.8,
            0.76,
            "accuracy",
            PASS,
            "accuracy 0.76 passes max_drop 0.04",
        ),
        (
            GateSettings(max_drop="10%"),
            0,
            0.001,
            "loss",
            FAIL,
            "loss rose 0.001 from 0 to 0.001 (max_drop 10%)",  # relative to 0: any worsening
        ),
        (
            GateSettings(max_drop="10%"),
            -2,
            -2.1,
            "accuracy",
            PASS,
            "accuracy -2.1 passes max_drop 10%",
        ),
        # the base cannot be compared: max_drop is not checked, and the reason says so
        (
            GateSettings(max_drop=0.01),
            None,
            0.5,
            "accuracy",
            PASS,
            "accuracy 0.5 passes max_drop 0.01; max_drop not checked: no base value",
        ),
        (
            GateSettings(max_drop=0.01),
            math.nan,
            0.5,
            "accuracy",
            PASS,
            "accuracy 0.5 passes max_drop 0.01; max_drop not checked: the base value is NaN",
        ),
        (
            GateSettings(max_drop=0.01),
            "n/a",
            0.5,
            "accuracy",
            PASS,
            "accuracy 0.5 passes max_drop 0.01; "
            "max_drop not checked: the base value is the string 'n/a'",
        ),
        # a new value that is not a number fails any rule
        (
            GateSettings(min=0.5),
            0.6,
            math.nan,
            "accuracy",
            FAIL,
            "accuracy is NaN, not a number (min 0.5)",
        ),
        (
            GateSettings(max_drop="5%"),
            0.6,
            "oops",
            "accuracy",
            FAIL,
            "accuracy is the string 'oops', not a number (max_drop 5%)",
        ),
        (
            GateSettings(max=1),
            0.6,
            True,
            "accuracy",
            FAIL,
            "accuracy is true, not a number (max 1)",
        ),
        # infinities compare
        (GateSettings(max=10), 1, math.inf, "loss", FAIL, "loss inf > max 10"),
        (
            GateSettings(max_drop=5),
            1,
            math.inf,
            "loss",
            FAIL,
            "loss rose inf from 1 to inf (max_drop 5)",
        ),
        (GateSettings(max_drop=5), math.inf, 1, "loss", PASS, "loss 1 passes max_drop 5"),
        # required, and no rule at all
        (
            GateSettings(required=True),
            0.5,
            None,
            "accuracy",
            MISSING,
            "accuracy is missing in the new revision",
        ),
        (
            GateSettings(min=0.5),
            0.5,
            None,
            "accuracy",
            SKIPPED,
            "accuracy is not in the new revision",
        ),
        (GateSettings(required=True), None, "fine", "label", PASS, "label is present ('fine')"),
        (GateSettings(), None, 0.5, "accuracy", PASS, "accuracy is present (0.5)"),
        # several failures: every one named
        (
            GateSettings(min=0.9, max_drop=0.01),
            0.95,
            0.5,
            "accuracy",
            FAIL,
            "accuracy 0.5 < min 0.9; accuracy fell 0.45 from 0.95 to 0.5 (max_drop 0.01)",
        ),
    ],
)
def test_gate_rules(
    gate: GateSettings,
    old: Value | None,
    new: Value | None,
    key: str,
    status: GateStatus,
    reason: str,
) -> None:
    assert single(gate, old, new, key) == (status, reason)


def test_no_float_noise_in_reasons() -> None:
    status, reason = single(GateSettings(max_drop=0.1), 0.3, 0.1)
    assert (status, reason) == (FAIL, "accuracy fell 0.2 from 0.3 to 0.1 (max_drop 0.1)")
    assert "0000" not in reason and "9999" not in reason


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.1 + 0.2, "0.30000000000000004"),  # a stored value prints as it is: never rounded away
        (0.3, "0.3"),
        (2.0, "2"),
        (3, "3"),
        (True, "true"),
        (False, "false"),
        (math.nan, "NaN"),
        (-math.inf, "-inf"),
        (1.5e-07, "1.5e-07"),
        ("x" * 50, repr("x" * 39 + "…")),
    ],
)
def test_fmt(value: Value, text: str) -> None:
    assert fmt(value) == text


def test_a_glob_gives_one_result_per_metric_in_diff_order() -> None:
    old = snap(ok("a.json", {"val_loss": 0.2, "acc": 0.9}), ok("b.json", {"loss": 0.5}))
    new = snap(
        ok("a.json", {"val_loss": 0.3, "acc": 0.9}), ok("b.json", {"loss": 0.4, "train.loss": 1})
    )
    results = gated({"*loss": GateSettings(max_drop=0.05)}, old, new)
    assert [(r.gate, r.path, r.metric, r.status) for r in results] == [
        ("*loss", "a.json", "val_loss", FAIL),
        ("*loss", "b.json", "loss", PASS),
        ("*loss", "b.json", "train.loss", PASS),
    ]


def test_gates_in_written_order_a_metric_under_several_gates() -> None:
    new = snap(ok("m.json", {"acc": 0.9, "f1": 0.7}))
    results = gated(
        {
            "f1": GateSettings(min=0.8),
            "*": GateSettings(required=True),
            "acc": GateSettings(min=0.5),
        },
        None,
        new,
    )
    assert [(r.gate, r.metric, r.status) for r in results] == [
        ("f1", "f1", FAIL),
        ("*", "acc", PASS),
        ("*", "f1", PASS),
        ("acc", "acc", PASS),
    ]


def test_a_gate_matching_nothing_is_missing_when_required_else_skipped() -> None:
    new = snap(ok("m.json", {"acc": 0.9}))
    results = gated(
        {"eval/*:f1": GateSettings(required=True), "*loss*": GateSettings(max=1)}, None, new
    )
    assert [(r.gate, r.metric, r.path, r.status, r.reason) for r in results] == [
        ("eval/*:f1", "", "", MISSING, "no metric matches 'eval/*:f1'"),
        ("*loss*", "", "", SKIPPED, "no metric matches '*loss*'"),
    ]


def test_path_gates_match_path_and_key() -> None:
    new = snap(ok("eval/a.json", {"f1": 0.5}), ok("train.json", {"f1": 0.1}))
    results = gated({"eval/*:f1": GateSettings(min=0.4)}, None, new)
    assert [(r.path, r.status) for r in results] == [("eval/a.json", PASS)]


def test_required_metric_whose_file_broke_says_why() -> None:
    old = snap(ok("m.json", {"acc": 0.9}))
    new = snap(FileRead("m.json", M, FileStatus.MALFORMED, error="line 2: bad"))
    [r] = gated({"acc": GateSettings(required=True, min=0.5)}, old, new)
    assert (r.status, r.reason) == (
        MISSING,
        "acc is missing in the new revision (m.json is malformed)",
    )


def test_report_verdict() -> None:
    new = snap(ok("m.json", {"acc": 0.9, "loss": 0.5}))
    settings = ReportSettings(
        gates={"acc": GateSettings(min=0.5), "loss": GateSettings(max=0.1), "f1": GateSettings()}
    )
    d = Directions(settings)
    report = evaluate(settings.gates, diff(None, new, M, d), d)
    assert not report.passed
    assert [(r.gate, r.status) for r in report.failed] == [("loss", FAIL)]
    passing = evaluate(
        {"acc": settings.gates["acc"], "f1": settings.gates["f1"]}, diff(None, new, M, d), d
    )
    assert passing.passed  # a skipped gate does not fail


def test_no_gates_no_results() -> None:
    report = evaluate(
        {}, diff(None, snap(ok("m.json", {"a": 1})), M, Directions(None)), Directions(None)
    )
    assert report.results == () and report.passed


def test_judge_alone_for_promotion_policies() -> None:
    change = Change("m.json", "acc", M, 0.9, 0.8, -0.1, -0.1 / 0.9, Direction.HIGHER, "worse")  # type: ignore[arg-type]
    status, reason = judge(GateSettings(max_drop="5%"), change, Directions(None))
    assert (status, reason) == (FAIL, "acc fell 0.1 (11.1%) from 0.9 to 0.8 (max_drop 5%)")


def _bench() -> None:
    """10,000 metrics (100 files x 100 keys, every key distinct) diffed, then 50 glob gates."""
    import random
    import statistics
    import time

    rng = random.Random(1)
    names = [
        "accuracy",
        "loss",
        "f1",
        "precision",
        "recall",
        "auc",
        "rmse",
        "latency_ms",
        "epochs",
        "label",
    ]

    def side(shift: float) -> Snapshot:
        files = []
        for f in range(100):
            values: dict[str, Value] = {}
            for i in range(100):
                key = f"block{f}.layer{i // 10}.{names[i % 10]}_{i}"
                values[key] = "x" if i % 10 == 9 else round(rng.random() + shift, 4)
            files.append(ok(f"eval/part{f}/metrics.json", values))
        return snap(*files)

    old, new = side(0.0), side(0.01)
    gates: dict[str, GateSettings] = {}
    for j in range(50):
        k, n = j % 10, names[j % 10]
        pattern = [
            f"*{n}*",
            f"*layer{k}.*",
            f"eval/part{k * 7}/*:*{n}_*",
            f"*.{n}_{k * 11}",
            f"block{k}?.*",
        ][j // 10]
        gates[pattern] = GateSettings(min=0.1, max_drop="5%")
    assert len(gates) == 50
    settings = ReportSettings(gates=gates)
    runs: dict[str, list[float]] = {"diff": [], "gates": [], "both": []}
    for _ in range(5):
        t0 = time.perf_counter()
        directions = Directions(settings)
        metrics = diff(old, new, M, directions)
        t1 = time.perf_counter()
        report = evaluate(settings.gates, metrics, directions)
        t2 = time.perf_counter()
        runs["diff"].append(t1 - t0)
        runs["gates"].append(t2 - t1)
        runs["both"].append(t2 - t0)
    print(f"{len(metrics.changes())} metrics, {len(gates)} gates, {len(report.results)} results")
    for name, times in runs.items():
        print(f"{name}: median {statistics.median(times) * 1000:.1f} ms of {len(times)}")


if __name__ == "__main__":
    _bench()
