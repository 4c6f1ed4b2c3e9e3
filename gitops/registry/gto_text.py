"""What ``gto show``, ``gto history`` and ``gto check-ref`` print as text, from the same data
their ``--json`` prints (``views``): scripts written for ``gto`` read the same lines here.

The tables are drawn by ``tabulate`` with GTO's own arguments (``fancy_outline``, or ``plain``
for ``--plain``; headers from the row keys; ``-`` for a missing value), so widths, alignment
(a version that looks like a number is right-aligned, as in GTO) and wrapping are GTO's.
``tabulate`` is imported only when a table is printed.

On purpose we differ in one place: GTO cuts every version in the registry table to seven
characters (meant for commit hashes, it also turns ``v1.10.10`` into ``v1.10.1``); here only
commit hashes are cut.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gitops.errors import UsageError

NOTHING = "Nothing found in the current workspace"
_HEXSHA = re.compile(r"[0-9a-f]{40}")


def _short(value: str | None) -> str | None:
    """GTO's ``format_hexsha``: a commit hash cut to seven characters, anything else kept."""
    if value is not None and _HEXSHA.fullmatch(value):
        return value[:7]
    return value


def _when(iso: str) -> datetime | str:
    """A timestamp as GTO's table shows it (``str`` of a datetime: a space, not ``T``)."""
    try:
        return datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return iso


def registry_cell(version: str) -> str:
    """A version in the registry table: whole (GTO cuts it to seven characters; see the
    module's docstring), a commit hash cut as GTO cuts it."""
    return _short(version) or ""


def registry_rows(state: dict[str, Any], stages: Sequence[str]) -> list[dict[str, Any]]:
    """``gto show``'s table rows: name (``*name`` when only annotated), latest, ``#stage``."""
    rows = []
    for name, info in sorted(state.items()):
        latest = registry_cell(info["version"]) if info["version"] else None
        row = {"name": name if info["registered"] else f"*{name}", "latest": latest}
        for stage in stages:
            held = info["stage"].get(stage)
            cut = [registry_cell(v) for v in held.split(", ")] if held else None
            row[f"#{stage}"] = ", ".join(cut) if cut else None
        rows.append(row)
    return rows


def version_rows(versions: list[dict[str, Any]], registered: bool) -> list[dict[str, Any]]:
    """``gto show NAME``'s table rows: artifact, version, stage, created_at, ref."""
    rows = []
    for v in versions:
        rows.append({
            "artifact": v["artifact"] if registered else f"*{v['artifact']}",
            "version": _short(v["version"]),
            "stage": ", ".join(dict.fromkeys(s["stage"] for s in v["stages"])),
            "created_at": _when(v["created_at"]),
            "ref": _short(v["ref"]),
        })  # fmt: skip
    return rows


def history_rows(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``gto history``'s table rows, from its JSON events."""
    return [
        {
            "timestamp": _when(e["timestamp"]),
            "artifact": e["artifact"],
            "event": e["event"],
            "version": _short(e.get("version")),
            "stage": e.get("stage"),
            "commit": _short(e["commit"]),
            "ref": _short(e["ref"]) if e["ref"] == e["commit"] else e["ref"],
        }
        for e in events
    ]


def table(rows: list[dict[str, Any]], plain: bool = False) -> str:
    """GTO's ``format_echo(..., "table")``: the table, or ``NOTHING`` for no rows."""
    if not rows:
        return NOTHING
    from tabulate import tabulate

    return tabulate(
        rows,
        headers="keys",
        tablefmt="plain" if plain else "fancy_outline",
        showindex=False,
        missingval="-",
    )


def column(rows: list[dict[str, Any]], field: str) -> list[str]:
    """``gto show --name/--version/--stage/--ref``: that column, a line per row (GTO prints
    ``str`` of each value); a column the table does not have is a usage error, as in GTO."""
    if not rows:
        return []
    if field not in rows[0]:
        raise UsageError(f"Cannot apply --{field}")
    return [str(row[field]).rstrip("\r\n") for row in rows]


def check_ref_line(sentence: str) -> str:
    """``gto check-ref``'s line: GTO's check mark, then what the tag did (wrapped as GTO's
    console wraps it)."""
    return wrap(f"✅  {sentence}")


def console_width() -> int:
    """The width GTO's console (rich) wraps at: ``COLUMNS``, else the terminal's, else 80."""
    import os
    import sys

    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        import shutil

        return shutil.get_terminal_size().columns
    return 80


def _cells(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrap(line: str, width: int | None = None) -> str:
    """A line broken as rich breaks it: at spaces, a word kept whole where it fits (its
    trailing space stays on the line), a word wider than the line cut into pieces."""
    width = width or console_width()
    lines: list[str] = []
    current, used = "", 0
    for word in re.findall(r"\s*\S+\s*", line) or [line]:
        length = _cells(word.rstrip())
        if width - used >= length:
            current, used = current + word, used + _cells(word)
            continue
        if length > width:
            pieces = _chop(word, width)
            if current:
                lines.append(current)
            lines += pieces[:-1]
            current, used = pieces[-1], _cells(pieces[-1])
            continue
        lines.append(current)
        current, used = word, _cells(word)
    lines.append(current)
    return "\n".join(_fit(x, width) for x in lines)


def _fit(line: str, width: int) -> str:
    """A line's trailing spaces past the width dropped (those within it stay, as in rich)."""
    while line.endswith((" ", "\t")) and _cells(line) > width:
        line = line[:-1]
    return line


def _chop(word: str, width: int) -> list[str]:
    pieces, piece, used = [], "", 0
    for ch in word:
        size = _cells(ch)
        if used + size > width and piece:
            pieces.append(piece)
            piece, used = "", 0
        piece, used = piece + ch, used + size
    return [*pieces, piece]
