"""Text for people: one line, and cut to a size without losing the reader.

A message cut at a fixed width ends mid-word and may drop what mattered most ("rolled back to
v1.1.0"); ``shorten`` cuts at a word boundary and always says it cut, with ``…``.
"""

from __future__ import annotations

import re

_SPACE = re.compile(r"\s+")
ELLIPSIS = "…"


def one_line(text: str) -> str:
    """Every run of whitespace (newlines included) as one space."""
    return _SPACE.sub(" ", text).strip()


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters; when cut, cut after a whole word
    (unless the last word alone is very long) and end with ``…``."""
    text = one_line(text)
    if len(text) <= limit:
        return text
    if limit <= 1:
        return ELLIPSIS[:limit]
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= max(limit // 2, limit - 30):  # a word boundary not too far back
        cut = cut[:space]
    return cut.rstrip(" ,;:") + ELLIPSIS
