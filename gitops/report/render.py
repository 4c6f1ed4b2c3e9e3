"""The report as Markdown (Jinja2) and as JSON.

Markdown: a Jinja2 ``SandboxedEnvironment`` with ``StrictUndefined`` renders our template
(``gitops/report/templates/report.md.j2`` and the files it includes) or a repository's own
(``reports.template``). Escaping is on by default and goes through ``gitops.markdown``:

- every string in ``report`` is a ``Text`` (a ``str``: compare, slice and test it as usual)
  that escapes itself when printed, also inside ``~`` joins, ``join`` and ``format``;
- any other string printed with ``{{ }}`` is escaped as Markdown too; numbers are formatted
  (``gitops.report.numbers``), ``None`` prints ``—``;
- what the helpers below return is Markdown already (``Markup``): printed as it is. ``|safe``
  marks a template's own text as Markdown; it cannot unescape a ``Text``.

The template's context:

``report``
    the ``gitops.report.model.Report``: ``kind`` (``pull_request``, ``stage_move``, ``refs``,
    ``version``), ``title``, ``base``/``head`` (``Side``: ``label``, ``sha``, ``url``,
    ``version``; ``base`` is None for the first version in a stage), ``metrics``/``params``
    (``Diff``: ``files`` of ``FileDiff`` with ``changes`` of ``Change``), ``gates``
    (``GateReport``: ``results``, ``passed``, ``failed``), ``plots``, ``history``, ``stages``,
    ``plan_markdown`` (the deploy plan, Markdown), ``run_url``, ``notes``, ``declared``.
``counts(diff)``
    ``{"better": 2, "worse": 1, "same": 9, "changed": 0, "added": 1, "removed": 0}``.
``headline(report)``, ``gate_line(report.gates)``
    the report's first lines: what is compared and what moved; the gates' verdict with ✅/❌.
``changes_table(diff, which, base, head)``
    a table of a diff's changes; ``which`` is ``"changed"`` (default), ``"unchanged"`` or
    ``"all"``; ``base``/``head`` are the Sides (their labels head the old/new columns).
``values_table(diff)``, ``unchanged_table(diff)``
    path, key, value of the new side (a first version: nothing to compare with), or of the
    keys that kept their value; ``params_table(diff, base, head)``: changed params.
``file_notes(diff, base, head)``
    one Markdown line per missing, malformed or unreadable file, and per file with values that
    cannot be shown (lists, nulls).
``gates_table(report.gates)``, ``stages_table(report.stages)``, ``history_table(history)``,
``plot_table(plot)``
    tables; ``history_charts(history)`` is a list of ``(metric, chart)``, ``plot_charts(plot)``
    a list of charts (Mermaid ``xychart-beta`` blocks, see ``gitops.report.charts``).
``side(s)``
    a Side as ``label`` (linked short sha); ``code(s)``, ``escape(s)`` (also ``|e``),
    ``link(label, url)``, ``num(value)``, ``delta(change)`` (``("+0.02", "+2.4%")``),
    ``verdict(change)`` (``"🟢 ↑ better"``), ``plural(n, word)``.
``plan``
    ``report.plan_markdown`` as Markdown (verbatim).

A repository's template may ``{% include %}`` ours (``headline.md.j2``, ``gates.md.j2``,
``metrics.md.j2``, ``params.md.j2``, ``plots.md.j2``, ``history.md.j2``, ``stages.md.j2``,
``footer.md.j2``) and only change what it wants to.

JSON (``to_json``): see its docstring; the keys are stable (``schema`` says which version).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Sequence
from enum import Enum
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from markupsafe import Markup

from gitops import markdown as md
from gitops.errors import GitopsError, UsageError
from gitops.report import charts
from gitops.report.model import (
    Change,
    Diff,
    FileDiff,
    FileStatus,
    GateReport,
    GateStatus,
    History,
    Kind,
    PlotDiff,
    Report,
    Side,
    StageHolding,
    Value,
    Verdict,
)
from gitops.report.numbers import (
    MISSING,
    format_column,
    format_delta,
    format_deltas,
    format_number,
)

SCHEMA = 1
TEMPLATE = "report.md.j2"
SHORT_SHA = 7


class Text(str):
    """An untrusted string: itself in Python, Markdown-escaped when a template prints it."""

    __slots__ = ()

    def __html__(self) -> str:
        return md.escape(self)


class Md(Markup):
    """Markdown that is already safe; what is added to it is escaped as Markdown, not HTML."""

    __slots__ = ()

    @classmethod
    def escape(cls, s: Any) -> Md:  # type: ignore[override]
        if hasattr(s, "__html__"):
            return cls(s.__html__())
        return cls(md.escape(str(s)))


def _finalize(value: Any) -> Any:
    """What ``{{ value }}`` prints, before Jinja's autoescape: Markdown in every case."""
    if hasattr(value, "__html__"):
        return value
    if value is None or isinstance(value, bool | int | float):
        return Md(format_number(value))
    return Md(md.escape(str(value)))


# -- the report with every string untrusted ------------------------------------------------


def _untrusted(obj: Any, memo: dict[str, Text]) -> Any:
    """A copy of the model whose strings are ``Text`` (enums, numbers kept as they are)."""
    kind = type(obj)
    if kind is str:
        text = memo.get(obj)
        if text is None:
            text = memo[obj] = Text(obj)
        return text
    if obj is None or kind in (bool, int, float) or isinstance(obj, Enum | Text):
        return obj
    if kind is tuple or kind is list:
        return kind(_untrusted(item, memo) for item in obj)
    if kind is dict:
        return {_untrusted(k, memo): _untrusted(v, memo) for k, v in obj.items()}
    if kind is Change:  # the bulk of a report: its layout is known
        fields = obj.__dict__.copy()
        for name in _CHANGE_TEXT:
            value = fields[name]
            if type(value) is str:
                text = memo.get(value)
                if text is None:
                    text = memo[value] = Text(value)
                fields[name] = text
        copy = object.__new__(kind)
        copy.__dict__.update(fields)
        return copy
    if dataclasses.is_dataclass(obj):
        fields = {}
        for name, value in obj.__dict__.items():
            of = type(value)
            if of is str:
                text = memo.get(value)
                if text is None:
                    text = memo[value] = Text(value)
                fields[name] = text
            elif value is None or of in _PLAIN or isinstance(value, Enum):
                fields[name] = value
            else:
                fields[name] = _untrusted(value, memo)
        copy = object.__new__(kind)
        copy.__dict__.update(fields)
        return copy
    return obj


_PLAIN = (bool, int, float, Text)
_CHANGE_TEXT = ("path", "key", "old", "new")  # Change's fields that can hold a str


def untrusted(report: Report) -> Report:
    """The report a template sees: every string escapes itself; the plan is Markdown."""
    view = _untrusted(report, {})
    object.__setattr__(view, "plan_markdown", Md(report.plan_markdown))
    return view


# -- helpers (Markdown in, Markdown out) ---------------------------------------------------

_URL = re.compile(r"https?://[^\s<>()\[\]`\"'\\]+")


def link(label: Any, url: str) -> Md:
    """``[label](url)`` for an http(s) URL we built; any other URL gives the label alone. The
    label is text (escaped) or Markdown from a helper (``link(code(tag), url)``)."""
    shown = escape(label)
    if not url or not _URL.fullmatch(str(url)):
        return shown
    return Md(f"[{shown}]({url})")


@lru_cache(maxsize=8192)
def _code(text: str, in_table: bool = True) -> str:
    return md.code(text, in_table=in_table).replace("-->", "--\u203a")


def code(text: Any, in_table: bool = True) -> Md:
    """Inline code that no string can break out of (``-->`` kept from closing a comment);
    ``in_table=False`` outside tables, where a ``|`` needs no backslash."""
    return Md(_code(str(text), in_table))


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> Md:
    """``gitops.markdown.table`` on plain strings (Markup's own methods escape: slow here)."""
    return Md(md.table([str(h) for h in header], rows))


def escape(text: Any) -> Md:
    if hasattr(text, "__html__"):
        return Md(text.__html__())
    return Md(md.escape(str(text)))


def side(s: Side | None, in_table: bool = False) -> Md:
    """``label`` (linked short sha), or "nothing" for a missing side."""
    if s is None:
        return Md("_nothing_")
    out = code(s.label, in_table)
    if s.version and s.version not in s.label:
        out += Md(" ") + code(s.version, in_table)
    if s.sha:
        out += Md(" (") + link(s.sha[:SHORT_SHA], s.url) + Md(")")
    return out


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def counts(diff: Diff) -> dict[str, int]:
    out = dict.fromkeys((v.value for v in Verdict), 0)
    for f in diff.files:
        for c in f.changes:
            out[c.verdict.value] += 1
    return out


_ARROWS = {
    Verdict.BETTER: "🟢 {arrow}better",
    Verdict.WORSE: "🔴 {arrow}worse",
    Verdict.SAME: "same",
    Verdict.CHANGED: "{arrow}changed",
    Verdict.ADDED: "added",
    Verdict.REMOVED: "removed",
}


def verdict(change: Change, file: FileDiff | None = None) -> str:
    """``🟢 ↑ better``: the arrow is where the value went, the word what that means."""
    arrow = ""
    if change.delta is not None and not isinstance(change.delta, bool):
        if change.delta > 0:
            arrow = "↑ "
        elif change.delta < 0:
            arrow = "↓ "
    text = _ARROWS[change.verdict].format(arrow=arrow)
    if file is not None:
        if change.verdict is Verdict.REMOVED and file.new_status is not FileStatus.OK:
            text += f" (file {file.new_status.value})"
        elif change.verdict is Verdict.ADDED and file.old_status is not FileStatus.OK:
            text += f" (file {file.old_status.value} before)"
    return text


def _value_cells(values: Sequence[Value | None]) -> list[str]:
    """A column of values as Markdown cells: numbers formatted together, strings as code."""
    shown = format_column(values)
    return [
        _code(text) if isinstance(value, str) else (text if value is not None else MISSING)
        for value, text in zip(values, shown, strict=True)
    ]


_WHICH: dict[str, Callable[[Change], bool]] = {
    "changed": lambda c: c.verdict is not Verdict.SAME,
    "unchanged": lambda c: c.verdict is Verdict.SAME,
    "all": lambda c: True,
}


def _label(s: Side | None, fallback: str) -> str:
    return md.escape(s.label) if s is not None and s.label else fallback


def changes_table(
    diff: Diff,
    which: str = "changed",
    base: Side | None = None,
    head: Side | None = None,
) -> Md:
    """Path, key, old, new, change, %, verdict: one row per change ``which`` selects."""
    if which not in _WHICH:
        raise GitopsError(f"changes_table: which is one of {', '.join(_WHICH)}, not {which!r}")
    keep = _WHICH[which]
    rows = [(f, c) for f in diff.files for c in f.changes if keep(c)]
    if not rows:
        return Md("")
    olds = _value_cells([c.old for _, c in rows] + [c.new for _, c in rows])
    news = olds[len(rows) :]
    numeric = any(c.kind is not Kind.PARAMS for _, c in rows)
    word = "Metric" if numeric else "Param"
    header = ["Path", word, _label(base, "Old"), _label(head, "New"), "Change", "%", ""]
    cells = []
    deltas = format_deltas([c for _, c in rows])
    for i, (f, c) in enumerate(rows):
        change, pct = deltas[i]
        cells.append(
            [
                _code(c.path),
                _code(c.key),
                olds[i],
                news[i],
                change,
                pct,
                verdict(c, f),
            ]
        )
    return _table(header, cells)


def params_table(diff: Diff, base: Side | None = None, head: Side | None = None) -> Md:
    """Changed params only: path, param, old, new (params have no better or worse)."""
    rows = [c for c in diff.changes() if c.verdict is not Verdict.SAME]
    if not rows:
        return Md("")
    values = _value_cells([c.old for c in rows] + [c.new for c in rows])
    header = ["Path", "Param", _label(base, "Old"), _label(head, "New"), ""]
    cells = [
        [_code(c.path), _code(c.key), values[i], values[len(rows) + i], c.verdict.value]
        for i, c in enumerate(rows)
    ]
    return _table(header, cells)


def unchanged_table(diff: Diff) -> Md:
    """Path, key, value of the changes that kept their value."""
    rows = [c for c in diff.changes() if c.verdict is Verdict.SAME]
    if not rows:
        return Md("")
    values = _value_cells([c.new for c in rows])
    word = "Param" if all(c.kind is Kind.PARAMS for c in rows) else "Metric"
    cells = [[_code(c.path), _code(c.key), values[i]] for i, c in enumerate(rows)]
    return _table(["Path", word, "Value"], cells)


def values_table(diff: Diff) -> Md:
    """Path, key, value of the new side: for a first version, nothing to compare with."""
    rows = [c for c in diff.changes() if c.new is not None]
    if not rows:
        return Md("")
    values = _value_cells([c.new for c in rows])
    word = "Param" if all(c.kind is Kind.PARAMS for c in rows) else "Metric"
    cells = [[_code(c.path), _code(c.key), values[i]] for i, c in enumerate(rows)]
    return _table(["Path", word, "Value"], cells)


_STATUS_WORDS = {
    FileStatus.MISSING: "missing",
    FileStatus.MALFORMED: "malformed",
    FileStatus.UNREADABLE: "unreadable",
}


def file_notes(diff: Diff, base: Side | None = None, head: Side | None = None) -> list[Md]:
    """Files that are not there or cannot be read, on either side, and values not shown."""
    out: list[Md] = []
    new_name = code(head.label, False) if head else Md("the new revision")
    old_name = code(base.label, False) if base else Md("the old revision")
    for f in diff.files:
        what = []
        if f.new_status is not FileStatus.OK:
            why = f": {escape(f.new_error)}" if f.new_error else ""
            what.append(f"{_STATUS_WORDS[f.new_status]} in {new_name}{why}")
        if base is not None and f.old_status is not FileStatus.OK:
            why = f": {escape(f.old_error)}" if f.old_error else ""
            what.append(f"{_STATUS_WORDS[f.old_status]} in {old_name}{why}")
        if what:
            out.append(Md(f"⚠️ {code(f.path, False)} " + "; ".join(what)))
        if f.skipped:
            keys = ", ".join(code(k, False) for k in f.skipped[:20])
            more = f" and {len(f.skipped) - 20} more" if len(f.skipped) > 20 else ""
            out.append(
                Md(f"ℹ️ {code(f.path, False)}: not shown (lists or nulls): {keys}{more}")  # noqa: RUF001
            )
    return out


_GATE_ICON = {
    GateStatus.PASS: "✅ pass",
    GateStatus.FAIL: "❌ fail",
    GateStatus.MISSING: "❌ missing",
    GateStatus.SKIPPED: "➖ skipped",
}


def gate_line(gates: GateReport) -> Md:
    """``Gates: ✅ 3 passed`` or ``Gates: ❌ 1 of 3 failed``; "" without gates."""
    results = gates.results
    if not results:
        return Md("")
    failed = gates.failed
    if not failed:
        passed = sum(1 for r in results if r.status is GateStatus.PASS)
        return Md(f"Gates: ✅ {passed} passed")
    return Md(f"Gates: ❌ {len(failed)} of {len(results)} failed")


def gates_table(gates: GateReport) -> Md:
    """Failed gates first, then the rest: gate, metric, result, why."""
    results = sorted(
        gates.results, key=lambda r: r.status not in (GateStatus.FAIL, GateStatus.MISSING)
    )
    if not results:
        return Md("")
    rows = [
        [
            _code(r.gate),
            (_code(r.path) + " " if r.path else "") + (_code(r.metric) if r.metric else ""),
            _GATE_ICON[r.status],
            md.escape(r.reason),
        ]
        for r in results
    ]
    return _table(["Gate", "Metric", "Result", "Why"], rows)


def headline(report: Report) -> Md:
    """What is compared, and what moved: one line."""
    if report.base is None:
        return Md(f"{side(report.head)}: first version here, nothing to compare with.")
    c = counts(report.metrics)
    moved = [f"{c['better']} better", f"{c['worse']} worse"]
    for word in ("changed", "added", "removed"):
        if c[word]:
            moved.append(f"{c[word]} {word}")
    moved.append(f"{c['same']} unchanged")
    metrics_part = ", ".join(moved) if report.metrics.files else "no metrics files"
    p = counts(report.params)
    changed_params = len(report.params.changes()) - p["same"]
    params_part = f"; {plural(changed_params, 'param')} changed" if changed_params else ""
    return Md(f"{side(report.base)} → {side(report.head)}: {metrics_part}{params_part}")


def stages_table(stages: Sequence[StageHolding]) -> Md:
    """For a PR: each stage holding a version of the artifact, and how the PR compares."""
    if not stages:
        return Md("")
    rows = []
    for s in stages:
        c = counts(s.diff)
        rows.append(
            [
                _code(s.artifact),
                _code(s.stage),
                _code(s.version),
                str(c["better"]),
                str(c["worse"]),
                str(c["same"]),
                str(gate_line(s.gates)).removeprefix("Gates: ") or "—",
            ]
        )
    header = ["Artifact", "Stage", "Holds", "Better", "Worse", "Same", "Gates"]
    return _table(header, rows)


def history_table(history: History) -> Md:
    """Versions (oldest first) by charted metrics: the chart's numbers for every reader."""
    if not history.points:
        return Md("")
    columns = [_value_cells([p.values.get(m) for p in history.points]) for m in history.metrics]
    header = ["Version", "Tag"] + [_code(m) for m in history.metrics]
    rows = [
        [_code(p.version), _code(p.tag)] + [col[i] for col in columns]
        for i, p in enumerate(history.points)
    ]
    return _table(header, rows)


def history_charts(history: History) -> list[tuple[str, Md]]:
    return [(m, Md(block)) for m, block in charts.history_charts(history)]


def plot_charts(plot: PlotDiff) -> list[Md]:
    return [Md(block) for block in charts.plot_charts(plot)]


def plot_table(plot: PlotDiff) -> Md:
    """x, then old and new of each column: the points the chart draws."""
    xs = sorted({x for x, _ in plot.old} | {x for x, _ in plot.new})
    if not xs:
        return Md("")
    old = dict(plot.old)
    new = dict(plot.new)
    header = [_code(plot.x) if plot.x else "row"]
    columns: list[list[str]] = []
    for column in plot.series:
        header += [f"{_code(column)} old", f"{_code(column)} new"]
        both = [old.get(x, {}).get(column) for x in xs] + [new.get(x, {}).get(column) for x in xs]
        cells = _value_cells(both)
        columns += [cells[: len(xs)], cells[len(xs) :]]
    ticks = format_column(xs)
    rows = [[ticks[i]] + [col[i] for col in columns] for i in range(len(xs))]
    return _table(header, rows)


def num(value: Value | None) -> Md:
    return Md(format_number(value))


def delta(change: Change) -> tuple[str, str]:
    return format_delta(change)


# -- the environment ---------------------------------------------------------------------


def _template_text(name: str) -> str:
    try:
        return resources.files("gitops.report").joinpath("templates", name).read_text("utf-8")
    except (FileNotFoundError, IsADirectoryError) as exc:
        raise GitopsError(f"report template {name!r}: no such template") from exc


@cache
def _environment() -> Any:
    from jinja2 import FunctionLoader, StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    def load(name: str) -> tuple[str, None, Callable[[], bool]]:
        if "/" in name or "\\" in name or not name.endswith(".md.j2"):
            raise GitopsError(f"report template {name!r}: only our own templates can be included")
        return _template_text(name), None, lambda: True

    env = SandboxedEnvironment(
        loader=FunctionLoader(load),
        autoescape=True,
        finalize=_finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    for unsafe in ("urlize", "xmlattr"):
        env.filters.pop(unsafe, None)
    env.filters.update(e=escape, escape=escape, forceescape=escape, code=code, num=num)
    env.globals.update(
        code=code,
        escape=escape,
        link=link,
        num=num,
        delta=delta,
        verdict=verdict,
        plural=plural,
        side=side,
        counts=counts,
        headline=headline,
        gate_line=gate_line,
        gates_table=gates_table,
        changes_table=changes_table,
        params_table=params_table,
        values_table=values_table,
        unchanged_table=unchanged_table,
        file_notes=file_notes,
        stages_table=stages_table,
        history_table=history_table,
        history_charts=history_charts,
        plot_charts=plot_charts,
        plot_table=plot_table,
    )
    return env


_BLANK_RUNS = re.compile(r"\n{3,}")


def markdown(report: Report, template: str | None = None) -> str:
    """The report as Markdown: our template, or ``template`` (a repository's own template text).

    A repository's template that does not compile, reads what is not there, or calls a helper
    wrongly is one UsageError (with the line when Jinja knows it), never a traceback.
    """
    from jinja2 import TemplateError, TemplateSyntaxError
    from jinja2.exceptions import SecurityError

    env = _environment()
    where = "reports.template" if template is not None else TEMPLATE
    failure = UsageError if template is not None else GitopsError  # the repo's file: exit 2
    try:
        compiled = env.from_string(template) if template is not None else env.get_template(TEMPLATE)
        view = untrusted(report)
        text = compiled.render(report=view, plan=view.plan_markdown)
    except TemplateSyntaxError as exc:
        raise failure(f"{where}: line {exc.lineno}: {exc.message}") from None
    except SecurityError as exc:
        raise failure(f"{where}: not allowed in a report template: {exc}") from None
    except TemplateError as exc:
        raise failure(f"{where}: {exc.message or exc}") from None
    except (TypeError, ValueError, AttributeError, KeyError, IndexError, RecursionError) as exc:
        if template is None:
            raise  # our own template: a bug, with its traceback
        raise failure(f"{where}: {type(exc).__name__}: {exc}") from None
    text = _BLANK_RUNS.sub("\n\n", text).strip("\n")
    return text + "\n"


# -- JSON --------------------------------------------------------------------------------


def _json_value(value: Value | None) -> Value | None:
    """Non-finite floats as the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` (JSON has
    no such numbers); everything else as it is."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def _side_json(s: Side | None) -> dict[str, str] | None:
    if s is None:
        return None
    return {"label": s.label, "sha": s.sha, "url": s.url, "version": s.version}


def _diff_json(diff: Diff) -> list[dict[str, Any]]:
    return [
        {
            "path": f.path,
            "kind": f.kind.value,
            "old_status": f.old_status.value,
            "new_status": f.new_status.value,
            "old_error": f.old_error,
            "new_error": f.new_error,
            "skipped": list(f.skipped),
            "changes": [
                {
                    "key": c.key,
                    "old": _json_value(c.old),
                    "new": _json_value(c.new),
                    "delta": _json_value(c.delta),
                    "relative": _json_value(c.relative),
                    "direction": c.direction.value,
                    "verdict": c.verdict.value,
                }
                for c in f.changes
            ],
        }
        for f in diff.files
    ]


def _gates_json(gates: GateReport) -> dict[str, Any]:
    return {
        "passed": gates.passed,
        "results": [
            {
                "gate": r.gate,
                "metric": r.metric,
                "path": r.path,
                "status": r.status.value,
                "reason": r.reason,
            }
            for r in gates.results
        ],
    }


def _points(points: Sequence[tuple[float, dict[str, float]]]) -> list[list[Any]]:
    return [[_json_value(x), {k: _json_value(v) for k, v in row.items()}] for x, row in points]


def to_json(report: Report) -> dict[str, Any]:
    """The report as JSON (``report-json``). Keys, all always present:

    ``schema`` (1), ``kind``, ``title``, ``base`` / ``head`` (``{label, sha, url, version}``,
    ``base`` null for a first version), ``summary`` (``{metrics: {better, worse, same,
    changed, added, removed}, params: {...}, gates_passed}``), ``metrics`` / ``params`` (lists
    of files: ``{path, kind, old_status, new_status, old_error, new_error, skipped, changes}``,
    each change ``{key, old, new, delta, relative, direction, verdict}``; files as declared,
    keys in file order), ``gates`` (``{passed, results: [{gate, metric, path, status,
    reason}]}``), ``plots`` (``{path, title, x, series, old, new, old_status, new_status,
    error}``, points as ``[x, {column: y}]``), ``history`` (null or ``{artifact, stage,
    metrics, points: [{version, sha, tag, values}]}``), ``stages`` (``{artifact, stage,
    version, sha, metrics, gates}``), ``declared`` (``{metrics, params, plots, source}``),
    ``run_url``, ``notes``.

    Values are raw (full precision, as read); NaN and infinities are the strings ``"NaN"``,
    ``"Infinity"``, ``"-Infinity"`` so the document stays valid JSON.
    """
    history = report.history
    return {
        "schema": SCHEMA,
        "kind": report.kind,
        "title": report.title,
        "base": _side_json(report.base),
        "head": _side_json(report.head),
        "summary": {
            "metrics": counts(report.metrics),
            "params": counts(report.params),
            "gates_passed": report.gates.passed,
        },
        "metrics": _diff_json(report.metrics),
        "params": _diff_json(report.params),
        "gates": _gates_json(report.gates),
        "plots": [
            {
                "path": p.spec.path,
                "title": p.spec.title,
                "x": p.x,
                "series": list(p.series),
                "old": _points(p.old),
                "new": _points(p.new),
                "old_status": p.old_status.value,
                "new_status": p.new_status.value,
                "error": p.error,
            }
            for p in report.plots
        ],
        "history": None
        if history is None
        else {
            "artifact": history.artifact,
            "stage": history.stage,
            "metrics": list(history.metrics),
            "points": [
                {
                    "version": p.version,
                    "sha": p.sha,
                    "tag": p.tag,
                    "values": {k: _json_value(v) for k, v in p.values.items()},
                }
                for p in history.points
            ],
        },
        "stages": [
            {
                "artifact": s.artifact,
                "stage": s.stage,
                "version": s.version,
                "sha": s.sha,
                "metrics": _diff_json(s.diff),
                "gates": _gates_json(s.gates),
            }
            for s in report.stages
        ],
        "declared": {
            "metrics": list(report.declared.metrics),
            "params": list(report.declared.params),
            "plots": [
                {"path": p.path, "x": p.x, "y": list(p.y), "title": p.title}
                for p in report.declared.plots
            ],
            "source": report.declared.source,
        },
        "run_url": report.run_url,
        "notes": list(report.notes),
    }
