"""Any Python ``str`` made safe to write: well-formed Unicode, and one visible line for logs.

Text reaches us from YAML files, event payloads and other programs. PyYAML reads the JSON-style
escape ``"\\ud83d\\ude80"`` as two surrogate code points and ``"\\ud83d"`` as a lone one, which
UTF-8 cannot encode; control characters end a line or drive a terminal; format characters (bidi
overrides, zero-width spaces) make text read differently from what it is. Every writer (log,
outputs, summaries, forge requests) passes its text through here once, where it is written.
"""

from __future__ import annotations

import re
import unicodedata

_SURROGATE = re.compile("[\ud800-\udfff]")
_NOT_PLAIN = re.compile(r"[^\t\x20-\x7e]")  # everything but printable ASCII and tab
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_LINE_BREAKING = ("Cc", "Zl", "Zp")  # controls (C0, DEL, C1 with NEL), U+2028, U+2029
_INVISIBLE = ("Cf",)  # bidi controls, zero-width characters, soft hyphen, BOM, ...


def well_formed(text: str) -> str:
    """``text`` encodable as UTF-8: a valid surrogate pair joined into its character, a lone
    surrogate replaced by U+FFFD. Everything else is kept as it is."""
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def shown(char: str) -> str:
    """A character as a visible escape, as Python writes it: ``\\n``, ``\\x1b``, ``\\u202e``."""
    if char in _SHORT:
        return _SHORT[char]
    point = ord(char)
    if point < 0x100:
        return f"\\x{point:02x}"
    return f"\\u{point:04x}" if point < 0x10000 else f"\\U{point:08x}"


def visible(text: str) -> str:
    """One log line: controls, line separators and invisible format characters as escapes
    (tab kept). A terminal or a CI log shows exactly what the string holds, on one line."""
    text = well_formed(text)
    if _NOT_PLAIN.search(text) is None:
        return text

    def replace(match: re.Match[str]) -> str:
        char = match.group()
        if char == "\t":
            return char
        category = unicodedata.category(char)
        return shown(char) if category in _LINE_BREAKING or category in _INVISIBLE else char

    return _NOT_PLAIN.sub(replace, text)


def one_line(text: str, show_invisible: bool = True) -> str:
    """One line of data (a table cell, a dotenv value): controls and line separators become
    spaces; invisible format characters are shown as escapes unless ``show_invisible`` is off."""
    text = well_formed(text).replace("\t", " ")
    if _NOT_PLAIN.search(text) is None:
        return text

    def replace(match: re.Match[str]) -> str:
        char = match.group()
        category = unicodedata.category(char)
        if category in _LINE_BREAKING:
            return " "
        return shown(char) if show_invisible and category in _INVISIBLE else char

    return _NOT_PLAIN.sub(replace, text)


def without_nul(text: str) -> str:
    """Well-formed, NUL as U+FFFD: for values that end up in environment variables (a C string
    stops at NUL) but keep their line breaks (multi-line outputs)."""
    return well_formed(text).replace("\x00", "\ufffd")
