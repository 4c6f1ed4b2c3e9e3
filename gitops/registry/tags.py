"""GTO's tag grammar: parse and format registry tag names.

The language is the one GTO 1.10.1 accepts (see shared/reference/gto.md §1): a tag that does not
match is simply not a registry tag. ``name@created`` matches but means nothing, so it parses to
``None`` too (GTO itself crashes on it).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import NamedTuple

NAMESPACE_IN_NAME = ":"
NAMESPACE_IN_TAG = "="

_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9/_-]*[A-Za-z0-9])?"
_DIRNAME = r"[A-Za-z0-9_./-]+"
# `\d` (not `[0-9]`) where GTO has it: Python's `\d` also matches non-ASCII digits.
_NUM = r"(?:0|[1-9]\d*)"
_PRE_ID = r"(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)"
_BUILD_ID = r"[0-9A-Za-z-]+"
SEMVER = (
    rf"{_NUM}\.{_NUM}\.{_NUM}(?:-{_PRE_ID}(?:\.{_PRE_ID})*)?(?:\+{_BUILD_ID}(?:\.{_BUILD_ID})*)?"
)

_TAG_RE = re.compile(
    rf"(?P<artifact>(?:{_DIRNAME}{NAMESPACE_IN_TAG})?{_NAME})"
    r"(?:"
    rf"#(?P<stage>{_NAME})(?P<stage_cancel>!?)"
    rf"|@(?P<version>v{SEMVER})(?P<version_cancel>!?)"
    r"|@(?P<deprecated>deprecated)"
    r"|@(?P<created>created)"
    r")"
    r"(?:#(?P<counter>[0-9]+))?"
)
NAME_RE = re.compile(_NAME)
FULLNAME_RE = re.compile(rf"(?:{_DIRNAME}{NAMESPACE_IN_NAME})?{_NAME}")
VERSION_RE = re.compile(rf"v{SEMVER}")
SHORTCUT_RE = re.compile(
    rf"(?P<artifact>(?:{_DIRNAME}{NAMESPACE_IN_NAME})?{_NAME})"
    rf"(?:#(?P<stage>{_NAME})|@(?P<version>latest|greatest|v{SEMVER}))"
)
HEXSHA_RE = re.compile(r"[0-9a-fA-F]{40}")


class Event(StrEnum):
    """Event kinds, valued as GTO names them in JSON output."""

    REGISTRATION = "registration"
    DEREGISTRATION = "deregistration"
    ASSIGNMENT = "assignment"
    UNASSIGNMENT = "unassignment"
    DEPRECATION = "deprecation"


# Plain module names for the members: the reader looks one up per tag, and ``Event.X`` costs more.
REGISTRATION, DEREGISTRATION, ASSIGNMENT, UNASSIGNMENT, DEPRECATION = (
    Event.REGISTRATION,
    Event.DEREGISTRATION,
    Event.ASSIGNMENT,
    Event.UNASSIGNMENT,
    Event.DEPRECATION,
)

# GTO's priorities: they break ties in `history` ordering.
PRIORITY = {
    Event.DEPRECATION: 2,
    Event.REGISTRATION: 3,
    Event.DEREGISTRATION: 4,
    Event.ASSIGNMENT: 5,
    Event.UNASSIGNMENT: 6,
}


class TagName(NamedTuple):
    """What a registry tag name says: artifact (user spelling, ``dir:name``), event, details."""

    artifact: str
    event: Event
    version: str | None = None
    stage: str | None = None
    counter: int | None = None


def name_to_tag(name: str) -> str:
    """`dir:model` as users write it -> `dir=model` as tags spell it (`:` is illegal in refs)."""
    return name.replace(NAMESPACE_IN_NAME, NAMESPACE_IN_TAG)


def tag_to_name(name: str) -> str:
    return name.replace(NAMESPACE_IN_TAG, NAMESPACE_IN_NAME)


def parse_tag(tag: str) -> TagName | None:
    """Parse a tag name; ``None`` for anything that is not a meaningful GTO tag."""
    parts = parse_tag_parts(tag)
    return None if parts is None else TagName(*parts)


TagParts = tuple[str, Event, str | None, str | None, int | None]


def parse_tag_parts(tag: str) -> TagParts | None:
    """``parse_tag`` as a plain tuple (artifact, event, version, stage, counter): the reader
    parses every tag of a registry, and a tuple is several times cheaper to make."""
    m = _TAG_RE.fullmatch(tag)
    if m is None:
        return None
    artifact, stage, stage_cancel, version, version_cancel, deprecated, _, counter = m.groups()
    if NAMESPACE_IN_TAG in artifact:
        artifact = tag_to_name(artifact)
    number = None if counter is None else int(counter)
    if stage:
        return artifact, UNASSIGNMENT if stage_cancel else ASSIGNMENT, None, stage, number
    if version:
        return artifact, DEREGISTRATION if version_cancel else REGISTRATION, version, None, number
    if deprecated:
        return artifact, DEPRECATION, None, None, number
    return None  # name@created


def raw_tag_parts(tag: str) -> tuple[str, int | None] | None:
    """(artifact, counter) of any tag GTO's regex matches, ``@created`` included.

    GTO's next counter scans every such tag, whatever its event, so the writer needs these too.
    """
    m = _TAG_RE.fullmatch(tag)
    if m is None:
        return None
    return tag_to_name(m["artifact"]), int(m["counter"]) if m["counter"] is not None else None


def format_tag(
    artifact: str,
    event: Event,
    *,
    version: str | None = None,
    stage: str | None = None,
    counter: int | None = None,
) -> str:
    """The tag name GTO would write for this event."""
    base = name_to_tag(artifact)
    match event:
        case Event.REGISTRATION:
            tag = f"{base}@{version}"
        case Event.DEREGISTRATION:
            tag = f"{base}@{version}!"
        case Event.ASSIGNMENT:
            tag = f"{base}#{stage}"
        case Event.UNASSIGNMENT:
            tag = f"{base}#{stage}!"
        case Event.DEPRECATION:
            tag = f"{base}@deprecated"
    if counter is not None:
        tag += f"#{counter}"
    return tag


def is_valid_name(value: str) -> bool:
    """Artifact (without namespace), stage, type and label names."""
    return NAME_RE.fullmatch(value) is not None


def is_valid_fullname(value: str) -> bool:
    """Artifact names as users write them, ``dir:name`` included."""
    return FULLNAME_RE.fullmatch(value) is not None


def is_valid_version(value: str) -> bool:
    return VERSION_RE.fullmatch(value) is not None


def is_hexsha(value: str) -> bool:
    return HEXSHA_RE.fullmatch(value) is not None


class Shortcut(NamedTuple):
    """``name#stage``, ``name@latest``/``@greatest`` or ``name@vX.Y.Z`` as CLI arguments."""

    name: str
    stage: str | None = None
    version: str | None = None
    latest: bool = False


def parse_shortcut(value: str) -> Shortcut:
    m = SHORTCUT_RE.fullmatch(value)
    if m is None:
        return Shortcut(name=value)
    latest = m["version"] in ("latest", "greatest")
    return Shortcut(
        name=m["artifact"],
        stage=m["stage"],
        version=None if latest else m["version"],
        latest=latest,
    )
