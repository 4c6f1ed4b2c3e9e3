"""Reports built by hand from the model, typical and nasty, for the rendering tests, the golden
files and the rendering benchmark. The diff rules are followed (delta exact, relative to |old|,
verdict by direction) but nothing here computes a diff for the product: that is diff.py's job.
"""

from __future__ import annotations

import math
from decimal import Decimal

from gitops.report.model import (
    Change,
    Declared,
    Diff,
    Direction,
    FileDiff,
    FileStatus,
    GateReport,
    GateResult,
    GateStatus,
    History,
    HistoryPoint,
    Kind,
    PlotDiff,
    PlotSpec,
    Report,
    Side,
    StageHolding,
    Value,
    Verdict,
)

SHA_A = "a" * 40
SHA_B = "b1c2d3e4f5" * 4
URL = "https://github.com/acme/models"
BASE = Side("main", SHA_A, f"{URL}/commit/{SHA_A}")
HEAD = Side("feature/better-model", SHA_B, f"{URL}/commit/{SHA_B}")
RUN = f"{URL}/actions/runs/42"
PLAN = (
    "## Deployment plan\n\n| Environment | Artifact | Action | From | To | Note |\n"
    "|---|---|---|---|---|---|\n| `prod` | `churn` | update | `v1.1.0` | `v1.2.0` |  |\n"
)
HOSTILE = (
    "a|b",
    "x`y``z",
    "line\nbreak",
    "<script>alert(1)</script>",
    "@team",
    "[x](https://evil.example)",
    "`|`",
    "<!-- hidden -->",
    "-->",
    "![img](https://evil.example/i.png)",
    "**bold** _it_ #1",
    "%%{init: {'theme':'dark'}}%%",
    '"quoted" \\ back',
)


def _number(v: Value | None) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def change(
    path: str,
    key: str,
    old: Value | None,
    new: Value | None,
    direction: Direction = Direction.HIGHER,
    kind: Kind = Kind.METRICS,
) -> Change:
    """A Change as diff.py would make it (hand-rolled for test data)."""
    delta: float | int | None = None
    relative: float | None = None
    if kind is Kind.PARAMS:
        direction = Direction.NONE
    if _number(old) and _number(new):
        assert isinstance(old, int | float) and isinstance(new, int | float)
        if math.isfinite(old) and math.isfinite(new):
            if isinstance(old, int) and isinstance(new, int):
                delta = new - old
            else:
                delta = float(Decimal(repr(float(new))) - Decimal(repr(float(old))))
            relative = delta / abs(old) if old else None
    else:
        direction = Direction.NONE if not _number(new) else direction
    if old is None:
        verdict = Verdict.ADDED
    elif new is None:
        verdict = Verdict.REMOVED
    elif old == new or (
        isinstance(old, float) and isinstance(new, float) and math.isnan(old) and math.isnan(new)
    ):
        verdict = Verdict.SAME
    elif delta is None or direction is Direction.NONE:
        verdict = Verdict.CHANGED
    else:
        up = delta > 0
        verdict = Verdict.BETTER if up == (direction is Direction.HIGHER) else Verdict.WORSE
    return Change(path, key, kind, old, new, delta, relative, direction, verdict)


def file_diff(
    path: str,
    changes: list[Change],
    kind: Kind = Kind.METRICS,
    old_status: FileStatus = FileStatus.OK,
    new_status: FileStatus = FileStatus.OK,
    old_error: str = "",
    new_error: str = "",
    skipped: tuple[str, ...] = (),
) -> FileDiff:
    return FileDiff(
        path, kind, old_status, new_status, old_error, new_error, tuple(changes), skipped
    )


def report(**kw: object) -> Report:
    base: dict[str, object] = {
        "kind": "pull_request",
        "title": "Better churn model (#12)",
        "base": BASE,
        "head": HEAD,
        "metrics": Diff(),
        "params": Diff(),
        "gates": GateReport(),
        "declared": Declared(("metrics.json",), ("params.yaml",), source="dvc.yaml"),
        "run_url": RUN,
    }
    base.update(kw)
    return Report(**base)  # type: ignore[arg-type]


L = Direction.LOWER
M = "metrics.json"


def typical() -> Report:
    """A PR: two metrics files, params, a passing gate, a plot, the stages, the plan."""
    metrics = Diff(
        (
            file_diff(
                "metrics.json",
                [
                    change("metrics.json", "accuracy", 0.8512345, 0.8734567891),
                    change("metrics.json", "train.loss", 0.3, 0.25, L),
                    change("metrics.json", "train.auc", 0.91, 0.93),
                    change("metrics.json", "epochs", 10, 12, Direction.NONE),
                    change("metrics.json", "label", None, "foo"),
                    change("metrics.json", "new_metric", None, 42),
                    change("metrics.json", "removed_metric", 1.5, None),
                    change("metrics.json", "latency_ms", 12.5, 14.0, L),
                ],
            ),
            file_diff(
                "eval/scores.yaml",
                [
                    change("eval/scores.yaml", "f1", 0.77, 0.77),
                    change("eval/scores.yaml", "nested.deep.x", 1, 1),
                ],
            ),
        )
    )
    params = Diff(
        (
            file_diff(
                "params.yaml",
                [
                    change("params.yaml", "lr", 0.01, 0.02, kind=Kind.PARAMS),
                    change("params.yaml", "model.act", None, "relu", kind=Kind.PARAMS),
                    change("params.yaml", "epochs", 10, 10, kind=Kind.PARAMS),
                    change("params.yaml", "seed", 1, 1, kind=Kind.PARAMS),
                ],
                kind=Kind.PARAMS,
            ),
        )
    )
    gates = GateReport(
        (
            GateResult(
                "accuracy",
                "accuracy",
                "metrics.json",
                GateStatus.PASS,
                "accuracy 0.873457 >= min 0.85",
            ),
            GateResult(
                "*loss*", "train.loss", "metrics.json", GateStatus.PASS, "train.loss fell 0.05"
            ),
        )
    )
    plot = PlotDiff(
        PlotSpec("plots/loss.csv", x="step", y=("loss",)),
        "step",
        ("loss",),
        tuple((float(s), {"loss": 1 / (s + 1)}) for s in range(0, 50, 10)),
        tuple((float(s), {"loss": 0.8 / (s + 1)}) for s in range(0, 50, 10)),
    )
    stages = (
        StageHolding("churn", "prod", "v1.1.0", SHA_A, metrics, gates),
        StageHolding("churn", "staging", "v1.2.0", SHA_B, Diff(), GateReport()),
    )
    return report(
        metrics=metrics,
        params=params,
        gates=gates,
        plots=(plot,),
        stages=stages,
        plan_markdown=PLAN,
        notes=("the clone was shallow: fetched main",),
    )


def hostile() -> Report:
    """Every untrusted string is hostile: names, values, labels, errors, reasons, titles."""
    changes = []
    for i, name in enumerate(HOSTILE):
        changes.append(change(name, name, float(i), float(i) + 0.5))
        changes.append(change(name, name + " str", name, name + "!"))
    metrics = Diff(
        (
            file_diff("a|b.json", changes, skipped=HOSTILE[:3]),
            file_diff(
                "<script>.yaml",
                [change("<script>.yaml", "@team", 1.0, None)],
                new_status=FileStatus.MALFORMED,
                new_error="line 1: | <script>@team [x](y) -->",
            ),
        )
    )
    gates = GateReport(
        (
            GateResult(
                "a|b*", "a|b", "a|b.json", GateStatus.FAIL, "a|b 0.5 < min 1 <!-- @team -->"
            ),
            GateResult("[x](y)", "", "", GateStatus.MISSING, "[x](y) is required: not found @team"),
        )
    )
    plot = PlotDiff(
        PlotSpec("```<b>|.csv", x='st"ep', title='T"%%{init}%%\n```'),
        'st"ep',
        ("a|b", "`x`"),
        tuple((float(s), {"a|b": float(s), "`x`": 1.0}) for s in range(3)),
        tuple((float(s), {"a|b": float(s) * 2, "`x`": 2.0}) for s in range(3)),
    )
    history = History(
        "<b>model</b>",
        "prod|@team",
        ("a|b.json:a|b",),
        tuple(
            HistoryPoint(f'v{i}"]`-->', "c" * 40, f"m#prod|{i}", {"a|b.json:a|b": float(i)})
            for i in range(3)
        ),
    )
    return report(
        title="<script>alert(1)</script> | @team [x](y) <!-- --> `",
        base=Side("main|<b>", SHA_A, f"{URL}/commit/{SHA_A}"),
        head=Side("@team/[x](y)`-->", SHA_B, "javascript:alert(1)"),
        metrics=metrics,
        params=Diff(
            (
                file_diff(
                    "p|.yaml",
                    [change("p|.yaml", n, n, n + "2", kind=Kind.PARAMS) for n in HOSTILE],
                    kind=Kind.PARAMS,
                ),
            )
        ),
        gates=gates,
        plots=(plot,),
        history=history,
        stages=(StageHolding("a|b", "@team", "<v1>", SHA_A, metrics, gates),),
        notes=("note | @team <!-- -->",),
        run_url=RUN,
    )


def many(n: int = 2000) -> Report:
    """``n`` metrics over 10 files: most unchanged, a tenth better, a tenth worse."""
    files = []
    per = max(1, n // 10)
    for f in range(10):
        path = f"eval/part{f}.json"
        changes = []
        for k in range(per):
            old = (f * per + k) / (n + 7)
            new = old if k % 10 > 1 else (old + 0.001 if k % 10 == 0 else old - 0.002)
            direction = L if k % 3 == 0 else Direction.HIGHER
            changes.append(change(path, f"group{k % 7}.metric_{k}", old, new, direction))
        files.append(file_diff(path, changes))
    return report(metrics=Diff(tuple(files)))


def missing_and_malformed() -> Report:
    metrics = Diff(
        (
            file_diff(
                "metrics.json",
                [
                    change("metrics.json", "acc", 0.9, None),
                    change("metrics.json", "loss", 0.1, None),
                ],
                new_status=FileStatus.MISSING,
            ),
            file_diff(
                "eval.yaml",
                [change("eval.yaml", "f1", None, 0.8)],
                old_status=FileStatus.MALFORMED,
                old_error="eval.yaml line 3: mapping values are not allowed here",
            ),
            file_diff(
                "model.toml",
                [],
                old_status=FileStatus.UNREADABLE,
                new_status=FileStatus.UNREADABLE,
                old_error="binary file",
                new_error="binary file",
            ),
            file_diff(
                "lists.json",
                [change("lists.json", "acc", 0.5, 0.5)],
                skipped=("per_class", "notes"),
            ),
        )
    )
    plot = PlotDiff(
        PlotSpec("plots/roc.json", x="fpr", y=("tpr",)),
        "fpr",
        ("tpr",),
        ((0.0, {"tpr": 0.0}), (0.5, {"tpr": 0.8}), (1.0, {"tpr": 1.0})),
        (),
        new_status=FileStatus.MISSING,
    )
    return report(metrics=metrics, plots=(plot,))


def only_added() -> Report:
    path = "metrics.json"
    return report(
        metrics=Diff(
            (file_diff(path, [change(path, k, None, v) for k, v in (("acc", 0.9), ("n", 3))]),)
        )
    )


def only_removed() -> Report:
    path = "metrics.json"
    return report(
        metrics=Diff(
            (file_diff(path, [change(path, k, v, None) for k, v in (("acc", 0.9), ("n", 3))]),)
        )
    )


def special_values() -> Report:
    """NaN, infinities, booleans, strings, float noise, tiny and huge numbers."""
    p = "metrics.json"
    nan, inf = float("nan"), float("inf")
    return report(
        metrics=Diff(
            (
                file_diff(
                    p,
                    [
                        change(p, "nan_same", nan, nan),
                        change(p, "to_nan", 0.5, nan),
                        change(p, "from_inf", inf, 1.0),
                        change(p, "neg_inf", 1.0, -inf),
                        change(p, "noise", 0.1, 0.1 + 0.2),
                        change(p, "tiny", 1.2e-07, 1.3e-07, L),
                        change(p, "huge", 1234567.0, 1234568.5),
                        change(p, "zero_base", 0, 5),
                        change(p, "passed", True, False),
                        change(p, "model", "resnet", "vit"),
                        change(p, "same_bool", True, True),
                        change(p, "close", 0.8512345, 0.8512346),
                    ],
                ),
            )
        )
    )


def first_version() -> Report:
    p = "metrics.json"
    return report(
        kind="stage_move",
        title="churn v1.0.0 in prod",
        base=None,
        head=Side("churn@v1.0.0", SHA_B, f"{URL}/releases/tag/churn%40v1.0.0", "v1.0.0"),
        metrics=Diff((file_diff(p, [change(p, "acc", None, 0.9), change(p, "loss", None, 0.2)]),)),
        params=Diff(
            (
                file_diff(
                    "params.yaml",
                    [change("params.yaml", "lr", None, 0.1, kind=Kind.PARAMS)],
                    kind=Kind.PARAMS,
                ),
            )
        ),
    )


def stage_move_history(versions: int = 50) -> Report:
    p = "metrics.json"
    points = tuple(
        HistoryPoint(
            f"v1.{i}.0",
            f"{i:040x}",
            f"churn#prod#{i + 1}",
            {f"{p}:acc": 0.7 + i * 0.004, f"{p}:loss": 0.5 - i * 0.005},
        )
        for i in range(versions)
    )
    history = History("churn", "prod", (f"{p}:acc", f"{p}:loss"), points)
    return report(
        kind="stage_move",
        title="churn v1.49.0 in prod",
        base=Side("churn@v1.48.0", "c" * 40, f"{URL}/releases/tag/churn%40v1.48.0", "v1.48.0"),
        head=Side("churn@v1.49.0", "d" * 40, f"{URL}/releases/tag/churn%40v1.49.0", "v1.49.0"),
        metrics=Diff(
            (file_diff(p, [change(p, "acc", 0.892, 0.896), change(p, "loss", 0.265, 0.255, L)]),)
        ),
        history=history,
    )


def gates_failing() -> Report:
    p = "metrics.json"
    metrics = Diff((file_diff(p, [change(p, "acc", 0.9, 0.81), change(p, "loss", 0.2, 0.31, L)]),))
    gates = GateReport(
        (
            GateResult("acc", "acc", p, GateStatus.FAIL, "acc 0.81 < min 0.85"),
            GateResult("loss", "loss", p, GateStatus.FAIL, "loss rose 0.11 (max_drop 0.01)"),
            GateResult("f1", "", "", GateStatus.MISSING, "f1 is required: not in metrics"),
            GateResult("auc*", "", "", GateStatus.SKIPPED, "auc* matches no metric"),
        )
    )
    return report(metrics=metrics, gates=gates)


SAMPLES = {
    "typical": typical,
    "hostile": hostile,
    "many_2000": many,
    "missing_malformed": missing_and_malformed,
    "only_added": only_added,
    "only_removed": only_removed,
    "special_values": special_values,
    "first_version": first_version,
    "history_50": stage_move_history,
    "gates_failing": gates_failing,
}
