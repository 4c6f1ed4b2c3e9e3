"""One metrics, params or plots file's bytes as a ``FileRead``, read as DVC reads it.

The format goes by extension, as ``dvc/utils/serialize``: ``.json`` JSON, ``.toml`` TOML,
anything else YAML 1.2 (ruamel's rules: ``yes`` is a string, ``1e3`` a float; read fast by
``gitops.yaml12_fast`` when the file is plain, else by ``gitops.yaml12``). Plots also read
``.csv`` and ``.tsv``. Nested keys flatten with ``.`` as DVC's ``flatten_dict`` (keys are not
escaped: ``{"a.b": 1}`` and ``{"a": {"b": 1}}`` both read ``a.b``).

Kept: booleans, numbers (NaN and infinities too) and strings. DVC drops lists and nulls
silently; here they are named in ``skipped``. Nothing in a file's content raises: a broken file
is a ``FileRead`` whose status and one-line ``error`` say why.
"""

from __future__ import annotations

import csv
import io
import json
import math
import posixpath
from typing import Any

from gitops.report.model import FileRead, FileStatus, Kind, Value

MAX_BYTES = 10 * 1024 * 1024  # a metrics file larger than this is not a metrics file
_BOM = "\ufeff"


class Malformed(Exception):
    """The content is not valid in its format; the message says where, on one line."""


def parse(path: str, data: bytes, kind: Kind) -> FileRead:
    """``data`` (the file at one revision) read as a ``kind`` file named ``path``."""
    if len(data) > MAX_BYTES:
        return _broken(path, kind, FileStatus.UNREADABLE, f"larger than {MAX_BYTES >> 20} MB")
    if b"\0" in data:
        return _broken(path, kind, FileStatus.UNREADABLE, "a binary file")
    try:
        text = data.decode("utf-8").removeprefix(_BOM)
    except UnicodeDecodeError as exc:
        return _broken(path, kind, FileStatus.UNREADABLE, f"not UTF-8 text (byte {exc.start})")
    ext = posixpath.splitext(path)[1].lower()
    try:
        if kind == Kind.PLOTS and ext in (".csv", ".tsv"):
            return FileRead(path, kind, FileStatus.OK, rows=_table(text, ext))
        loaded = _load(text, ext)
    except Malformed as exc:
        return _broken(path, kind, FileStatus.MALFORMED, str(exc))
    if kind == Kind.PLOTS:
        rows = _rows(loaded)
        if rows is None:
            return _broken(path, kind, FileStatus.MALFORMED, "not a list of rows")
        return FileRead(path, kind, FileStatus.OK, rows=rows)
    if loaded is None:
        return FileRead(path, kind, FileStatus.OK)  # an empty file: nothing in it
    if not isinstance(loaded, dict):
        what = type(loaded).__name__ if not isinstance(loaded, list) else "a list"
        return _broken(path, kind, FileStatus.MALFORMED, f"the top level is {what}, not a mapping")
    values: dict[str, Value] = {}
    skipped: list[str] = []
    _flatten(loaded, "", values, skipped)
    return FileRead(path, kind, FileStatus.OK, values=values, skipped=tuple(skipped))


def _broken(path: str, kind: Kind, status: FileStatus, error: str) -> FileRead:
    return FileRead(path, kind, status, error=error)


def _load(text: str, ext: str) -> Any:
    if ext == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise Malformed(f"invalid JSON: {exc.msg} (line {exc.lineno})") from None
        except RecursionError:
            raise Malformed("invalid JSON: nested too deeply") from None
    if ext == ".toml":
        import tomllib

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise Malformed(f"invalid TOML: {exc}") from None
    return _yaml(text)


def load_yaml_bytes(data: bytes) -> Any:
    """A YAML file (``dvc.yaml``) as DVC reads it; ``Malformed`` when it is not valid."""
    try:
        text = data.decode("utf-8").removeprefix(_BOM)
    except UnicodeDecodeError as exc:
        raise Malformed(f"not UTF-8 text (byte {exc.start})") from None
    return _yaml(text)


def _yaml(text: str) -> Any:
    from gitops import yaml12_fast

    try:
        return yaml12_fast.load(text)
    except yaml12_fast.NotSimple:
        pass
    from gitops.yamlfile import YamlFileError, load_gto_yaml

    try:
        return load_gto_yaml(text, "").data
    except YamlFileError as exc:
        where = f" (line {exc.line})" if exc.line else ""
        raise Malformed(f"invalid YAML: {exc.detail}{where}") from None


def _flatten(node: dict[Any, Any], prefix: str, out: dict[str, Value], skipped: list[str]) -> None:
    for key, value in node.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            _flatten(value, name + ".", out, skipped)
        elif isinstance(value, bool | int | float | str):
            out[name] = value
        else:  # lists, nulls, dates: DVC drops them, a report says so
            skipped.append(name)


def _scalar(value: Any) -> Value | None:
    return value if isinstance(value, bool | int | float | str) else None


def _rows(loaded: Any) -> tuple[dict[str, Value], ...] | None:
    """A plots file's rows: a list of mappings, or a mapping holding one (``{"train": [...]}``,
    as DVC accepts)."""
    if isinstance(loaded, dict):
        lists = [v for v in loaded.values() if isinstance(v, list)]
        if len(lists) != 1:
            return None
        loaded = lists[0]
    if not isinstance(loaded, list) or not all(isinstance(r, dict) for r in loaded):
        return None
    rows = []
    for row in loaded:
        flat: dict[str, Value] = {}
        _flatten(row, "", flat, [])
        rows.append(flat)
    return tuple(rows)


def _table(text: str, ext: str) -> tuple[dict[str, Value], ...]:
    """CSV/TSV rows with numbers as numbers (a cell that reads as one)."""
    reader = csv.DictReader(io.StringIO(text), delimiter="\t" if ext == ".tsv" else ",")
    try:
        return tuple(
            {str(k): _number(v) for k, v in row.items() if k is not None} for row in reader
        )
    except csv.Error as exc:
        raise Malformed(f"invalid CSV: {exc}") from None


def _number(cell: Any) -> Value:
    if not isinstance(cell, str):
        return ""
    try:
        return int(cell)
    except ValueError:
        pass
    try:
        number = float(cell)
    except ValueError:
        return cell
    spelled = cell.strip().lower() in ("nan", "inf", "-inf", "+inf")
    return number if math.isfinite(number) or spelled else cell  # "1e999" stays text
