"""Numbers for people: one column's values at the digits that tell them apart, no float noise.

DVC rounds every value to 5 decimals (``0.0000012`` shows as ``0.0``) and prints its JSON diffs
with binary noise (``0.020000000000000018``). Here a column is formatted as a whole:

- each float is first read at 15 significant digits, the most a double always round-trips, so
  ``0.1 + 0.2`` is ``0.3``: what is left is the value's *natural* digits;
- the column shows the fewest significant digits that cover every value's natural digits, at
  most ``DIGITS`` (or a large value's integer part and ``DECIMALS`` decimals: ``1234568.5``
  stays whole), then more while two distinct values would still read the same:
  ``0.8512345`` vs ``0.8512346`` keep their 7th digit, a lone ``0.8734567891`` shows as
  ``0.873457``; an integer part is never cut (``1234567.0`` is ``1234567``);
- trailing zeros are dropped (``0.8`` next to ``0.87346``), magnitudes below ``1e-4`` or above
  ``1e15`` use an exponent (``1.2e-07``);
- ints as ints, booleans ``true``/``false``, NaN ``NaN``, infinities ``∞``/``-∞``, a missing
  value ``—``; a string is returned as it is (the renderer escapes or quotes it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from gitops.report.model import Change, Value

DIGITS = 6  # significant digits a column shows at most unless values need more to differ
DECIMALS = 2  # ... or a large number's integer part and two decimals
MAX_DIGITS = 17  # enough for any two distinct doubles
MISSING = "—"
_NATURAL = 15  # digits a double always round-trips: float noise lives beyond them


def _significant(text: str) -> int:
    """Significant digits of a ``g``-formatted number (``0.0012`` -> 2, ``1.5e-07`` -> 2)."""
    mantissa = text.lstrip("-").split("e")[0].replace(".", "").lstrip("0")
    return max(1, len(mantissa))


def _integer_digits(x: float) -> int:
    """Digits before the point, so ``1234567.0`` never turns into ``1.23457e+06``."""
    ax = abs(x)
    return len(str(int(ax))) if 1 <= ax < 1e15 else 0


def _float(x: float, digits: int) -> str:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    return format(x, f".{max(digits, _integer_digits(x))}g")


def _scalar(value: Value | None) -> str:
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value, min(DIGITS, _significant(format(value, f".{_NATURAL}g"))))
    return value


def format_column(values: Sequence[Value | None], distinct: bool = True) -> list[str]:
    """One column's display strings, in order (see the module docstring for the rules).
    ``distinct=False``: no extra digits to tell values apart (a column of changes)."""
    floats = {v for v in values if type(v) is float and math.isfinite(v)}
    if not floats:
        return [_scalar(v) for v in values]
    natural = {x: format(x, f".{_NATURAL}g") for x in floats}
    digits = max(
        min(_significant(text), max(DIGITS, _integer_digits(x) + DECIMALS))
        for x, text in natural.items()
    )
    different = len(set(natural.values()))  # values equal at 15 digits are one value to people
    shown = {x: _float(x, digits) for x in floats}
    while distinct and len(set(shown.values())) < different and digits < MAX_DIGITS:
        digits += 1
        shown = {x: _float(x, digits) for x in floats}
    return [shown[v] if type(v) is float and v in shown else _scalar(v) for v in values]


def format_number(value: Value | None) -> str:
    """A single value, formatted as a column of one."""
    return format_column([value])[0]


def _signed(text: str) -> str:
    return text if text.startswith("-") else "+" + text


def format_delta(change: Change) -> tuple[str, str]:
    """``("+0.02", "+2.4%")``: the change and the relative change, signed; ``""`` for what has
    none (non-numeric values, a relative change from 0). A zero change reads ``0`` and ``0%``."""
    return format_deltas([change])[0]


def format_deltas(changes: Sequence[Change]) -> list[tuple[str, str]]:
    """``format_delta`` for a table's column of changes: their digits chosen together."""
    deltas = [c.delta if isinstance(c.delta, int | float) else None for c in changes]
    shown = format_column([None if isinstance(d, bool) else d for d in deltas], distinct=False)
    out = []
    for change, delta, text in zip(changes, deltas, shown, strict=True):
        if delta is None or isinstance(delta, bool):
            out.append(("", ""))
        elif isinstance(delta, float) and not math.isfinite(delta):
            out.append((_signed(text), ""))
        elif delta == 0:
            out.append(("0", format_percent(change.relative)))
        else:
            out.append((_signed(text), format_percent(change.relative)))
    return out


def format_percent(relative: float | None) -> str:
    """A relative change (0.024) as a signed percentage: ``+2.4%``, ``-0.35%``, ``+1500%``;
    below 0.001% ``+<0.001%`` (the sign still says which way)."""
    if relative is None or not math.isfinite(relative):
        return ""
    if relative == 0:
        return "0%"
    pct = relative * 100
    sign = "+" if pct > 0 else "-"
    mag = abs(pct)
    if mag < 0.001:
        return f"{sign}<0.001%"
    if mag >= 100:
        text = f"{mag:.0f}"
    elif mag >= 1:
        text = f"{mag:.1f}".removesuffix(".0")
    else:
        text = format(mag, ".2g")
        if "e" in text:
            text = f"{mag:.3f}".rstrip("0")
    return f"{sign}{text}%"
