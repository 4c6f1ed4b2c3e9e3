"""GTO's tag grammar (shared/reference/gto.md §1): parsing, formatting, names and shortcuts.

Every test vector of gto.md §1.3 is checked against our parser and against GTO 1.10.1's own
``gto.tag.parse_name``, so a drift on either side shows up here first.
"""

from __future__ import annotations

import pytest
from gto.exceptions import InvalidTagName
from gto.tag import parse_name as gto_parse_name

from gitops.registry.tags import (
    Event,
    Shortcut,
    TagName,
    format_tag,
    is_valid_fullname,
    is_valid_name,
    is_valid_version,
    name_to_tag,
    parse_shortcut,
    parse_tag,
    raw_tag_parts,
    tag_to_name,
)

REG, DEREG = Event.REGISTRATION, Event.DEREGISTRATION
ASSIGN, UNASSIGN = Event.ASSIGNMENT, Event.UNASSIGNMENT
DEPRECATE = Event.DEPRECATION

IGNORED = None

# gto.md §1.3, row by row: tag -> what it means (None = not a registry tag, skipped silently).
VECTORS: list[tuple[str, TagName | None]] = [
    ("churn@v1.2.3", TagName("churn", REG, version="v1.2.3")),
    ("churn@v0.0.0", TagName("churn", REG, version="v0.0.0")),
    ("churn@v1.0.0-rc.1+build.5", TagName("churn", REG, version="v1.0.0-rc.1+build.5")),
    ("x=y@v1.0.0#0", TagName("x:y", REG, version="v1.0.0", counter=0)),
    ("churn@v1.2.3!", TagName("churn", DEREG, version="v1.2.3")),
    ("churn@v1.2.3!#8", TagName("churn", DEREG, version="v1.2.3", counter=8)),
    ("churn#prod", TagName("churn", ASSIGN, stage="prod")),
    ("churn#prod#3", TagName("churn", ASSIGN, stage="prod", counter=3)),
    ("churn#prod#007", TagName("churn", ASSIGN, stage="prod", counter=7)),
    ("churn#prod!", TagName("churn", UNASSIGN, stage="prod")),
    ("churn#prod!#4", TagName("churn", UNASSIGN, stage="prod", counter=4)),
    ("churn@deprecated", TagName("churn", DEPRECATE)),
    ("churn@deprecated#9", TagName("churn", DEPRECATE, counter=9)),
    ("x@created", IGNORED),
    ("x@created#3", IGNORED),
    ("models/churn=clf#prod#2", TagName("models/churn:clf", ASSIGN, stage="prod", counter=2)),
    ("dir=sub/model#Prod_1#3", TagName("dir:sub/model", ASSIGN, stage="Prod_1", counter=3)),
    ("dir.v2/x=model@v1.0.0", TagName("dir.v2/x:model", REG, version="v1.0.0")),
    ("Churn_A#Prod#1", TagName("Churn_A", ASSIGN, stage="Prod", counter=1)),
    ("a/b@v1.0.0", TagName("a/b", REG, version="v1.0.0")),
    ("churn#stage/sub#2", TagName("churn", ASSIGN, stage="stage/sub", counter=2)),
    ("m@v0.0.1", TagName("m", REG, version="v0.0.1")),
    ("1@v1.0.0", TagName("1", REG, version="v1.0.0")),
    ("churn#1", TagName("churn", ASSIGN, stage="1")),
    ("churn#prod-5", TagName("churn", ASSIGN, stage="prod-5")),
    (".x=m@v1.0.0", TagName(".x:m", REG, version="v1.0.0")),
    ("a//b=m@v1.0.0", TagName("a//b:m", REG, version="v1.0.0")),
    ("churn@deprecated!", IGNORED),
    ("churn@deprecated#1!", IGNORED),
    ("churn#prod#1#2", IGNORED),
    ("churn@v1.0.0#", IGNORED),
    ("nn#prod#-1", IGNORED),
    ("model#prod#1-2", IGNORED),
    ("churn@1.0.0", IGNORED),
    ("churn@V1.0.0", IGNORED),
    ("churn@v1.0", IGNORED),
    ("model@v1", IGNORED),
    ("churn@v01.0.0", IGNORED),
    ("churn@v1.0.0-01", IGNORED),
    ("churn@v1.0.0-rc.01", IGNORED),
    ("churn@latest", IGNORED),
    ("churn#prod@v1.0.0", IGNORED),
    ("a=b=c@v1.0.0", IGNORED),
    ("dir:m@v1.0.0", IGNORED),
    ("d=a@b=m@v1.0.0", IGNORED),
    ("_c@v1.0.0", IGNORED),
    ("a-@v1.0.0", IGNORED),
    ("a/@v1.0.0", IGNORED),
    ("churn#-prod", IGNORED),
    ("churn#prod_#1", IGNORED),
    ("my.model@v1.0.0", IGNORED),
    ("churn @v1.0.0", IGNORED),
]

_GTO_ACTIONS = {
    "register": REG,
    "deregister": DEREG,
    "assign": ASSIGN,
    "unassign": UNASSIGN,
    "deprecate": DEPRECATE,
}


def _ids(vectors: list[tuple[str, TagName | None]]) -> list[str]:
    return [tag for tag, _ in vectors]


@pytest.mark.parametrize(("tag", "expected"), VECTORS, ids=_ids(VECTORS))
def test_gto_md_vector_parses_as_documented(tag: str, expected: TagName | None) -> None:
    """Each row of gto.md §1.3: the exact meaning, or ignored without an exception."""
    assert parse_tag(tag) == expected


@pytest.mark.parametrize(("tag", "expected"), VECTORS, ids=_ids(VECTORS))
def test_gto_md_vector_agrees_with_gto_itself(tag: str, expected: TagName | None) -> None:
    """The table is what GTO 1.10.1 really does (``@created`` matches there but has no action)."""
    try:
        gto = gto_parse_name(tag)
    except InvalidTagName:
        gto = None
    if expected is None:
        assert gto is None or "action" not in gto, gto
        return
    assert gto is not None
    assert gto["name"] == expected.artifact
    assert _GTO_ACTIONS[gto["action"].value] == expected.event
    assert gto.get("version") == expected.version
    assert gto.get("stage") == expected.stage
    assert gto.get("counter") == expected.counter


@pytest.mark.parametrize(
    ("tag", "expected"), [("x@created", ("x", None)), ("x@created#3", ("x", 3))]
)
def test_created_tags_still_count_for_the_writer(tag: str, expected: tuple[str, int]) -> None:
    """``@created`` means nothing, yet GTO's next counter scans it, so raw parts must see it."""
    assert raw_tag_parts(tag) == expected


def test_raw_parts_of_a_non_gto_tag_is_none() -> None:
    """Only GTO-matching names feed the counter scan."""
    assert raw_tag_parts("release-2024") is None
    assert raw_tag_parts("churn#prod#1#2") is None


ROUND_TRIPS: list[TagName] = [
    TagName("churn", REG, version="v1.2.3"),
    TagName("churn", REG, version="v1.0.0-rc.1+build.5", counter=6),
    TagName("churn", DEREG, version="v0.1.0"),
    TagName("churn", DEREG, version="v0.1.0", counter=8),
    TagName("churn", ASSIGN, stage="prod", counter=3),
    TagName("churn", UNASSIGN, stage="prod", counter=5),
    TagName("churn", UNASSIGN, stage="prod"),
    TagName("churn", DEPRECATE),
    TagName("churn", DEPRECATE, counter=9),
    TagName("models/churn:Clf_A", ASSIGN, stage="stage/sub", counter=12),
    TagName("dir.v2/x:m", REG, version="v0.0.1"),
    TagName("1", ASSIGN, stage="1"),
]


@pytest.mark.parametrize("name", ROUND_TRIPS, ids=str)
def test_format_then_parse_round_trips(name: TagName) -> None:
    """A tag we write must read back as the very event we meant."""
    tag = format_tag(
        name.artifact, name.event, version=name.version, stage=name.stage, counter=name.counter
    )
    assert parse_tag(tag) == name


@pytest.mark.parametrize(
    ("artifact", "event", "details", "expected"),
    [
        ("churn", REG, {"version": "v0.0.1"}, "churn@v0.0.1"),
        ("churn", DEREG, {"version": "v0.1.0"}, "churn@v0.1.0!"),
        ("churn", ASSIGN, {"stage": "prod", "counter": 1}, "churn#prod#1"),
        ("churn", UNASSIGN, {"stage": "prod", "counter": 5}, "churn#prod!#5"),
        ("churn", DEPRECATE, {}, "churn@deprecated"),
        ("churn", DEPRECATE, {"counter": 7}, "churn@deprecated#7"),
        ("models/churn:Clf_A", REG, {"version": "v0.0.1"}, "models/churn=Clf_A@v0.0.1"),
    ],
)
def test_format_writes_gto_spelling(
    artifact: str, event: Event, details: dict, expected: str
) -> None:
    """The forms GTO's CLI writes (gto.md §1.2), the `!` before the counter."""
    assert format_tag(artifact, event, **details) == expected


@pytest.mark.parametrize("tag", [tag for tag, meaning in VECTORS if meaning is not None])
def test_parse_then_format_gives_back_the_tag(tag: str) -> None:
    """Formatting is the inverse of parsing, except `#007` which GTO reads as 7."""
    parsed = parse_tag(tag)
    assert parsed is not None
    formatted = format_tag(
        parsed.artifact,
        parsed.event,
        version=parsed.version,
        stage=parsed.stage,
        counter=parsed.counter,
    )
    assert formatted == tag.replace("#007", "#7")


def test_counter_with_leading_zeros_is_an_integer() -> None:
    """``#007`` is 7, an int: counters compare numerically when the writer picks the next one."""
    parsed = parse_tag("churn#prod#007")
    assert parsed is not None
    assert parsed.counter == 7
    assert isinstance(parsed.counter, int)
    assert raw_tag_parts("churn#prod#010") == ("churn", 10)


@pytest.mark.parametrize(
    ("user", "tag"),
    [
        ("dir:name", "dir=name"),
        ("models/churn:Clf_A", "models/churn=Clf_A"),
        ("dir.v2/x:model", "dir.v2/x=model"),
        ("plain", "plain"),
        ("a/b", "a/b"),
    ],
)
def test_namespace_spelling_round_trips(user: str, tag: str) -> None:
    """Users write `dir:name`; tags spell it `dir=name` because `:` is illegal in git refs."""
    assert name_to_tag(user) == tag
    assert tag_to_name(tag) == user


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("churn#prod", Shortcut("churn", stage="prod")),
        ("churn@latest", Shortcut("churn", latest=True)),
        ("churn@greatest", Shortcut("churn", latest=True)),
        ("churn@v1.2.3", Shortcut("churn", version="v1.2.3")),
        ("churn@v1.0.0-rc.1", Shortcut("churn", version="v1.0.0-rc.1")),
        ("models/churn:clf#prod", Shortcut("models/churn:clf", stage="prod")),
        ("churn", Shortcut("churn")),
        ("churn@1.2.3", Shortcut("churn@1.2.3")),
    ],
)
def test_cli_shortcuts(value: str, expected: Shortcut) -> None:
    """`show` arguments: `name#stage`, `name@latest|greatest`, `name@vX.Y.Z`, else a plain name."""
    assert parse_shortcut(value) == expected


def test_latest_is_a_shortcut_but_never_a_tag() -> None:
    """`churn@latest` selects a version on the command line; as a tag name it means nothing."""
    assert parse_shortcut("churn@latest").latest
    assert parse_tag("churn@latest") is None


@pytest.mark.parametrize("name", ["m", "1", "ab", "Churn_A", "a/b", "a-b_c/d9", "X"])
def test_valid_names(name: str) -> None:
    """One-character names are allowed even though GTO's error text says "len >= 2"."""
    assert is_valid_name(name)
    assert parse_tag(f"{name}@v1.0.0") == TagName(name, REG, version="v1.0.0")


@pytest.mark.parametrize(
    "name",
    ["", "my.model", "churn model", "_c", "a-", "a/", "-a", "/a", "a:b", "a@b", "a#b", "a!", "é"],
)
def test_invalid_names(name: str) -> None:
    """No `.`, space, `:`, `@`, `#`, `!`; start and end alphanumeric; ASCII only."""
    assert not is_valid_name(name)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("dir:name", True),
        ("dir.v2/sub:Model_1", True),
        ("a:b:c", False),
        ("dir:my.model", False),
        (":name", False),
        ("dir:", False),
    ],
)
def test_full_names_allow_one_namespace(name: str, expected: bool) -> None:
    """`dir:name`: one separator, `.` only in the directory part."""
    assert is_valid_fullname(name) is expected


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("v0.0.1", True),
        ("v1.0.0-rc.1+build.5", True),
        ("v1.0.0-alpha-1", True),
        ("1.0.0", False),
        ("V1.0.0", False),
        ("v1.0", False),
        ("v01.0.0", False),
        ("v1.0.0-01", False),
        ("v1.0.0+", False),
    ],
)
def test_version_validity(version: str, expected: bool) -> None:
    """Lowercase `v` + full SemVer 2.0, no leading zeros."""
    assert is_valid_version(version) is expected
