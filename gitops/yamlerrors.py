"""pydantic's validation errors as messages about a YAML file: the path of the value in the data
(for its line), and words a user can act on.

pydantic's locations hold its own labels besides the keys (a tagged union's tag, a union
member's type), its "Extra inputs are not permitted" does not say which key, and a model
validator's error has no location at all: ``FieldError`` gives it one.
"""

from __future__ import annotations

import difflib
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import ErrorDetails


class FieldError(ValueError):
    """Raised by a validator about a value below the validated one (``path``, relative to
    it): the message then names that value's path and line, not the model's."""

    def __init__(self, path: tuple, message: str) -> None:
        super().__init__(message)
        self.path = path


def describe(
    model: type[BaseModel], data: Any, errors: list[ErrorDetails]
) -> tuple[tuple, str, str]:
    """(path in ``data``, message, hint) for the first of pydantic's errors from validating
    ``data``, or its first unknown key: a typo (`runn:`) is the cause of the "missing" error
    pydantic lists before it (`run`)."""
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = tuple(err["loc"])
    path = data_path(data, loc, err["type"] == "missing")
    kind, ctx = err["type"], err.get("ctx") or {}
    cause = ctx.get("error")
    if kind == "value_error" and isinstance(cause, FieldError):
        return path + cause.path, str(cause), ""
    if kind == "value_error" and isinstance(cause, ValueError):
        return path, str(cause), ""
    if kind == "extra_forbidden":
        key = loc[-1]
        known = allowed_keys(model, loc[:-1])
        close = difflib.get_close_matches(str(key), known, n=1)
        return path, f"unknown key {key!r}", f"did you mean {close[0]!r}?" if close else ""
    if kind == "union_tag_invalid":
        field = str(ctx.get("discriminator", "")).strip("'")
        tags = str(ctx.get("expected_tags", "")).replace("'", "")
        return (*path, field), f"unknown {field} {ctx.get('tag')!r}", f"use one of: {tags}"
    return path, err["msg"], ""


def data_path(data: Any, loc: tuple, missing: bool = False) -> tuple:
    """The keys and indexes of ``loc`` that are in ``data``: pydantic's own labels (a tagged
    union's tag, ``int``/``str`` of a union) are left out. A ``missing`` key is kept: it is
    named in the message, and its line is its parent's."""
    path: list[Any] = []
    node = data
    for i, step in enumerate(loc):
        if isinstance(node, dict) and step in node:
            node = node[step]
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
        elif missing and i == len(loc) - 1 and isinstance(node, dict):
            pass
        else:
            continue
        path.append(step)
    return tuple(path)


def allowed_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """The keys the model at ``loc`` (a pydantic location inside ``model``) accepts."""
    tp: Any = model
    for step in loc:
        tp = _step(tp, step)
        if tp is None:
            return []
    tp = _models(tp)
    return list(tp[0].model_fields) if len(tp) == 1 else []


def _step(tp: Any, step: Any) -> Any:
    models = _models(tp)
    if len(models) > 1:  # a union: the step is a tagged union's tag or a member's name
        for member in models:
            if member.__name__ == step or any(
                step in _literals(f.annotation) for f in member.model_fields.values()
            ):
                return member
        return None
    if models:
        field = models[0].model_fields.get(step)
        return None if field is None else field.annotation
    tp = _unwrap(tp)
    origin = get_origin(tp)
    if origin is dict:
        return get_args(tp)[1]
    if origin is list:
        return get_args(tp)[0]
    return None


def _unwrap(tp: Any) -> Any:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp


def _models(tp: Any) -> list[type[BaseModel]]:
    """The models ``tp`` is, or is a union (an Optional) of."""
    tp = _unwrap(tp)
    members = get_args(tp) if get_origin(tp) in (Union, types.UnionType) else (tp,)
    return [m for m in map(_unwrap, members) if isinstance(m, type) and issubclass(m, BaseModel)]


def _literals(tp: Any) -> tuple:
    tp = _unwrap(tp)
    return get_args(tp) if get_origin(tp) is Literal else ()
