"""Old vs new, per file and key: the changes a report shows and gates judge. Pure, no I/O.

Why here and not ``dvc metrics diff``: DVC orders files at random, hides load errors, drops
lists and nulls without a word and prints float noise (``0.020000000000000018``). Here:

- Order: files in the new revision's declared order, then files only the old one declares; keys
  in the new file's order, then keys only the old file has (removed). Every key gets a Change,
  unchanged ones too (verdict SAME), so a report can count and fold them.
- Numbers: ``delta`` and ``relative`` only when both sides are int or float (a boolean is not a
  number here, a string never). Ints subtract as ints. Floats subtract as the decimals they were
  written as (``Decimal(repr(x))``: the shortest text that reads back as that float, which is
  what the file said), so 0.3 - 0.1 is stored as 0.2, not 0.19999999999999998. ``relative`` is
  ``delta / |old|`` (None when old is 0); a move from -2 to -1 is +50%.
- NaN and infinity: no ``delta``/``relative``; NaN to NaN (and inf to inf) is SAME; a change to
  or from NaN is CHANGED (it cannot be ordered); infinities compare as usual (a loss going to inf
  is WORSE).
- Verdict: ADDED / REMOVED when one side lacks the key, SAME when equal (``1`` and ``1.0`` are
  equal, ``True`` and ``1`` are not), BETTER / WORSE by the direction for two numbers, CHANGED
  when the direction is NONE or a side is not a number. ``Change.direction`` is the metric's
  direction when a side is a number, NONE for strings and booleans.
- Files: a side whose file is missing, malformed or unreadable keeps its status and error in
  the FileDiff and contributes no keys (so its keys read as added or removed: the template says
  why). With no old snapshot at all (the first version in a stage) the old side of every file is
  MISSING with no error, and every key is ADDED. A file only the old revision declares has the
  new side MISSING with the error "not declared".
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from math import isfinite, isnan

from gitops.report.model import (
    Change,
    Diff,
    Direction,
    FileDiff,
    FileRead,
    FileStatus,
    Kind,
    Snapshot,
    Value,
    Verdict,
)

DirectionOf = Callable[[str, str, Kind], Direction]
"""``direction.Directions`` or any function of (path, key, kind) -> Direction."""

NOT_DECLARED = "not declared"
# Enum members as module constants: a class attribute lookup per change costs more than the
# rest of the arithmetic (10,000 changes).
_NONE, _HIGHER = Direction.NONE, Direction.HIGHER
_ADDED, _REMOVED, _SAME, _CHANGED = Verdict.ADDED, Verdict.REMOVED, Verdict.SAME, Verdict.CHANGED
_BETTER, _WORSE = Verdict.BETTER, Verdict.WORSE
_NO_VALUES: dict[str, Value] = {}


def diff(old: Snapshot | None, new: Snapshot, kind: Kind, directions: DirectionOf) -> Diff:
    """The changes of every ``kind`` file from ``old`` (None: nothing before) to ``new``."""
    new_files = list(_first_of_each_path(new.files, kind).values())
    old_by_path = _first_of_each_path(old.files, kind) if old is not None else {}
    old_files = list(old_by_path.values())
    seen = {f.path for f in new_files}
    out = [_file(old_by_path.get(f.path), f, old is None, kind, directions) for f in new_files]
    for f in old_files:
        if f.path not in seen:
            seen.add(f.path)
            gone = FileRead(path=f.path, kind=kind, status=FileStatus.MISSING, error=NOT_DECLARED)
            out.append(_file(f, gone, False, kind, directions))
    return Diff(files=tuple(out))


def _first_of_each_path(files: tuple[FileRead, ...], kind: Kind) -> dict[str, FileRead]:
    """The ``kind`` files in order, a path declared twice (two dvc.yaml files) only once."""
    out: dict[str, FileRead] = {}
    for f in files:
        if f.kind == kind:
            out.setdefault(f.path, f)
    return out


def _file(
    old: FileRead | None, new: FileRead, no_base: bool, kind: Kind, directions: DirectionOf
) -> FileDiff:
    old_values = old.values if old is not None and old.status == FileStatus.OK else _NO_VALUES
    new_values = new.values if new.status == FileStatus.OK else _NO_VALUES
    changes = [
        change(new.path, key, kind, old_values.get(key), value, directions)
        for key, value in new_values.items()
    ]
    changes += [
        change(new.path, key, kind, value, None, directions)
        for key, value in old_values.items()
        if key not in new_values
    ]
    skipped = dict.fromkeys(new.skipped)
    if old is not None:
        skipped.update(dict.fromkeys(old.skipped))
    if old is None:
        old_status, old_error = FileStatus.MISSING, ("" if no_base else NOT_DECLARED)
    else:
        old_status, old_error = old.status, old.error
    return FileDiff(
        path=new.path,
        kind=kind,
        old_status=old_status,
        new_status=new.status,
        old_error=old_error,
        new_error=new.error,
        changes=tuple(changes),
        skipped=tuple(k for k in skipped if k not in new_values and k not in old_values),
    )


_NUMBERS = (int, float)


def is_number(value: object) -> bool:
    """An int or float (NaN and infinities included), not a boolean (``type`` is exact: the
    parsers give plain ints and floats, and ``bool`` is an ``int`` subclass)."""
    return type(value) in _NUMBERS


def subtract(old: int | float, new: int | float) -> int | float:
    """``new - old`` without float noise: ints exactly, floats as the decimals they print as."""
    if type(old) is int and type(new) is int:
        return new - old
    return float(Decimal(repr(new)) - Decimal(repr(old)))


def change(
    path: str,
    key: str,
    kind: Kind,
    old: Value | None,
    new: Value | None,
    directions: DirectionOf,
) -> Change:
    """One key old vs new, with its delta and verdict (module docstring)."""
    old_number = type(old) in _NUMBERS
    new_number = type(new) in _NUMBERS
    direction = directions(path, key, kind) if old_number or new_number else _NONE
    delta: int | float | None = None
    relative: float | None = None
    if old is None:
        verdict = _ADDED
    elif new is None:
        verdict = _REMOVED
    elif not (old_number and new_number):
        verdict = _SAME if type(old) is type(new) and old == new else _CHANGED
    elif old == new:
        verdict = _SAME
        if isfinite(old):  # type: ignore[arg-type]
            delta = new - old  # type: ignore[operator]
            relative = 0.0 if old != 0 else None
    elif isfinite(old) and isfinite(new):  # type: ignore[arg-type]
        delta = subtract(old, new)  # type: ignore[arg-type]
        relative = delta / abs(old) if old != 0 else None  # type: ignore[arg-type]
        if direction is _NONE:
            verdict = _CHANGED
        else:
            verdict = _BETTER if (new > old) == (direction is _HIGHER) else _WORSE  # type: ignore[operator]
    elif isnan(old) or isnan(new):  # type: ignore[arg-type]
        verdict = _SAME if isnan(old) and isnan(new) else _CHANGED  # type: ignore[arg-type]
    elif direction is _NONE:
        verdict = _CHANGED
    else:  # an infinity: ordered, but no delta
        verdict = _BETTER if (new > old) == (direction is _HIGHER) else _WORSE  # type: ignore[operator]
    return Change(path, key, kind, old, new, delta, relative, direction, verdict)
