"""Numbers read as people write them: digits chosen per column, no float noise, signed changes."""

from __future__ import annotations

import pytest

from gitops.report.model import Change, Direction, Kind, Value, Verdict
from gitops.report.numbers import (
    format_column,
    format_delta,
    format_deltas,
    format_number,
    format_percent,
)

NAN = float("nan")
INF = float("inf")


@pytest.mark.parametrize(
    ("values", "shown"),
    [
        ([0.1 + 0.2], ["0.3"]),  # float noise never shows
        ([0.1 + 0.2, 0.3], ["0.3", "0.3"]),  # equal at 15 digits: the same value to people
        ([0.8, 0.87346], ["0.8", "0.87346"]),  # trailing zeros dropped
        ([0.8512345, 0.8512346], ["0.8512345", "0.8512346"]),  # distinct stay distinct
        ([1.0, 1.0000001], ["1", "1.0000001"]),
        ([0.8734567891], ["0.873457"]),  # six significant digits unless needed
        ([1.2e-07], ["1.2e-07"]),  # small magnitudes with an exponent
        ([0.00012], ["0.00012"]),
        ([1234567.0], ["1234567"]),  # the integer part is never cut into an exponent
        ([1234567.891, 0.5], ["1234567.89", "0.5"]),  # a large number keeps two decimals
        ([1234568.5, 1234567.0], ["1234568.5", "1234567"]),
        ([123.456789], ["123.457"]),
        ([1e20], ["1e+20"]),
        ([10, 12, -3], ["10", "12", "-3"]),  # ints as ints
        ([10**20], ["100000000000000000000"]),
        ([True, False], ["true", "false"]),  # booleans are not 1 and 0
        ([None], ["—"]),
        ([NAN, INF, -INF], ["NaN", "∞", "-∞"]),
        (["relu", "0.1"], ["relu", "0.1"]),  # strings as they are (the renderer quotes them)
        ([0.25, None, "x", 3, True, NAN], ["0.25", "—", "x", "3", "true", "NaN"]),
        ([], []),
    ],
)
def test_format_column(values: list[Value | None], shown: list[str]) -> None:
    assert format_column(values) == shown


def test_a_column_needs_as_many_digits_as_its_closest_pair() -> None:
    values = [0.123456781, 0.123456789, 0.5]
    shown = format_column(values)
    assert len(set(shown)) == 3
    assert shown == ["0.12345678", "0.12345679", "0.5"]


def test_a_large_column_formats_fast_enough_to_feel_instant() -> None:
    values: list[Value | None] = [i / 7 for i in range(20_000)]
    shown = format_column(values)
    assert len(set(shown)) == len(shown)  # 20,000 distinct values, 20,000 distinct strings


def _change(old: Value | None, new: Value | None, delta: float | None, rel: float | None) -> Change:
    return Change(
        "m.json", "k", Kind.METRICS, old, new, delta, rel, Direction.HIGHER, Verdict.BETTER
    )


@pytest.mark.parametrize(
    ("old", "new", "delta", "relative", "expected"),
    [
        (0.85, 0.87, 0.02, 0.02 / 0.85, ("+0.02", "+2.4%")),
        (0.3, 0.25, -0.05, -0.05 / 0.3, ("-0.05", "-16.7%")),
        (10, 12, 2, 0.2, ("+2", "+20%")),
        (0, 5, 5, None, ("+5", "")),  # relative change from 0: none
        (0.5, 0.5, 0.0, 0.0, ("0", "0%")),
        (1.0, 16.0, 15.0, 15.0, ("+15", "+1500%")),
        (0.1, 0.30000000000000004, 0.20000000000000004, 2.0000000000000004, ("+0.2", "+200%")),
        ("a", "b", None, None, ("", "")),  # strings are not subtracted
        (True, False, None, None, ("", "")),
        (1.0, NAN, None, None, ("", "")),
    ],
)
def test_format_delta(
    old: Value, new: Value, delta: float | None, relative: float | None, expected: tuple[str, str]
) -> None:
    assert format_delta(_change(old, new, delta, relative)) == expected


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        (0.024, "+2.4%"),
        (-0.0035, "-0.35%"),
        (0.5, "+50%"),
        (0.123456, "+12.3%"),
        (1e-9, "+<0.001%"),
        (-1e-9, "-<0.001%"),
        (0.00005, "+0.005%"),
        (None, ""),
        (INF, ""),
    ],
)
def test_format_percent(relative: float | None, expected: str) -> None:
    assert format_percent(relative) == expected


def test_format_number_is_a_column_of_one() -> None:
    assert format_number(0.1 + 0.2) == "0.3"
    assert format_number(None) == "—"


def test_a_column_of_changes_keeps_no_noise_and_needs_no_distinct_digits() -> None:
    changes = [
        _change(0.00996512, 0.0109651, 0.000999999999999999, 0.1),
        _change(0.5, 0.502, 0.002, 0.004),
        _change("a", "b", None, None),
    ]
    assert format_deltas(changes) == [("+0.001", "+10%"), ("+0.002", "+0.4%"), ("", "")]
    assert format_column([0.001, 0.000999999999999999], distinct=False) == ["0.001", "0.001"]
