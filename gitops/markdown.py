"""Markdown for job summaries and PR comments, with every untrusted string escaped.

Tag, branch and metric names and PR titles come from people we do not trust: escaped, they show
as the literal text they are and cannot add links, images, HTML, mentions or table cells. Any
``str`` is accepted: surrogates are made well-formed, controls become spaces and invisible format
characters (bidi overrides, zero-width spaces) are shown as escapes (``gitops.safetext``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote

from gitops.safetext import one_line, well_formed

_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~&@:=\"'])")


def strip_control(text: str) -> str:
    """One line, no terminal tricks: controls (newlines, escapes) as spaces, invisible format
    characters as visible escapes, surrogates made well-formed."""
    return one_line(text)


def escape(text: str) -> str:
    """Literal text in Markdown: control characters become spaces, punctuation is escaped.

    ``@`` is escaped so a name never mentions someone; ``<``/``&`` so no HTML gets through.
    """
    return _SPECIAL.sub(r"\\\1", one_line(text))


def code(text: str, in_table: bool = True) -> str:
    """Inline code for an untrusted string: backticks, newlines and table pipes cannot break out."""
    text = one_line(text).replace("`", "\u02cb")  # a look-alike, not a backtick
    if in_table:
        text = text.replace("|", "\\|")  # GFM splits cells before it sees code spans
    return f"`{text}`" if text.strip() else "` `"


def link(label: str, url: str) -> str:
    """A link with an escaped label; the URL is ours, its path parts already quoted."""
    return f"[{escape(label)}]({url})"


def url_part(value: str) -> str:
    """One path segment of a URL (tag names contain ``#`` and ``@``)."""
    return quote(well_formed(value), safe="")


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub/GitLab table from cells that are already Markdown (escaped by the caller)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("\n", " ") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def code_block(text: str) -> str:
    """Untrusted multi-line text, shown as it is: a fence longer than any backtick run inside,
    so nothing in it can close the block; controls other than newlines made visible."""
    from gitops.safetext import visible

    lines = [visible(line) for line in well_formed(text).splitlines()] or [""]
    body = "\n".join(lines)
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{body}\n{fence}"
