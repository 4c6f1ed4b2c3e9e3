"""Free-form annotation values (``custom``) in ``--json`` output exactly as GTO 1.10.1 prints them.

GTO prints ``json.dumps(make_ready_to_serialize(result), indent=4)`` (``gto/utils.py``). For the
``custom`` value of an ``artifacts.yaml`` entry, whatever its YAML gave, that means: a datetime
as ``isoformat()``, a sequence key (``? [a, b]``) joined with ``_``, other keys written by
``json.dumps`` (``true``, ``null``, ``1.5``, ``Infinity``), and a failure ("Unexpected error")
on a date, binary data, a set, a ``!!pairs`` list or a key json cannot write.

``printable`` returns the value GTO would hand to ``json.dumps``; where GTO fails it puts an
``Unprintable`` marker, which ``json_default`` (the ``default`` of ``json.dumps``) turns into a
``UsageError``: only ``--json`` output fails, as in GTO, never a table.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from gitops.errors import UsageError


class Unprintable:
    """A value GTO's ``show --json`` fails on; ``json_default`` refuses it."""

    def __init__(self, value: Any, why: str) -> None:
        self.value, self.why = value, why


class UnprintableValue(UsageError):
    def __init__(self, marker: Unprintable) -> None:
        super().__init__(
            f"an artifacts.yaml `custom` value cannot be printed as JSON ({marker.why}: "
            f'{marker.value!r}); GTO 1.10.1 fails on it too ("Serialisation is not implemented")'
        )


_JSON_KEYS = (str, int, float, bool, type(None))


def _key(key: Any) -> Any:
    """GTO's ``flatten``: a non-string iterable key is joined with ``_``."""
    if isinstance(key, (str, bytes)) or not hasattr(key, "__iter__"):
        return key
    parts = list(key)
    if not all(isinstance(p, str) for p in parts):
        return Unprintable(key, "a key with a part that is not a string")
    return "_".join(parts)


def printable(value: Any) -> Any:
    """``make_ready_to_serialize``, with ``Unprintable`` where GTO fails."""
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [printable(v) for v in value]
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            flat = _key(key)
            if isinstance(flat, Unprintable):
                return flat
            if not isinstance(flat, _JSON_KEYS):
                return Unprintable(key, f"a key of type {type(key).__name__}")
            out[flat] = printable(item)
        return out
    if isinstance(value, tuple):
        return Unprintable(value, "a tuple (a !!pairs item)")
    if isinstance(value, (set, frozenset)):
        return Unprintable(value, "a set")
    return Unprintable(value, f"a {type(value).__name__}")


def json_default(obj: Any) -> Any:
    """``json.dumps(..., default=json_default)``: refuse what GTO cannot print."""
    if isinstance(obj, Unprintable):
        raise UnprintableValue(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")
