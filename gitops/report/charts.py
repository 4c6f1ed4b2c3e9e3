"""Mermaid ``xychart-beta`` charts: GitHub and GitLab draw them in comments and job summaries, so
a report needs no image and uploads nothing anywhere.

Every string in a chart comes from people we do not trust (metric names, versions, plot titles)
and Mermaid has its own syntax: a ``"`` ends a label, ``%%`` starts a comment or an ``%%{init}``
directive, ``#...;`` is an entity, a newline ends the statement and a backtick run could close
the Markdown fence around the chart. ``label`` keeps letters, digits, spaces and a few harmless
marks and turns everything else into a look-alike or a space, so a label is always one quoted
Mermaid string and nothing more.

xychart-beta has no legend and no x coordinates per point (a line is its values spread evenly
over the x-axis): old and new share a chart only when they have the same x values; otherwise
each side gets its own chart. The colours are fixed (``OLD_COLOUR`` grey, ``NEW_COLOUR`` blue)
and the caption under each chart says which is which. NaN and infinities cannot be drawn:
a series holding one is left out of the chart (the table after it still shows it).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from decimal import Decimal

from gitops.report.model import History, PlotDiff, Value
from gitops.safetext import one_line

OLD_COLOUR = "#9e9e9e"
NEW_COLOUR = "#1f77b4"
LABEL_LIMIT = 60  # characters of a title or an axis label
TICK_LIMIT = 24  # characters of one x-axis category

_LOOKALIKE = str.maketrans(
    {
        '"': "'",
        "`": "ˋ",
        "<": "‹",
        ">": "›",
        "#": "＃",
        "%": "％",
        ";": ",",
        "\\": "/",
        "&": "+",
        "{": "(",
        "}": ")",
        "[": "(",
        "]": ")",
    }
)
_UNSAFE = re.compile(r"[^\w .,:/()+\-=*'!?@$^~|ˋ‹›＃％]")


def label(text: str, limit: int = LABEL_LIMIT) -> str:
    """An untrusted string as the inside of one quoted Mermaid string (quotes not included)."""
    text = one_line(text, show_invisible=False).translate(_LOOKALIKE)
    text = _UNSAFE.sub(" ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text or "-"


def _number(x: float) -> str:
    """A data point as Mermaid reads it: a plain decimal at 15 significant digits."""
    text = format(Decimal(format(float(x), ".15g")), "f")  # no float noise, no exponent
    return text.removesuffix(".0") if "." in text else text


def _drawable(values: Sequence[float]) -> bool:
    return all(math.isfinite(v) for v in values)


def chart(
    title: str,
    x_label: str,
    categories: Sequence[str],
    lines: Sequence[Sequence[float]],
    colours: Sequence[str],
    y_label: str = "",
) -> str:
    """One fenced ``mermaid`` block with a line per series (every series as long as
    ``categories``); labels are sanitised here, numbers must be finite."""
    palette = ", ".join(colours)
    ticks = ", ".join(f'"{label(c, TICK_LIMIT)}"' for c in categories)
    out = [
        "```mermaid",
        "---",
        "config:",
        "  themeVariables:",
        "    xyChart:",
        f'      plotColorPalette: "{palette}"',
        "---",
        "xychart-beta",
        f'  title "{label(title)}"',
        f'  x-axis "{label(x_label)}" [{ticks}]',
    ]
    if y_label:
        out.append(f'  y-axis "{label(y_label)}"')
    out += [f"  line [{', '.join(_number(v) for v in series)}]" for series in lines]
    out.append("```")
    return "\n".join(out)


def _as_float(value: Value | None) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def history_series(history: History, metric: str) -> tuple[list[str], list[float]]:
    """The versions that have a finite number for ``metric``, oldest first, and the values."""
    versions: list[str] = []
    values: list[float] = []
    for point in history.points:
        x = _as_float(point.values.get(metric))
        if x is not None and math.isfinite(x):
            versions.append(point.version)
            values.append(x)
    return versions, values


def history_chart(history: History, metric: str | None = None) -> str:
    """The chart of one metric (default: the first) over the versions the stage held; "" when
    fewer than two versions have a number for it (a single point is not a line)."""
    if metric is None:
        if not history.metrics:
            return ""
        metric = history.metrics[0]
    versions, values = history_series(history, metric)
    if len(values) < 2:
        return ""
    title = f"{metric} in {history.artifact} {history.stage}"
    return chart(title, "version", versions, [values], [NEW_COLOUR], y_label=metric)


def history_charts(history: History, limit: int = 6) -> list[tuple[str, str]]:
    """(metric, chart) for the first ``limit`` metrics that can be drawn."""
    out: list[tuple[str, str]] = []
    for metric in history.metrics:
        if len(out) >= limit:
            break
        block = history_chart(history, metric)
        if block:
            out.append((metric, block))
    return out


def _side(
    points: Sequence[tuple[float, dict[str, float]]], column: str
) -> tuple[list[float], list[float]]:
    xs = [x for x, row in points if column in row]
    ys = [row[column] for x, row in points if column in row]
    return xs, ys


def plot_charts(plot: PlotDiff) -> list[str]:
    """One chart per drawn column: old and new on one chart when they share their x values,
    else one chart per side."""
    title = plot.spec.title or plot.spec.path
    x_label = plot.x or "row"
    out: list[str] = []
    for column in plot.series:
        old_x, old_y = _side(plot.old, column)
        new_x, new_y = _side(plot.new, column)
        name = f"{title}: {column}" if len(plot.series) > 1 or column not in title else title
        if old_y and new_y and old_x == new_x and _drawable(old_y + new_y + new_x):
            ticks = [format_tick(x) for x in new_x]
            out.append(
                chart(name, x_label, ticks, [old_y, new_y], [OLD_COLOUR, NEW_COLOUR], column)
            )
            continue
        for side, xs, ys, colour in (
            ("old", old_x, old_y, OLD_COLOUR),
            ("new", new_x, new_y, NEW_COLOUR),
        ):
            if len(ys) >= 2 and _drawable(ys + xs):
                ticks = [format_tick(x) for x in xs]
                out.append(chart(f"{name} ({side})", x_label, ticks, [ys], [colour], column))
    return out


def plot_chart(plot: PlotDiff) -> str:
    """Every chart of one plots file, one after the other ("" when nothing can be drawn)."""
    return "\n\n".join(plot_charts(plot))


def format_tick(x: float) -> str:
    """An x value as a category: ints without ``.0``, floats at 6 significant digits."""
    if math.isfinite(x) and x == int(x):
        return str(int(x))
    return format(x, ".6g")
