"""JSON text exactly as ``json.dumps(value, indent=4)`` writes it, several times faster.

GTO prints its ``--json`` output with ``json.dumps(indent=4)`` and we must match it byte for
byte. With an indent the standard library encodes in pure Python, one generator step per token
(1.6 s for a 100k-event history); here each container is one ``join`` and each string one call
of json's C escaper. The rules (ASCII escaping, ``NaN``/``Infinity``, how keys that are not
strings are written, ``default`` for other objects) are the standard library's.
"""

from __future__ import annotations

from collections.abc import Callable
from json.encoder import encode_basestring_ascii as _escape
from typing import Any

_STEP = "    "
_FLUSH_AT = 1 << 20  # characters held before writing (see ``write_json``)


def write_json(
    value: Any, write: Callable[[str], object], default: Callable[[Any], Any] | None = None
) -> None:
    """Write ``json.dumps(value, indent=4, default=default)`` and a newline.

    A top-level list or dict is encoded item by item and written in pieces of about a megabyte,
    so a large output is never held twice. An output smaller than that is written only once it
    is all encoded: an error from ``default`` then leaves nothing half-written.
    """
    encode = _Encoder(default).encode
    if isinstance(value, (list, tuple, dict)) and value:
        closing = "]" if not isinstance(value, dict) else "}"
        if isinstance(value, dict):
            key = _Encoder.key
            items: Any = (f"{key(k)}: {encode(v, _STEP)}" for k, v in value.items())
        else:
            items = (encode(v, _STEP) for v in value)
        held = ["[\n" if closing == "]" else "{\n"]
        size = 0
        for i, item in enumerate(items):
            held.append(f",\n{_STEP}{item}" if i else f"{_STEP}{item}")
            size += len(item)
            if size > _FLUSH_AT:
                write("".join(held))
                held, size = [], 0
        held.append(f"\n{closing}\n")
        write("".join(held))
        return
    write(encode(value, "") + "\n")


def dumps(value: Any, default: Callable[[Any], Any] | None = None) -> str:
    """``json.dumps(value, indent=4, default=default)``."""
    pieces: list[str] = []
    write_json(value, pieces.append, default)
    return "".join(pieces)[:-1]


class _Encoder:
    def __init__(self, default: Callable[[Any], Any] | None) -> None:
        self.default = default

    def encode(self, value: Any, indent: str) -> str:
        """``value`` as it would appear ``indent`` deep (the caller writes that indent)."""
        # the standard library's order of checks: str before int, bool before int
        if isinstance(value, str):
            return _escape(value)
        if value is None:
            return "null"
        if value is True:
            return "true"
        if value is False:
            return "false"
        if isinstance(value, int):
            return int.__repr__(value)
        if isinstance(value, float):
            return _float(value)
        inner = indent + _STEP
        if isinstance(value, (list, tuple)):
            if not value:
                return "[]"
            encode = self.encode
            body = f",\n{inner}".join(
                [_escape(v) if type(v) is str else encode(v, inner) for v in value]
            )
            return f"[\n{inner}{body}\n{indent}]"
        if isinstance(value, dict):
            if not value:
                return "{}"
            key, encode = self.key, self.encode
            body = f",\n{inner}".join(  # plain strings, the most of it, escaped right here
                [
                    f"{_escape(k) if type(k) is str else key(k)}: "
                    f"{_escape(v) if type(v) is str else encode(v, inner)}"
                    for k, v in value.items()
                ]
            )
            return f"{{\n{inner}{body}\n{indent}}}"
        if self.default is None:
            raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
        return self.encode(self.default(value), indent)

    @staticmethod
    def key(key: Any) -> str:
        if isinstance(key, str):
            return _escape(key)
        if isinstance(key, float):
            return _escape(_float(key))
        if key is True:
            return '"true"'
        if key is False:
            return '"false"'
        if key is None:
            return '"null"'
        if isinstance(key, int):
            return _escape(int.__repr__(key))
        raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)
