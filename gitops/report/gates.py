"""Gates: the rules a change must pass (``reports.gates``), judged on a diff. Pure data in,
pure data out, so promotion policies reuse it as is.

Why not just thresholds on the new value: the request behind this (DVC #10408) is to fail a job
when a metric *moves* too far, which needs the base value and the metric's direction.

- A gate is a metric name or a glob (``direction.Patterns``: ``:`` matches ``path:key``). It
  gives one GateResult per matching metric, in diff order; gates come in written order. A gate
  that matches nothing gives one result with metric and path "": MISSING when ``required``
  (which fails), else SKIPPED.
- ``min`` / ``max`` apply to the new value. ``max_drop`` limits the move the wrong way from the
  old value: for higher-is-better a fall, for lower-is-better a rise, for neither (a count) a
  move either way. Its direction is the gate's ``higher_is_better``, else ``directions``. The
  limit is absolute (``0.02``) or relative to ``|old|`` (``"5%"``; with old 0 any worsening
  fails). Moves and limits are compared as exact decimals: a drop of 0.04 from 0.8 passes
  ``max_drop: 5%`` (0.8 * 5% is 0.04, not 0.04000000000000001).
- ``required``: a metric missing in the new revision is MISSING (fails). Not required, it is
  SKIPPED (it was removed: the diff shows that).
- A new value that is a string, a boolean or NaN fails any of min/max/max_drop with a reason.
  An old value that cannot be compared (none, a string, NaN) only skips ``max_drop``, and the
  reason says so: a broken base must not block its fix.
- Reasons are plain text naming the metric, its value and the limit; numbers print as written
  (shortest repr: no float noise). Rendering and escaping are the template's job.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

from gitops.report.diff import DirectionOf, is_number, subtract
from gitops.report.direction import Patterns
from gitops.report.model import (
    Change,
    Diff,
    Direction,
    FileStatus,
    GateReport,
    GateResult,
    GateStatus,
    Value,
)

if TYPE_CHECKING:
    from gitops.report.settings import GateSettings

_MAX_TEXT = 40


def evaluate(
    gates: Mapping[str, GateSettings], metrics: Diff, directions: DirectionOf
) -> GateReport:
    """Every gate applied to every metric of ``metrics`` it matches (module docstring)."""
    if not gates:
        return GateReport()
    names = list(gates)
    patterns = Patterns((name, i) for i, name in enumerate(names))
    matched: list[list[Change]] = [[] for _ in names]
    file_status: dict[str, FileStatus] = {}
    for f in metrics.files:
        file_status.setdefault(f.path, f.new_status)
        for c in f.changes:
            found = patterns.matching(c.path, c.key)
            for i in dict.fromkeys(found) if len(found) > 1 else found:
                matched[i].append(c)
    results: list[GateResult] = []
    for name, found in zip(names, matched, strict=True):
        gate = gates[name]
        if not found:
            status = GateStatus.MISSING if gate.required else GateStatus.SKIPPED
            results.append(GateResult(name, "", "", status, f"no metric matches {name!r}"))
            continue
        rule = _Rule(gate)
        for c in found:
            status, reason = rule.judge(c, directions, file_status.get(c.path, FileStatus.OK))
            results.append(GateResult(name, c.key, c.path, status, reason))
    return GateReport(results=tuple(results))


def judge(
    gate: GateSettings,
    change: Change,
    directions: DirectionOf,
    file_status: FileStatus = FileStatus.OK,
) -> tuple[GateStatus, str]:
    """One gate on one metric: its status and the reason, in plain text."""
    return _Rule(gate).judge(change, directions, file_status)


class _Rule:
    """A gate with its texts and limits worked out once, for the many metrics a glob matches."""

    def __init__(self, gate: GateSettings) -> None:
        self.gate = gate
        self.drop_text = ""
        self.drop_limit: Decimal | None = None  # absolute, or the fraction of |old|
        self.drop_float = 0.0
        if gate.max_drop is not None:
            if isinstance(gate.max_drop, str):
                self.drop_text = gate.max_drop
                self.drop_limit = Decimal(gate.max_drop.rstrip("%")) / 100
            else:
                self.drop_text = fmt(gate.max_drop)
                self.drop_limit = Decimal(repr(float(gate.max_drop)))
            self.drop_float = float(self.drop_limit)
        texts = []
        if gate.min is not None:
            texts.append(f"min {fmt(gate.min)}")
        if gate.max is not None:
            texts.append(f"max {fmt(gate.max)}")
        if self.drop_limit is not None:
            texts.append(f"max_drop {self.drop_text}")
        self.rules = ", ".join(texts)

    def judge(
        self, change: Change, directions: DirectionOf, file_status: FileStatus
    ) -> tuple[GateStatus, str]:
        gate, key, old, new = self.gate, change.key, change.old, change.new
        if new is None:
            where = f" ({change.path} is {file_status.value})" if file_status != "ok" else ""
            if gate.required:
                return GateStatus.MISSING, f"{key} is missing in the new revision{where}"
            return GateStatus.SKIPPED, f"{key} is not in the new revision{where}"
        if not self.rules:
            return GateStatus.PASS, f"{key} is present ({fmt(new)})"
        if not is_number(new) or math.isnan(new):  # type: ignore[arg-type]
            return GateStatus.FAIL, f"{key} is {_describe(new)}, not a number ({self.rules})"
        assert isinstance(new, int | float)
        fails: list[str] = []
        note = ""
        if gate.min is not None and new < gate.min:
            fails.append(f"{key} {fmt(new)} < min {fmt(gate.min)}")
        if gate.max is not None and new > gate.max:
            fails.append(f"{key} {fmt(new)} > max {fmt(gate.max)}")
        if self.drop_limit is not None:
            if old is None:
                note = "; max_drop not checked: no base value"
            elif not is_number(old) or math.isnan(old):  # type: ignore[arg-type]
                note = f"; max_drop not checked: the base value is {_describe(old)}"
            elif old != new:
                assert isinstance(old, int | float)
                failed = self._drop(change, directions, old, new)
                if failed:
                    fails.append(failed)
        if fails:
            return GateStatus.FAIL, "; ".join(fails)
        return GateStatus.PASS, f"{key} {fmt(new)} passes {self.rules}{note}"

    def _within(self, worse: float, old: int | float) -> bool:
        """``worse`` is at most the allowed drop, compared as exact decimals when the floats
        are too close to tell (a drop of 0.04 vs 5% of 0.8 must pass)."""
        assert self.drop_limit is not None
        scale = abs(old) if self.gate.drop_is_relative else 1
        limit = self.drop_float * scale
        if worse < limit * (1 - 1e-9):
            return True
        if worse > limit * (1 + 1e-9) + 1e-300:
            return False
        exact = self.drop_limit * Decimal(repr(scale)) if scale != 1 else self.drop_limit
        return Decimal(repr(worse)) <= exact

    def _drop(
        self, change: Change, directions: DirectionOf, old: int | float, new: int | float
    ) -> str:
        """The failure text when ``new`` moved the wrong way from ``old`` beyond max_drop."""
        gate = self.gate
        if gate.higher_is_better is not None:
            direction = Direction.HIGHER if gate.higher_is_better else Direction.LOWER
        else:
            direction = directions(change.path, change.key, change.kind)
        if change.delta is not None:
            moved = change.delta
        elif math.isfinite(old) and math.isfinite(new):
            moved = subtract(old, new)
        else:
            moved = new - old  # an infinity: exactness is moot
        if direction == Direction.HIGHER:
            worse, verb = -moved, "fell"
        elif direction == Direction.LOWER:
            worse, verb = moved, "rose"
        else:
            worse, verb = abs(moved), "moved"
        if worse <= 0:
            return ""
        share = ""
        if math.isinf(worse):
            pass
        elif self._within(worse, old):
            return ""
        elif gate.drop_is_relative and old != 0 and math.isfinite(old):
            share = f" ({fmt(worse / abs(old) * 100, 3)}%)"
        return (
            f"{change.key} {verb} {fmt(worse)}{share} from {fmt(old)} to {fmt(new)} "
            f"(max_drop {self.drop_text})"
        )


def fmt(value: Value, digits: int = 0) -> str:
    """A value as plain text without float noise: ints as ints, floats by their shortest repr
    (``digits``: that many significant digits instead), ``true``/``false``, NaN, inf."""
    if type(value) is float and math.isfinite(value) and not value.is_integer():
        return format(value, f".{digits}g") if digits else repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(value, f".{digits}g") if digits else repr(value)
    return _quote(value)


def _describe(value: Value) -> str:
    """A non-number for a reason: a string quoted and cut short, anything else by fmt."""
    if isinstance(value, str):
        return f"the string {_quote(value)}"
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return fmt(value)


def _quote(text: str) -> str:
    """A string value quoted, cut to a readable length."""
    return repr(text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…")
