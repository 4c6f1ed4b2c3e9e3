"""The report's data, shared by every step: what was read at a revision, how it changed, what
the gates say, and the whole report a template renders.

Plain frozen dataclasses (no pydantic: the diff of 10,000 metrics runs on them). Each module of
``gitops.report`` takes these in and hands these on, in one direction:

    sources (which files) -> metrics (read at revisions) -> diff, gates (pure) -> render
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

DEFAULT_HISTORY = 10  # versions in a stage's history chart (reports.history)
DEFAULT_PLOT_POINTS = 50  # points per plotted series (reports.plot_points)

Value = bool | int | float | str
"""One flattened value as the file holds it (``True``, ``3``, ``0.25``, ``"relu"``)."""


class Kind(StrEnum):
    METRICS = "metrics"
    PARAMS = "params"
    PLOTS = "plots"


class FileStatus(StrEnum):
    OK = "ok"
    MISSING = "missing"  # not in the tree at that revision
    MALFORMED = "malformed"  # not valid JSON/YAML/TOML/CSV, or not a mapping where one is needed
    UNREADABLE = "unreadable"  # binary, not UTF-8, too big, a directory or a submodule


@dataclass(frozen=True)
class PlotSpec:
    """A plots file as declared (``dvc.yaml`` ``plots:`` or ``reports.plots``)."""

    path: str
    x: str | None = None  # column for the x axis; None: the row number
    y: tuple[str, ...] = ()  # columns drawn; empty: every numeric column but x
    title: str | None = None


@dataclass(frozen=True)
class Declared:
    """Which files a report reads, in the order they are declared."""

    metrics: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    plots: tuple[PlotSpec, ...] = ()
    source: str = "default"  # "gitops.yaml", "dvc.yaml" (paths of the dvc.yaml files), "default"
    # params files of which a dvc.yaml stage tracks only some keys ({file: [keys]}), as
    # ``dvc params diff`` shows them: (path, keys) pairs; a file not listed is read whole
    param_keys: tuple[tuple[str, tuple[str, ...]], ...] = ()
    notes: tuple[str, ...] = ()  # plain text: a dvc.yaml not read, an entry skipped, and why
    dvc_cached: tuple[str, ...] = ()  # stage outputs DVC caches (no `cache: false`): not in git


@dataclass(frozen=True)
class FileRead:
    """One declared file at one revision. Never dropped: a missing or broken file is a
    FileRead with that status and an ``error`` that says why (one line)."""

    path: str
    kind: Kind
    status: FileStatus
    values: dict[str, Value] = field(default_factory=dict)  # flattened ("train.loss"), file order
    skipped: tuple[str, ...] = ()  # keys whose values a report cannot show (lists, nulls)
    rows: tuple[dict[str, Value], ...] = ()  # plots: the series, one dict per row
    error: str = ""


@dataclass(frozen=True)
class Snapshot:
    """Every declared file at one revision."""

    label: str  # how people name the revision: "main", "churn@v1.2.0", "abc1234"
    sha: str  # the commit
    files: tuple[FileRead, ...] = ()
    declared: Declared = field(default_factory=Declared)  # this revision's files (plots' axes)

    def file(self, path: str, kind: Kind) -> FileRead | None:
        for f in self.files:
            if f.path == path and f.kind == kind:
                return f
        return None


class Direction(StrEnum):
    HIGHER = "higher"  # higher is better (accuracy, f1, auc)
    LOWER = "lower"  # lower is better (loss, error, rmse, latency)
    NONE = "none"  # neither: params, strings, counts


class Verdict(StrEnum):
    BETTER = "better"
    WORSE = "worse"
    SAME = "same"
    CHANGED = "changed"  # changed, with no direction (a param, a string, a boolean)
    ADDED = "added"
    REMOVED = "removed"


@dataclass(frozen=True)
class Change:
    """One key of one file, old vs new. ``delta``/``relative`` only when both are numbers
    (booleans are not numbers here); ``relative`` is None when old is 0 or not finite."""

    path: str
    key: str
    kind: Kind
    old: Value | None
    new: Value | None
    delta: float | int | None
    relative: float | None
    direction: Direction
    verdict: Verdict


@dataclass(frozen=True)
class FileDiff:
    """One declared file, old vs new: its status on each side and its changes in key order."""

    path: str
    kind: Kind
    old_status: FileStatus
    new_status: FileStatus
    old_error: str = ""
    new_error: str = ""
    changes: tuple[Change, ...] = ()  # every key, unchanged ones included (verdict SAME)
    skipped: tuple[str, ...] = ()  # keys neither side can show (lists, nulls), new side first


@dataclass(frozen=True)
class Diff:
    files: tuple[FileDiff, ...] = ()

    def changes(self, kind: Kind | None = None) -> list[Change]:
        return [c for f in self.files if kind in (None, f.kind) for c in f.changes]


class GateStatus(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    MISSING = "missing"  # a required metric is absent (fails); not required: "skipped"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class GateResult:
    """One gate applied to one metric (a glob gate gives one result per matching metric)."""

    gate: str  # the metric name or glob as written in gitops.yaml
    metric: str  # the metric it was applied to ("" when nothing matched)
    path: str  # the file the metric is in ("" when nothing matched)
    status: GateStatus
    reason: str  # "accuracy 0.81 < min 0.85", "loss rose 0.04 (max_drop 0.01)"


@dataclass(frozen=True)
class GateReport:
    results: tuple[GateResult, ...] = ()

    @property
    def passed(self) -> bool:
        return all(r.status in (GateStatus.PASS, GateStatus.SKIPPED) for r in self.results)

    @property
    def failed(self) -> list[GateResult]:
        return [r for r in self.results if r.status in (GateStatus.FAIL, GateStatus.MISSING)]


@dataclass(frozen=True)
class HistoryPoint:
    """One version a stage held, oldest first in ``History.points``."""

    version: str
    sha: str
    tag: str  # the stage tag that put it there
    values: dict[str, Value]  # "path:key" -> value for the charted metrics


@dataclass(frozen=True)
class History:
    artifact: str
    stage: str
    metrics: tuple[str, ...]  # "path:key", in chart order
    points: tuple[HistoryPoint, ...]


@dataclass(frozen=True)
class PlotDiff:
    """A plots file old vs new, downsampled for a chart."""

    spec: PlotSpec
    x: str | None
    series: tuple[str, ...]  # the y columns drawn
    old: tuple[tuple[float, dict[str, float]], ...]  # (x, {column: y}) points
    new: tuple[tuple[float, dict[str, float]], ...]
    old_status: FileStatus = FileStatus.OK
    new_status: FileStatus = FileStatus.OK
    error: str = ""


@dataclass(frozen=True)
class Side:
    """One side of a comparison, with links for people."""

    label: str
    sha: str
    url: str = ""  # commit or tag page
    version: str = ""  # registry version, when the side is one


@dataclass(frozen=True)
class StageHolding:
    """A stage that holds a version of the artifact a PR touches, and how the PR compares."""

    artifact: str
    stage: str
    version: str
    sha: str
    diff: Diff
    gates: GateReport


@dataclass(frozen=True)
class Report:
    """What a template renders and ``report-json`` holds."""

    kind: str  # "pull_request", "stage_move", "refs", "version"
    title: str  # the headline's subject, plain text (escaped by the template)
    base: Side | None  # None: nothing to compare with ("first version in this stage")
    head: Side
    metrics: Diff
    params: Diff
    gates: GateReport
    declared: Declared
    plots: tuple[PlotDiff, ...] = ()
    history: History | None = None
    stages: tuple[StageHolding, ...] = ()
    plan_markdown: str = ""  # the deploy plan, already rendered and escaped
    run_url: str = ""
    notes: tuple[str, ...] = ()  # plain-text notes ("the clone was shallow: fetched main")
