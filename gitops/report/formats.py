"""One metrics, params or plots file's bytes into flat values (or rows), as DVC reads it.

By extension, as DVC's loaders choose (``dvc/utils/serialize``): ``.json`` JSON, ``.toml`` TOML
(``tomllib``; DVC uses tomlkit, same values), anything else YAML 1.2 with DVC's ruamel.yaml
(``gitops.yamlfile.load_gto_yaml``: ``yes`` is a string, ``1e3`` a float, duplicate keys an
error). Plots also take ``.csv``/``.tsv`` (a header row, then rows; cells that read as numbers
become numbers, the rest stay text) and JSON/YAML lists of rows (a top-level list, or the lists
of objects found in a mapping, merged row by row as DVC's Vega converter does).

Nested keys are joined with ``.`` exactly as DVC's ``flatten_dict(reducer="dot")``: keys are not
escaped (``{"a": {"b": 1}}`` and ``{"a.b": 1}`` both give ``a.b``; both in one file is an
error here, as in DVC), non-string keys read as ``str(key)``.

Kept: bool, int, float (NaN and infinity too), str. A list, a null, an empty mapping or a date
goes to ``skipped`` (DVC's metrics drop them silently; we say so). An empty file has no values
(DVC reads it as ``{}``). Where DVC differs on purpose, see tests/test_report_dvc_parity.py.

``parse`` never raises for content: a non-mapping top level (metrics, params) or a syntax error
is MALFORMED, a binary, non-UTF-8 or over-10-MB file UNREADABLE, each with a one-line error.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterator
from fnmatch import fnmatchcase
from typing import Any

from gitops.report.model import FileRead, FileStatus, Kind, Value

MAX_BYTES = 10 * 1024 * 1024
"""Bigger files are not read (UNREADABLE): a metrics file is kilobytes."""


class _Malformed(Exception):
    """The file's content is not what its kind needs (a one-line reason)."""


def parse(path: str, data: bytes, kind: Kind) -> FileRead:
    """``data`` (the file ``path``) read as ``kind``; see the module docstring."""
    if len(data) > MAX_BYTES:
        return _failed(path, kind, FileStatus.UNREADABLE, too_big(len(data)))
    if b"\0" in data:
        return _failed(path, kind, FileStatus.UNREADABLE, "binary file (holds NUL bytes)")
    try:
        text = data.decode("utf-8-sig")  # a byte-order mark is not content
    except UnicodeDecodeError as exc:
        return _failed(path, kind, FileStatus.UNREADABLE, f"not UTF-8 (byte {exc.start})")
    ext = _extension(path)
    try:
        if kind is Kind.PLOTS and ext in (".csv", ".tsv"):
            return FileRead(path, kind, FileStatus.OK, rows=_delimited(text, ext == ".tsv"))
        document = _load(text, ext)
        if kind is Kind.PLOTS:
            return FileRead(path, kind, FileStatus.OK, rows=_rows(document))
        if document is None:
            return FileRead(path, kind, FileStatus.OK)
        if not isinstance(document, dict):
            raise _Malformed(f"the top level is {_a(document)}, not a mapping of names to values")
        values, skipped = flatten(document)
    except _Malformed as exc:
        return _failed(path, kind, FileStatus.MALFORMED, str(exc))
    return FileRead(path, kind, FileStatus.OK, values=values, skipped=tuple(skipped))


def too_big(size: int) -> str:
    return f"too big to read ({size:,} bytes, the limit is {MAX_BYTES:,})"


def _failed(path: str, kind: Kind, status: FileStatus, error: str) -> FileRead:
    return FileRead(path, kind, status, error=error)


def _extension(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def _a(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return f"a {type(value).__name__}"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _load(text: str, ext: str) -> Any:
    """The document, by extension as DVC picks its loader."""
    try:
        if ext == ".json":
            return _load_json(text)
        if ext == ".toml":
            import tomllib

            return tomllib.loads(text)
        return _load_yaml(text)
    except RecursionError:
        raise _Malformed("nested too deeply") from None
    except _Malformed:
        raise
    except ValueError as exc:  # JSONDecodeError, TOMLDecodeError, an int of 5,000 digits
        what = "JSON" if ext == ".json" else "TOML" if ext == ".toml" else "YAML"
        raise _Malformed(f"invalid {what}: {_one_line(str(exc))}") from None


def _load_json(text: str) -> Any:
    if not text.strip():
        return None  # DVC fails on an empty JSON file ("corrupted"); here it has no values
    return json.loads(text)


def _load_yaml(text: str) -> Any:
    from gitops.yaml12_fast import NotSimple, load

    try:
        return load(text)
    except NotSimple:
        pass
    from gitops.yamlfile import YamlFileError, load_gto_yaml

    try:
        return load_gto_yaml(text, "").data
    except YamlFileError as exc:
        where = f" (line {exc.line})" if exc.line else ""
        problem = exc.detail.removeprefix("invalid YAML: ")
        raise _Malformed(f"invalid YAML{where}: {_one_line(problem)}") from None


def flatten(document: dict[Any, Any]) -> tuple[dict[str, Value], list[str]]:
    """(values, skipped keys), nested keys joined with ``.`` as DVC's ``flatten_dict``."""
    values: dict[str, Value] = {}
    skipped: list[str] = []
    seen: set[str] = set()
    for key, value in _walk(document, ""):
        if key in seen:
            raise _Malformed(f"key {key!r} appears twice once nested keys are joined with '.'")
        seen.add(key)
        if value is _SKIP:
            skipped.append(key)
        else:
            values[key] = value
    return values, skipped


_SKIP: Any = object()


def _walk(mapping: dict[Any, Any], prefix: str) -> Iterator[tuple[str, Any]]:
    for raw, value in mapping.items():
        key = f"{prefix}{raw if isinstance(raw, str) else str(raw)}"
        if isinstance(value, dict):
            if value:
                yield from _walk(value, f"{key}.")
            else:
                yield key, _SKIP  # DVC drops an empty mapping too
        elif isinstance(value, bool | int | float | str):
            yield key, value
        else:  # list, null, date, binary, set...
            yield key, _SKIP


def select_keys(read: FileRead, patterns: tuple[str, ...]) -> FileRead:
    """Only the keys a ``dvc.yaml`` stage tracks (``{file: [train.lr, model.*]}``), as DVC's
    dpath search picks them: each ``.``-separated part of a pattern is a glob for one level, and
    a pattern naming a mapping takes everything under it."""
    if not patterns or read.status is not FileStatus.OK:
        return read
    parts = [p.split(".") for p in patterns]

    def wanted(key: str) -> bool:
        segments = key.split(".")
        return any(len(segments) >= len(p) and all(map(fnmatchcase, segments, p)) for p in parts)

    return FileRead(
        read.path,
        read.kind,
        read.status,
        values={k: v for k, v in read.values.items() if wanted(k)},
        skipped=tuple(k for k in read.skipped if wanted(k)),
        rows=read.rows,
        error=read.error,
    )


# -- plots -------------------------------------------------------------------------------------

_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_SPECIAL = {"nan": math.nan, "inf": math.inf, "+inf": math.inf, "-inf": -math.inf}


def cell(text: str) -> Value:
    """A CSV/TSV cell: an int or a float when it reads as one (``1``, ``-2.5e-3``, ``NaN``,
    ``inf``), else the text as it is."""
    stripped = text.strip()
    if _INT.fullmatch(stripped):
        return int(stripped)
    if _FLOAT.fullmatch(stripped):
        return float(stripped)
    special = _SPECIAL.get(stripped.lower())
    return text if special is None else special


def _delimited(text: str, tabs: bool) -> tuple[dict[str, Value], ...]:
    """Rows of a CSV/TSV file with a header row, as DVC's ``csv.DictReader``."""
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter="\t" if tabs else ",")
    try:
        return tuple(
            {k: cell(v) for k, v in row.items() if isinstance(k, str) and isinstance(v, str)}
            for row in reader
        )
    except csv.Error as exc:
        raise _Malformed(f"invalid {'TSV' if tabs else 'CSV'}: {_one_line(str(exc))}") from None


def _rows(document: Any) -> tuple[dict[str, Value], ...]:
    """The rows in a JSON/YAML plots file: DVC's ``get_datapoints`` (every list of objects with
    the same keys, found at the top or in the mapping's values, merged by index)."""
    if document is None or document == []:
        return ()
    if not isinstance(document, list | dict):
        raise _Malformed(f"the top level is {_a(document)}, not a list of rows")
    merged: list[dict[str, Value]] = []
    found = False
    for series in _lists(document):
        if not series or not all(isinstance(item, dict) for item in series):
            continue
        keys = set(series[0])
        if keys != {k for item in series for k in item}:
            continue
        found = True
        for index, item in enumerate(series):
            if len(merged) <= index:
                merged.append({})
            try:
                merged[index].update(flatten(item)[0])
            except _Malformed:
                continue
    if not found:
        raise _Malformed("no rows: expected a list of objects with the same fields")
    return tuple(merged)


def _lists(blob: list[Any] | dict[Any, Any]) -> Iterator[list[Any]]:
    if isinstance(blob, list):
        yield blob
        return
    for value in blob.values():
        if isinstance(value, dict):
            yield from _lists(value)
        elif isinstance(value, list):
            yield value
