"""The parts of GitHub's event payloads gitops uses (push, create, delete, pull_request).

Validated as pydantic models (extra keys ignored, defaults for missing ones). Importing pydantic
and building the models costs a sixth of the action's whole run on a tag push, so a payload whose
fields have the types GitHub sends (nearly always) is read by hand, into the same values;
anything else goes to the models, which decide and word the error.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple


class Commit(NamedTuple):
    id: str = ""


class Repo(NamedTuple):
    full_name: str = ""


class Branch(NamedTuple):
    ref: str = ""
    sha: str = ""
    repo: Repo | None = None


class PullRequest(NamedTuple):
    number: int
    title: str = ""
    head: Branch = Branch()
    base: Branch = Branch()


class Payload(NamedTuple):
    ref: str | None = None
    ref_type: str | None = None  # create/delete events
    before: str = ""
    after: str = ""  # for an annotated tag: the tag object's sha, not the commit's
    deleted: bool = False
    head_commit: Commit | None = None
    number: int | None = None
    pull_request: PullRequest | None = None


class PayloadError(ValueError):
    """A payload the models refuse: pydantic's first error message."""


def parse_payload(data: Any) -> Payload | Any:
    """The payload as the models read it (a ``Payload``, or the model when pydantic decides)."""
    quick = _quick(data)
    if quick is not None:
        return quick
    from pydantic import ValidationError

    try:
        return _models().model_validate(data)
    except ValidationError as exc:
        raise PayloadError(exc.errors()[0]["msg"]) from None


class _NotQuick(Exception):
    pass


def _str(data: dict[Any, Any], key: str, default: Any = "", none: bool = False) -> Any:
    value = data.get(key, default)
    if type(value) is str or (none and value is None):
        return value
    raise _NotQuick


def _mapping(value: Any) -> dict[Any, Any]:
    if type(value) is not dict or not all(type(k) is str for k in value):
        raise _NotQuick
    return value


def _branch(value: Any) -> Branch:
    data = _mapping(value)
    repo = data.get("repo")
    return Branch(
        _str(data, "ref"),
        _str(data, "sha"),
        None if repo is None else Repo(_str(_mapping(repo), "full_name")),
    )


def _quick(data: Any) -> Payload | None:
    try:
        data = _mapping(data)
        deleted = data.get("deleted", False)
        number = data.get("number")
        if type(deleted) is not bool or not (number is None or type(number) is int):
            raise _NotQuick
        head_commit = data.get("head_commit")
        pr_data = data.get("pull_request")
        pr = None
        if pr_data is not None:
            pr_data = _mapping(pr_data)
            pr_number = pr_data.get("number")
            if type(pr_number) is not int:
                raise _NotQuick
            head, base = pr_data.get("head", {}), pr_data.get("base", {})
            pr = PullRequest(pr_number, _str(pr_data, "title"), _branch(head), _branch(base))
        return Payload(
            _str(data, "ref", None, none=True),
            _str(data, "ref_type", None, none=True),
            _str(data, "before"),
            _str(data, "after"),
            deleted,
            None if head_commit is None else Commit(_str(_mapping(head_commit), "id")),
            number,
            pr,
        )
    except _NotQuick:
        return None


@functools.cache
def _models() -> Any:
    """The pydantic models (built on first use: most runs never need them)."""
    from pydantic import BaseModel, ConfigDict

    class _Loose(BaseModel):
        model_config = ConfigDict(extra="ignore")

    class _Commit(_Loose):
        id: str = ""

    class _Repo(_Loose):
        full_name: str = ""

    class _Branch(_Loose):
        ref: str = ""
        sha: str = ""
        repo: _Repo | None = None

    class _PullRequest(_Loose):
        number: int
        title: str = ""
        head: _Branch = _Branch()
        base: _Branch = _Branch()

    class _Payload(_Loose):
        ref: str | None = None
        ref_type: str | None = None
        before: str = ""
        after: str = ""
        deleted: bool = False
        head_commit: _Commit | None = None
        number: int | None = None
        pull_request: _PullRequest | None = None

    return _Payload
