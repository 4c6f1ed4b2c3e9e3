"""The common shape of annotation files, read without a YAML library and exactly as GTO's
ruamel.yaml reads it.

An ``artifacts.yaml`` or ``dvc.yaml`` is nearly always block mappings and sequences of one-line
plain or quoted scalars, with ``[a, b]`` lists and comments. ruamel.yaml's pure-Python loader
(GTO's, ``gitops.yamlfile.load_gto_yaml``) takes a few milliseconds for a 10-entry file and
seconds for a 5,000-entry one; this reader takes a fortieth of that (benchmarks/yaml_readers.py). It
reads only that subset and raises ``NotSimple`` for anything else (anchors, tags, block or
multi-line scalars, flow mappings, escapes, tabs, directives, duplicate keys, anything
malformed): the caller then reads the file with ``load_gto_yaml``, which gives the answer or
the error with its line. So this module never gives another answer than ruamel.yaml, only
sometimes none (tests/test_yaml12_fast.py compares the two on generated and mutated files).

Scalars resolve by the YAML 1.2 rules of ``gitops.yaml12_scalars``; a file with a ``%YAML``
directive is never read here.
"""

from __future__ import annotations

import re
from typing import Any

from gitops.yaml12_scalars import IMPLICIT, V12, resolve_plain, to_bool, to_float, to_int


class NotSimple(Exception):
    """The text is outside the subset read here (or not valid YAML): read it with ruamel."""


# Characters YAML readers refuse (ruamel's and PyYAML's NON_PRINTABLE), the line breaks they
# know besides "\n" (and "\r"), tabs and a byte-order mark: any of them sends the file to the
# full reader.
_ODD = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
_KEY = re.compile(r"([A-Za-z0-9_][A-Za-z0-9_./-]*):(?: +|$)")
# A plain scalar may not start with an indicator (`- x`, `-1` and `?x` are left to ruamel).
_PLAIN_START = frozenset("-?:,[]{}#&*!|>'\"%@`")
_FLOW_ODD = frozenset("[]{}'\":?#&*!|>%@`")
_MAX_KEY = 1000  # ruamel (as PyYAML) refuses a simple key longer than 1024 characters
_TOP_LEVEL = re.compile(rb"\n(?=[^\s#])")  # before a line at column 0, not a comment
_NOT_A_KEY_START = frozenset(b" \t\n\r\x0b\x0c#")
_BLANK_OR_COMMENT = re.compile(r"(?:[ ]*(?:#[^\n]*)?\n)*[ ]*(?:#[^\n]*)?")

# First characters of the plain scalars YAML 1.2 may resolve to something else than a string.
_TYPED_FIRST = frozenset(c for versions, _, _, first in IMPLICIT if V12 in versions for c in first)
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"

Lines = list[tuple[int, str]]  # (indent, text after the indent) of each line with content


def load(text: str) -> Any:
    """The document ``text`` holds, as ``load_gto_yaml(text).data`` would give it."""
    lines = _lines(_crlf(text))
    if not lines:
        raise NotSimple  # empty or comments only: ruamel says None, and why (never mind)
    if lines[0][0] != 0:
        raise NotSimple
    value, end = _block(lines, 0, 0)
    if end != len(lines):
        raise NotSimple
    return value


def split_top_level(content: bytes) -> list[bytes]:
    """``content`` cut before each line that starts at column 0 (not a comment): one piece per
    top-level entry of a block mapping, after a header of comments and blank lines.

    Read one by one with ``load_entry``, the pieces give what the whole text gives: no piece
    can end inside another's value (a value's lines are indented or inside quotes or brackets,
    which ``load_entry`` refuses to see unclosed), and the pieces' keys must differ. Bytes, cut
    by one regex: a file read at hundreds of commits is cut as many times.
    """
    if b"\r" in content:
        content = content.replace(b"\r\n", b"\n")  # ruamel's line break too; a lone CR: odd
    pieces = _TOP_LEVEL.split(content)
    if not content or content[0] in _NOT_A_KEY_START:  # a header before the first entry
        try:
            header = pieces.pop(0).decode("utf-8")
        except UnicodeDecodeError:
            raise NotSimple from None
        if _BLANK_OR_COMMENT.fullmatch(header) is None or _ODD.search(header) is not None:
            raise NotSimple
    if not pieces:
        raise NotSimple
    return pieces


def load_entry(piece: str) -> tuple[Any, Any]:
    """(key, value) of a piece of ``split_top_level``: a one-key block mapping."""
    lines = _lines(piece)
    if not lines or lines[0][0] != 0:
        raise NotSimple
    value, end = _mapping(lines, 0, 0)
    if end != len(lines) or len(value) != 1:
        raise NotSimple
    return next(iter(value.items()))


def _crlf(text: str) -> str:
    """CRLF line ends as LF: the same to ruamel outside multi-line scalars, never read here."""
    return text.replace("\r\n", "\n") if "\r" in text else text


def _lines(text: str) -> Lines:
    if _ODD.search(text) is not None:
        raise NotSimple
    lines: Lines = []
    for raw in text.split("\n"):
        body = raw.lstrip(" ")
        if body and body[0] != "#":
            lines.append((len(raw) - len(body), body))
    return lines


def _block(lines: Lines, i: int, indent: int) -> tuple[Any, int]:
    body = lines[i][1]
    if body == "-" or body.startswith("- "):
        return _sequence(lines, i, indent)
    return _mapping(lines, i, indent)


def _mapping(lines: Lines, i: int, indent: int) -> tuple[dict[Any, Any], int]:
    out: dict[Any, Any] = {}
    count = len(lines)
    while i < count:
        at, body = lines[i]
        if at < indent:
            break
        if at > indent:
            raise NotSimple
        m = _KEY.match(body)
        if m is None or m.end(1) > _MAX_KEY:
            raise NotSimple
        key = _plain(m[1])
        if key in out:
            raise NotSimple  # ruamel names the duplicate and its line
        rest = _uncomment(body[m.end() :])
        i += 1
        if rest:
            value = _inline(rest)
            if i < count and lines[i][0] > indent:
                raise NotSimple  # a multi-line scalar, or worse
        elif i < count and lines[i][0] > indent:
            value, i = _block(lines, i, lines[i][0])
        elif i < count and lines[i][0] == indent and _is_item(lines[i][1]):
            value, i = _sequence(lines, i, indent)  # `key:` then `- item` at the same indent
        else:
            value = None
        out[key] = value
    return out, i


def _is_item(body: str) -> bool:
    return body == "-" or body.startswith("- ")


def _sequence(lines: Lines, i: int, indent: int) -> tuple[list[Any], int]:
    out: list[Any] = []
    count = len(lines)
    while i < count:
        at, body = lines[i]
        if at < indent or (at == indent and not _is_item(body)):
            break
        if at > indent:
            raise NotSimple
        rest = body[1:].lstrip(" ")
        if rest and rest[0] != "#":
            # `- key: value` or `- - x`: the item's own block starts on this line
            lines[i] = (indent + len(body) - len(rest), rest)
            if _KEY.match(rest) is not None or _is_item(rest):
                value, i = _block(lines, i, lines[i][0])
            else:
                value = _inline(_uncomment(rest))
                i += 1
                if i < count and lines[i][0] > indent:
                    raise NotSimple
        else:
            i += 1
            if i < count and lines[i][0] > indent:
                value, i = _block(lines, i, lines[i][0])
            else:
                value = None
        out.append(value)
    return out, i


def _uncomment(text: str) -> str:
    """The value before a `` #`` comment, trailing spaces dropped."""
    cut = text.find(" #")
    if cut >= 0:
        text = text[:cut]
    return text.rstrip(" ")


def _inline(text: str) -> Any:
    first = text[0]
    if first == "'":
        inner = text[1:-1]
        if len(text) < 2 or text[-1] != "'" or "'" in inner.replace("''", ""):
            raise NotSimple
        return inner.replace("''", "'")
    if first == '"':
        inner = text[1:-1]
        if len(text) < 2 or text[-1] != '"' or '"' in inner or "\\" in inner:
            raise NotSimple
        return inner
    if first == "[":
        return _flow_sequence(text)
    if text == "{}":
        return {}
    return _plain(text)


def _flow_sequence(text: str) -> list[Any]:
    """``[a, b, 1]``: plain items only, on one line, none with a character that YAML 1.2 reads
    specially in a flow collection (left to ruamel)."""
    inner = text[1:-1]
    if text[-1] != "]" or any(c in _FLOW_ODD for c in inner):
        raise NotSimple
    if not inner.strip(" "):
        return []
    items = []
    for item in inner.split(","):
        item = item.strip(" ")
        if not item or item[0] == "-":
            raise NotSimple  # `[a,]`, `[,]`, `[-1]`: left to ruamel
        items.append(_plain(item))
    return items


def _plain(text: str) -> Any:
    """A one-line plain scalar, resolved as ruamel resolves it (YAML 1.2)."""
    first = text[0]
    if first in _PLAIN_START or ": " in text or text[-1] == ":":
        raise NotSimple
    if first not in _TYPED_FIRST:
        return text
    tag = resolve_plain(text, V12)
    if tag is None:
        return text
    try:
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return to_bool(text)
        if tag == _INT:
            return to_int(text, V12)
        if tag == _FLOAT:
            return to_float(text, V12)
    except (KeyError, ValueError, IndexError):
        raise NotSimple from None
    raise NotSimple  # timestamps, `<<`, `=`: left to ruamel
