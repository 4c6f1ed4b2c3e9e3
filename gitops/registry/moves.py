"""Which model moved to which stage: the registry compared without and with the pushed tags.

Comparing two whole states, instead of interpreting each tag, gives GTO's answer for free in every
case: unassignment falls back to the previous version, deprecation vacates every stage, a
deregistered version leaves its stages, and a re-pushed tag that changes nothing moves nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from gitops.registry.reader import Registry, RegistrySource
from gitops.registry.semver import semver_key
from gitops.registry.state import Conflict, RegistryEvent
from gitops.registry.tags import parse_tag
from gitops.registry.views import ShowOptions, check_ref


@dataclass(frozen=True)
class Holder:
    """What a stage holds: a version (a SemVer, or a commit sha for an unregistered commit)."""

    version: str
    commit: str


@dataclass(frozen=True)
class StageMove:
    artifact: str
    stage: str
    from_version: str | None
    to_version: str | None
    to_commit: str | None
    tag: str  # the pushed or deleted tag that caused the move
    actor: str  # who made that tag (its tagger), when known
    time: str | None  # when the tag was made, ISO 8601 with the tagger's offset
    kind: str  # "deploy" (stage was empty), "update", "rollback", "vacate"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TagChange:
    """A pushed or deleted tag and what it means in the registry (``event`` None: not GTO's)."""

    tag: str
    deleted: bool
    event: str | None
    artifact: str | None
    version: str | None
    stage: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Changes:
    tags: list[TagChange]
    moves: list[StageMove]
    registry: Registry  # the registry after the change
    # artifacts in conflict after the change (two versions on one commit): held where they
    # are, no move reported for them; the run must fail loudly
    conflicts: list[Conflict] = field(default_factory=list)

    def conflict_errors(self) -> list[str]:
        """One message per conflict, naming every tag in it."""
        return [
            f"{c} Its stages are held where they are: nothing is deployed, moved or removed "
            "for it until the conflict is resolved."
            for c in self.conflicts
        ]


def stage_holders(
    registry: Registry, only: Collection[str] | None = None
) -> dict[tuple[str, str], Holder]:
    """(artifact, stage) -> version, as ``gto show`` has it: latest assignment, active only
    (of the artifacts in ``only``, if given)."""
    opts = ShowOptions()
    held: dict[tuple[str, str], Holder] = {}
    for name, artifact in registry.state.artifacts.items():
        if not artifact.is_active or (only is not None and name not in only):
            continue
        for stage, vstages in opts.vstages(artifact).items():
            if vstages:
                held[(name, stage)] = Holder(vstages[0].version, vstages[0].commit)
    return held


def _move_kind(before: Holder | None, after: Holder | None, registry: Registry, name: str) -> str:
    if after is None:
        return "vacate"
    if before is None:
        return "deploy"
    return "rollback" if is_older(after.version, before.version, registry, name) else "update"


def is_older(candidate: str, current: str, registry: Registry, name: str) -> bool:
    """Older by SemVer when both are SemVer, else by when each version was registered."""
    a, b = semver_key(candidate), semver_key(current)
    if a is not None and b is not None:
        return a < b
    artifact = registry.state.artifacts.get(name)
    if artifact is None:
        return False
    times = {v.version: v.authoring_event.time for v in artifact.versions}
    return times.get(candidate, 0) < times.get(current, 0)


def _tag_event(registry: Registry, tag: str) -> RegistryEvent | None:
    artifact = parse_tag(tag)
    if artifact is None or artifact.artifact in registry.state.conflicts:
        return None
    return check_ref(registry, tag)


def compute_changes(
    source: RegistrySource, pushed: Iterable[str] = (), deleted: Iterable[str] = ()
) -> Changes:
    """Stage moves made by ``pushed`` tags (present now) and ``deleted`` tags (gone now).

    A deleted tag that git still has locally counts as present before; one git no longer has
    cannot be replayed, so its stage is reported with an unknown previous version.
    """
    pushed_names = {t.removeprefix("refs/tags/") for t in pushed}
    deleted_names = {t.removeprefix("refs/tags/") for t in deleted}
    present = {r.ref for r in source.records}
    pushed_names &= present
    deleted_known = deleted_names & present
    # Only the tags' own artifacts can move (see ``cause``): the registry before the push is
    # built for them alone, and only their stages are compared.
    touched = {p.artifact for p in map(parse_tag, pushed_names | deleted_names) if p is not None}
    after = source.registry(without=frozenset(deleted_known))
    before = source.registry(without=frozenset(pushed_names), artifacts=touched)
    held_before, held_after = stage_holders(before), stage_holders(after, touched)

    tags: list[TagChange] = []
    # (artifact, stage or None for artifact-wide tags) -> (tag, actor, time)
    cause: dict[tuple[str, str | None], tuple[str, str, str | None]] = {}
    for name in sorted(pushed_names) + sorted(deleted_names):
        is_deleted = name in deleted_names
        parsed = parse_tag(name)
        event = _tag_event(before if is_deleted else after, name)
        tags.append(
            TagChange(
                tag=name,
                deleted=is_deleted,
                event=str(parsed.event) if parsed else None,
                artifact=parsed.artifact if parsed else None,
                version=event.version if event else (parsed.version if parsed else None),
                stage=parsed.stage if parsed else None,
            )
        )
        if parsed is not None:
            actor = event.author if event else ""
            time = event.created_at.isoformat() if event else None
            cause[(parsed.artifact, parsed.stage)] = (name, actor, time)

    # An artifact in conflict has no state GTO can read: comparing it would report every one of
    # its stages as vacated. It is held where it was, and the conflict is the error.
    conflicted = set(after.state.conflicts)
    moves: list[StageMove] = []
    for key in sorted(set(held_before) | set(held_after)):
        artifact, stage = key
        if artifact in conflicted:
            continue
        why = cause.get(key) or cause.get((artifact, None))
        old, new = held_before.get(key), held_after.get(key)
        if why is None or old == new:
            continue
        tag, actor, time = why
        moves.append(_move(artifact, stage, old, new, tag, actor, time, after))
    for tag in sorted(deleted_names - deleted_known):
        parsed = parse_tag(tag)
        if parsed is None or parsed.stage is None or parsed.artifact in conflicted:
            continue
        key = (parsed.artifact, parsed.stage)
        new = held_after.get(key)
        moves.append(_unknown_origin_move(key, new, tag, after))
    conflicts = [after.state.conflicts[name] for name in sorted(conflicted)]
    return Changes(tags=tags, moves=moves, registry=after, conflicts=conflicts)


def _move(
    artifact: str,
    stage: str,
    old: Holder | None,
    new: Holder | None,
    tag: str,
    actor: str,
    time: str | None,
    registry: Registry,
) -> StageMove:
    return StageMove(
        artifact=artifact,
        stage=stage,
        from_version=old.version if old else None,
        to_version=new.version if new else None,
        to_commit=new.commit if new else None,
        tag=tag,
        actor=actor,
        time=time,
        kind=_move_kind(old, new, registry, artifact),
    )


def _unknown_origin_move(
    key: tuple[str, str], new: Holder | None, tag: str, registry: Registry
) -> StageMove:
    """A deleted stage tag git no longer has: where the stage is now, from an unknown version."""
    return StageMove(
        artifact=key[0],
        stage=key[1],
        from_version=None,
        to_version=new.version if new else None,
        to_commit=new.commit if new else None,
        tag=tag,
        actor="",
        time=None,
        kind="update" if new else "vacate",
    )
