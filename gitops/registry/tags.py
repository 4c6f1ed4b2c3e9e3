"""GTO's tag grammar: parse and format registry tag names.

The language is the one GTO 1.10.1 accepts (see shared/reference/gto.md §1): a tag that does not
match is simply not a registry tag. ``name@created`` matches but means nothing, so it parses to
``None`` too (GTO itself crashes on it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

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


# GTO's priorities: they break ties in `history` ordering.
PRIORITY = {
    Event.DEPRECATION: 2,
    Event.REGISTRATION: 3,
    Event.DEREGISTRATION: 4,
    Event.ASSIGNMENT: 5,
    Event.UNASSIGNMENT: 6,
}


@dataclass(frozen=True, slots=True)
class TagName:
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
    m = _TAG_RE.fullmatch(tag)
    if m is None or m["created"]:
        return None
    counter = int(m["counter"]) if m["counter"] is not None else None
    artifact = tag_to_name(m["artifact"])
    if m["stage"]:
        event = Event.UNASSIGNMENT if m["stage_cancel"] else Event.ASSIGNMENT
        return TagName(artifact, event, stage=m["stage"], counter=counter)
    if m["version"]:
        event = Event.DEREGISTRATION if m["version_cancel"] else Event.REGISTRATION
        return TagName(artifact, event, version=m["version"], counter=counter)
    return TagName(artifact, Event.DEPRECATION, counter=counter)


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


@dataclass(frozen=True, slots=True)
class Shortcut:
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
