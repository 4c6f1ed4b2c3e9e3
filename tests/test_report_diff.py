"""Directions and the diff: which way each metric should move, and old vs new per key, in a
stable order, without float noise, with NaN/inf, booleans, strings and broken files handled.
Pure functions on hand-built snapshots (reading files is test_report_read's job)."""

from __future__ import annotations

import math

import pytest

from gitops.report.diff import diff, subtract
from gitops.report.direction import Directions, Patterns, by_name, words
from gitops.report.model import (
    Direction,
    FileRead,
    FileStatus,
    Kind,
    Snapshot,
    Value,
    Verdict,
)
from gitops.report.settings import GateSettings, ReportSettings

M = Kind.METRICS
H, L, N = Direction.HIGHER, Direction.LOWER, Direction.NONE


def ok(
    path: str, values: dict[str, Value], kind: Kind = M, skipped: tuple[str, ...] = ()
) -> FileRead:
    return FileRead(path, kind, FileStatus.OK, dict(values), skipped=skipped)


def snap(*files: FileRead, label: str = "rev") -> Snapshot:
    return Snapshot(label, "0" * 40, files)


def one(old: Value | None, new: Value | None, key: str = "accuracy", kind: Kind = M):
    """The single Change of one key old -> new in metrics.json."""
    before = snap(ok("metrics.json", {} if old is None else {key: old}, kind))
    after = snap(ok("metrics.json", {} if new is None else {key: new}, kind))
    [change] = diff(before, after, kind, Directions(None)).changes()
    return change


# --- directions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("accuracy", H),
        ("f1", H),
        ("auc", H),
        ("label", H),  # unknown names: higher (numbers only; strings get NONE in the diff)
        ("loss", L),
        ("val_loss", L),
        ("train.loss", L),
        ("loss.train", L),  # a loss anywhere in the key, nothing in the last segment
        ("latency.mean", L),
        ("latency.p95", L),
        ("p95LatencyMs", L),  # camel case
        ("RMSE", L),
        ("meanAbsError", L),
        ("logLoss", L),
        ("eval.error_rate", L),
        ("training_time", L),
        ("model_size_bytes", L),
        ("wer", L),
        ("tokens_per_second", H),  # words after "per" are a denominator
        ("ms_per_token", L),
        ("epochs", N),  # counts
        ("n_samples", N),
        ("seed", N),
        ("cost_sensitive.acc", H),  # the last segment decides first
        ("memory_network.f1", H),
        ("timestamp", H),  # a word, not a substring: "time" is not in "timestamp"
        ("errors_fixed.total", L),
    ],
)
def test_direction_by_name(key: str, expected: Direction) -> None:
    assert by_name(key) == expected
    assert Directions(None)("metrics.json", key, M) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("val_loss", ["val", "loss"]),
        ("p95LatencyMs", ["p95", "latency", "ms"]),
        ("HTTPLatency", ["http", "latency"]),
        ("eval/x-y.z w", ["eval", "x", "y", "z", "w"]),
        ("requests_per_second", ["requests"]),
        ("top5Acc", ["top5", "acc"]),
    ],
)
def test_words(text: str, expected: list[str]) -> None:
    assert words(text) == expected


def test_params_have_no_direction_whatever_the_settings() -> None:
    d = Directions(ReportSettings(higher_is_better={"lr": True}))
    assert d("params.yaml", "lr", Kind.PARAMS) == N
    assert d("params.yaml", "loss", Kind.PARAMS) == N
    assert d("metrics.json", "lr", M) == H


def test_settings_beat_gates_beat_names() -> None:
    settings = ReportSettings(
        higher_is_better={"loss": True, "*.mystery": False},
        gates={
            "loss": GateSettings(higher_is_better=False),
            "acc*": GateSettings(higher_is_better=False),
        },
    )
    d = Directions(settings)
    assert d("m.json", "loss", M) == H  # settings win over the gate and the name
    assert d("m.json", "accuracy", M) == L  # the gate wins over the name
    assert d("m.json", "eval.mystery", M) == L  # a glob in the settings
    assert d("m.json", "f1", M) == H  # the name


def test_gates_given_apart_from_settings() -> None:
    d = Directions(ReportSettings(), gates={"f1": GateSettings(higher_is_better=False)})
    assert d("m.json", "f1", M) == L


def test_exact_names_win_over_globs_then_first_written_glob() -> None:
    settings = ReportSettings(higher_is_better={"*acc*": False, "acc*": True, "top_acc": True})
    d = Directions(settings)
    assert d("m.json", "top_acc", M) == H  # the exact name, though written last
    assert d("m.json", "acc_val", M) == L  # both globs match: the first written wins


def test_path_patterns_depend_on_the_file() -> None:
    settings = ReportSettings(higher_is_better={"eval/*.json:score": False})
    d = Directions(settings)
    assert d("eval/a.json", "score", M) == L
    assert d("train.json", "score", M) == H
    assert d("eval/a.json", "score", M) == L  # cached per (path, key), not per key


@pytest.mark.parametrize(
    ("pattern", "path", "key", "matches"),
    [
        ("accuracy", "m.json", "accuracy", True),
        ("accuracy", "m.json", "Accuracy", False),  # case sensitive
        ("*loss*", "m.json", "train.val_loss.mean", True),  # * crosses dots
        ("eval/*.f1", "m.json", "eval/a/b.f1", True),  # and slashes (a key pattern)
        ("eval/*.f1", "eval/x.json", "f1", False),  # no ":": the key only
        ("eval/*:f1", "eval/x.json", "f1", True),
        ("eval/*:f1", "train.json", "f1", False),
        ("*.json:*", "a.json", "anything", True),
        ("acc?", "m.json", "acc1", True),
        ("acc?", "m.json", "acc12", False),
        ("top[15]", "m.json", "top5", True),
        ("top[15]", "m.json", "top3", False),
        ("top[!15]", "m.json", "top3", True),
        ("top[!]]", "m.json", "topx", True),  # a class that excludes "]" (no literal to require)
        ("acc[0]", "m.json", "acc[0]", True),  # a name with brackets matches itself exactly
        ("top:1", "m.json", "top:1", True),  # a key with ":" matches itself exactly
        ("f1", "m.json", "eval.f1", False),  # a name is the whole key, not a suffix
    ],
)
def test_patterns(pattern: str, path: str, key: str, matches: bool) -> None:
    assert bool(Patterns([(pattern, 0)]).indexes(path, key)) is matches


def test_patterns_give_every_match_in_written_order() -> None:
    p = Patterns([("*loss", "a"), ("x", "b"), ("train.*", "c"), ("m.json:train.loss", "d")])
    assert p.indexes("m.json", "train.loss") == [3, 0, 2]  # the exact one first
    assert p.indexes("n.json", "train.loss") == [0, 2]
    assert p.indexes("m.json", "acc") == []
    assert p.first("n.json", "train.loss") == "a"


# --- the diff ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "key", "delta", "relative", "verdict"),
    [
        (0.8, 0.85, "accuracy", 0.05, 0.0625, Verdict.BETTER),
        (0.85, 0.8, "accuracy", -0.05, -0.05 / 0.85, Verdict.WORSE),
        (0.3, 0.25, "loss", -0.05, -0.16666666666666669, Verdict.BETTER),
        (0.25, 0.3, "loss", 0.05, 0.2, Verdict.WORSE),
        (10, 12, "accuracy", 2, 0.2, Verdict.BETTER),  # ints stay ints
        (10, 12, "epochs", 2, 0.2, Verdict.CHANGED),  # a count: no direction
        (1, 1.0, "accuracy", 0.0, 0.0, Verdict.SAME),
        (0, 0, "accuracy", 0, None, Verdict.SAME),
        (0, 0.5, "accuracy", 0.5, None, Verdict.BETTER),  # relative None when old is 0
        (-2, -1, "accuracy", 1, 0.5, Verdict.BETTER),  # relative to |old|
        (True, False, "converged", None, None, Verdict.CHANGED),  # booleans not subtracted
        (True, True, "converged", None, None, Verdict.SAME),
        (True, 1, "accuracy", None, None, Verdict.CHANGED),  # True is not 1 here
        ("1", 1, "accuracy", None, None, Verdict.CHANGED),
        ("relu", "gelu", "act", None, None, Verdict.CHANGED),
        ("relu", "relu", "act", None, None, Verdict.SAME),
        (math.nan, math.nan, "accuracy", None, None, Verdict.SAME),
        (math.nan, 0.9, "accuracy", None, None, Verdict.CHANGED),
        (0.9, math.nan, "accuracy", None, None, Verdict.CHANGED),
        (0.3, math.inf, "loss", None, None, Verdict.WORSE),
        (math.inf, 0.3, "loss", None, None, Verdict.BETTER),
        (math.inf, math.inf, "loss", None, None, Verdict.SAME),
        (math.inf, -math.inf, "accuracy", None, None, Verdict.WORSE),
        (None, 0.5, "accuracy", None, None, Verdict.ADDED),
        (0.5, None, "accuracy", None, None, Verdict.REMOVED),
    ],
)
def test_change_rules(
    old: Value | None,
    new: Value | None,
    key: str,
    delta: float | None,
    relative: float | None,
    verdict: Verdict,
) -> None:
    c = one(old, new, key)
    assert (c.delta, c.relative, c.verdict) == (delta, relative, verdict)
    assert type(c.delta) is type(delta)
    if c.old is not None and c.new is not None:
        assert c.old is old and c.new is new  # values kept as the file held them


@pytest.mark.parametrize(
    ("old", "new", "delta"),
    [
        (0.1, 0.3, 0.2),  # 0.3 - 0.1 is 0.19999999999999998 in floats
        (0.1, 0.2, 0.1),
        (0.77, 0.8, 0.03),  # DVC's JSON: 0.030000000000000027
        (0.91, 0.93, 0.02),  # DVC's JSON: 0.020000000000000018
        (0.3, 0.25, -0.05),  # DVC's JSON: -0.04999999999999999
        (0.8512345, 0.8734567891, 0.0222222891),  # DVC's JSON: 0.022222289100000014
        (1e-07, 3e-07, 2e-07),
        (1, 1.1, 0.1),  # int and float
        (10**20, 10**20 + 1, 1),  # ints exactly, however large
        (2.5e20, 1e20, -1.5e20),
    ],
)
def test_no_float_noise_in_deltas(old: float, new: float, delta: float) -> None:
    assert subtract(old, new) == delta
    assert repr(one(old, new).delta) == repr(delta)


def test_direction_is_none_for_strings_and_booleans_and_params() -> None:
    assert one("a", "b", "accuracy").direction == N
    assert one(True, False, "accuracy").direction == N
    assert one(0.1, 0.2, "accuracy").direction == H
    assert one("a", 0.2, "loss").direction == L  # a number on one side: the metric's direction
    param = one(0.01, 0.02, "lr", Kind.PARAMS)
    assert (param.direction, param.verdict, param.delta) == (N, Verdict.CHANGED, 0.01)


def test_order_files_as_declared_then_old_only_keys_as_in_file_then_removed() -> None:
    old = snap(
        ok("b.json", {"z": 1, "gone": 2, "a": 3}),
        ok("old_only.json", {"x": 1}),
        ok("a.json", {"k": 1}),
    )
    new = snap(ok("a.json", {"k": 2}), ok("b.json", {"a": 3, "new": 5, "z": 0}))
    d = diff(old, new, M, Directions(None))
    assert [f.path for f in d.files] == ["a.json", "b.json", "old_only.json"]
    b = d.files[1]
    assert [(c.key, c.verdict) for c in b.changes] == [
        ("a", Verdict.SAME),
        ("new", Verdict.ADDED),
        ("z", Verdict.WORSE),
        ("gone", Verdict.REMOVED),
    ]
    gone = d.files[2]
    assert (gone.old_status, gone.new_status, gone.new_error) == (
        FileStatus.OK,
        FileStatus.MISSING,
        "not declared",
    )
    assert [c.verdict for c in gone.changes] == [Verdict.REMOVED]
    # the same inputs give the same output, every time
    assert diff(old, new, M, Directions(None)) == d


def test_only_the_asked_kind_is_diffed() -> None:
    old = snap(ok("m.json", {"a": 1}), ok("params.yaml", {"lr": 0.1}, Kind.PARAMS))
    new = snap(ok("m.json", {"a": 2}), ok("params.yaml", {"lr": 0.2}, Kind.PARAMS))
    assert [c.key for c in diff(old, new, Kind.PARAMS, Directions(None)).changes()] == ["lr"]
    assert [c.key for c in diff(old, new, M, Directions(None)).changes()] == ["a"]


@pytest.mark.parametrize(
    "status", [FileStatus.MISSING, FileStatus.MALFORMED, FileStatus.UNREADABLE]
)
def test_a_broken_new_file_keeps_its_status_and_error_and_its_keys_read_as_removed(
    status: FileStatus,
) -> None:
    old = snap(ok("m.json", {"acc": 0.8, "loss": 0.2}))
    new = snap(FileRead("m.json", M, status, error="line 3: expected ','"))
    [f] = diff(old, new, M, Directions(None)).files
    assert (f.old_status, f.new_status, f.new_error) == (
        FileStatus.OK,
        status,
        "line 3: expected ','",
    )
    assert [(c.key, c.old, c.new, c.verdict) for c in f.changes] == [
        ("acc", 0.8, None, Verdict.REMOVED),
        ("loss", 0.2, None, Verdict.REMOVED),
    ]


def test_a_broken_old_file_makes_every_key_added() -> None:
    old = snap(FileRead("m.json", M, FileStatus.MALFORMED, error="not a mapping"))
    new = snap(ok("m.json", {"acc": 0.8}))
    [f] = diff(old, new, M, Directions(None)).files
    assert (f.old_status, f.old_error, f.new_status) == (
        FileStatus.MALFORMED,
        "not a mapping",
        FileStatus.OK,
    )
    assert [c.verdict for c in f.changes] == [Verdict.ADDED]


def test_no_old_snapshot_every_key_added_and_old_missing_without_error() -> None:
    new = snap(ok("m.json", {"acc": 0.8, "label": "x"}), ok("e.json", {}))
    d = diff(None, new, M, Directions(None))
    assert [(f.path, f.old_status, f.old_error) for f in d.files] == [
        ("m.json", FileStatus.MISSING, ""),
        ("e.json", FileStatus.MISSING, ""),
    ]
    assert [(c.key, c.old, c.verdict) for c in d.changes()] == [
        ("acc", None, Verdict.ADDED),
        ("label", None, Verdict.ADDED),
    ]


def test_a_file_new_in_this_revision_says_not_declared_before() -> None:
    d = diff(snap(), snap(ok("m.json", {"a": 1})), M, Directions(None))
    [f] = d.files
    assert (f.old_status, f.old_error) == (FileStatus.MISSING, "not declared")


def test_skipped_keys_are_those_no_side_can_show_new_side_first() -> None:
    old = snap(ok("m.json", {"was_number": 1}, skipped=("per_class", "old_list")))
    new = snap(ok("m.json", {"acc": 1}, skipped=("s", "per_class", "was_number")))
    [f] = diff(old, new, M, Directions(None)).files
    assert f.skipped == ("s", "per_class", "old_list")
    assert [(c.key, c.verdict) for c in f.changes] == [
        ("acc", Verdict.ADDED),
        ("was_number", Verdict.REMOVED),
    ]


def test_every_key_gets_a_change_unchanged_ones_too() -> None:
    values = {f"m{i}": i * 0.1 for i in range(100)}
    d = diff(snap(ok("m.json", values)), snap(ok("m.json", values)), M, Directions(None))
    assert len(d.changes()) == 100
    assert {c.verdict for c in d.changes()} == {Verdict.SAME}


def test_a_path_declared_twice_is_diffed_once_where_first_declared() -> None:
    old = snap(ok("b.json", {"x": 1}), ok("a.json", {"y": 1}), ok("b.json", {"x": 9}))
    new = snap(ok("a.json", {"y": 2}), ok("b.json", {"x": 2}), ok("a.json", {"y": 7}))
    d = diff(old, new, M, Directions(None))
    assert [(c.path, c.old, c.new) for c in d.changes()] == [("a.json", 1, 2), ("b.json", 1, 2)]
