"""Registry state from tag events, with GTO 1.10.1's semantics to the letter.

GTO's rules live in how it sorts and concatenates event lists (``gto/base.py``), so this module
keeps the same shapes: an Artifact holds Versions, a Version holds per-stage VStages, and every
"latest event" question is answered by the same stable sort over the same concatenation. What is
different is speed: lookups are indexed and answers cached, so the whole state of a 100k-tag
registry builds in a fraction of a second. See shared/reference/gto.md §2 for the rules.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from operator import attrgetter
from typing import TYPE_CHECKING, Any, NamedTuple

from gitops.errors import GitopsError
from gitops.registry.git import CommitInfo
from gitops.registry.semver import semver_key
from gitops.registry.tags import (
    ASSIGNMENT,
    DEPRECATION,
    DEREGISTRATION,
    PRIORITY,
    REGISTRATION,
    UNASSIGNMENT,
)

if TYPE_CHECKING:
    from gitops.registry.annotations import Annotation as ArtifactAnnotation

COMMIT_EVENT = "commit"  # GTO's enrichment event: the version's commit, never a tag


class RegistryEvent(NamedTuple):
    """One event: a registry tag, or the commit behind a version (``kind == "commit"``).

    A tuple: a 100k-tag registry makes as many, and the reader's tag events go into the state
    as they are (only stage events get their version, found through the commit, in a copy).
    """

    kind: str  # an Event value or COMMIT_EVENT
    artifact: str
    time: int
    offset: int
    author: str
    author_email: str
    message: str
    commit: str
    tag: str | None = None
    version: str | None = None
    stage: str | None = None
    # only for commit events:
    committer: str = ""
    committer_email: str = ""
    annotation: ArtifactAnnotation | None = None

    @property
    def priority(self) -> int:
        return PRIORITY.get(self.kind, 0)  # a commit event's is 0

    @property
    def addition(self) -> bool:
        return self.kind in _ADDITIONS

    @property
    def ref(self) -> str:
        return self.tag if self.tag is not None else self.commit

    @property
    def created_at(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.time, tz=_zone(self.offset))


_ADDITIONS = (REGISTRATION, ASSIGNMENT, COMMIT_EVENT)


@functools.cache
def _zone(offset: int) -> dt.timezone:
    """One timezone object per offset (a history of 100k events has a handful)."""
    return dt.timezone(dt.timedelta(seconds=offset))


_TIME = attrgetter("time")


def _by_time(events: list[RegistryEvent]) -> list[RegistryEvent]:
    """Stable ascending sort by timestamp, as GTO's ``sorted(..., key=created_at)``."""
    return sorted(events, key=_TIME)


def _desc_of_two(first: list[RegistryEvent], second: list[RegistryEvent]) -> list[RegistryEvent]:
    """``_by_time(first + second)[::-1]`` for two lists already in time order (a list of one
    is its own reverse: returned as it is, never to be changed)."""
    if not second:
        return first if len(first) < 2 else first[::-1]
    if not first:
        return second if len(second) < 2 else second[::-1]
    return sorted(first + second, key=_TIME)[::-1]


class cached_property:  # noqa: N801 - functools.cached_property without its per-call lock
    """Computed on first access, then kept (3.11's functools version takes a lock on every
    first access: a second of a 100k-tag registry's build).

    In a class with ``__slots__`` the value is kept in the slot ``cached_<name>`` (declare it);
    elsewhere it becomes a plain instance attribute, read without this descriptor.
    """

    def __init__(self, func: Any) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__
        self.slot: str | None = None

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        if "__slots__" in owner.__dict__:
            self.slot = f"cached_{name}"

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        if self.slot is None:
            value = obj.__dict__[self.name] = self.func(obj)
            return value
        try:
            return getattr(obj, self.slot)
        except AttributeError:
            value = self.func(obj)
            setattr(obj, self.slot, value)
            return value


class VStage:
    """A version's presence in one stage: its assignments and unassignments."""

    # slots: a 100k-tag registry has some 50k of these
    __slots__ = (
        "artifact",
        "version",
        "stage",
        "commit",
        "assignments",
        "unassignments",
        "events_desc",
        "cached_authoring_event",
    )

    def __init__(self, artifact: str, version: str, stage: str, commit: str) -> None:
        self.artifact, self.version, self.stage, self.commit = artifact, version, stage, commit
        self.assignments: list[RegistryEvent] = []
        self.unassignments: list[RegistryEvent] = []

    def freeze(self) -> None:
        # build_state fills every event list in time order (each phase is applied sorted by
        # time, tag-name order within a second), so these sorts only check that order.
        if len(self.assignments) > 1:
            self.assignments.sort(key=_TIME)
        if len(self.unassignments) > 1:
            self.unassignments.sort(key=_TIME)
        self.events_desc = _desc_of_two(self.assignments, self.unassignments)

    @property
    def is_active(self) -> bool:
        return self.events_desc[0].kind == ASSIGNMENT

    @property
    def activated_at(self) -> RegistryEvent | None:
        """The event that activated the pair (its latest assignment), if active."""
        return self.events_desc[0] if self.is_active else None

    @cached_property
    def authoring_event(self) -> RegistryEvent:
        """GTO shows a pair's latest assignment as its ``created_at``/``author``/``ref``."""
        return next(e for e in self.events_desc if e.addition)


class Version:
    """A version of an artifact: a registered SemVer, or a commit sha GTO calls a version.

    ``freeze`` (once every event is in) sets ``direct_desc``, ``is_active``, ``latest_time``
    and ``active_stages``, which every query needs; the rest is computed when asked.
    """

    __slots__ = (
        "artifact",
        "version",
        "commit",
        "enrichments",
        "registrations",
        "deregistrations",
        "stages",
        "direct_desc",
        "is_active",
        "latest_time",
        "active_stages",
        "cached_semver",
        "cached_indirect",
        "cached_events_desc",
        "cached_activated_at",
        "cached_authoring_event",
    )

    def __init__(self, artifact: str, version: str, commit: str) -> None:
        self.artifact, self.version, self.commit = artifact, version, commit
        self.enrichments: list[RegistryEvent] = []
        self.registrations: list[RegistryEvent] = []
        self.deregistrations: list[RegistryEvent] = []
        self.stages: dict[str, VStage] = {}

    @property
    def discovered(self) -> bool:
        """GTO's name for a version with no registration or deregistration tag."""
        return not self.registrations and not self.deregistrations

    @property
    def is_registered(self) -> bool:
        return bool(self.registrations)

    @cached_property
    def semver(self) -> Any:
        return semver_key(self.version)

    def add_stage_event(self, event: RegistryEvent) -> None:
        assert event.stage is not None
        vstage = self.stages.get(event.stage)
        if vstage is None:
            vstage = self.stages[event.stage] = VStage(
                self.artifact, self.version, event.stage, self.commit
            )
        if event.kind == ASSIGNMENT:
            vstage.assignments.append(event)
        else:
            vstage.unassignments.append(event)

    def freeze(self) -> None:
        times = []  # of each list's latest event: its last, as every list is in time order
        for events in (self.registrations, self.deregistrations, self.enrichments):
            if len(events) > 1:
                events.sort(key=_TIME)  # already in time order (see VStage.freeze)
            if events:
                times.append(events[-1].time)
        active = []
        for vstage in self.stages.values():
            vstage.freeze()
            times.append(vstage.events_desc[0].time)
            if vstage.is_active:
                active.append(vstage)
        if len(active) > 1:
            active.sort(key=_ACTIVATION_TIME)
        direct = self.direct_desc = _desc_of_two(self.registrations, self.deregistrations)
        self.is_active = (
            direct[0].kind == REGISTRATION if direct else bool(self.enrichments or self.stages)
        )
        self.latest_time: int | None = max(times) if times else None  # of events_desc[0]
        self.active_stages: list[VStage] = active  # by activation time, oldest first

    @cached_property
    def indirect(self) -> list[RegistryEvent]:
        """Enrichments then stage events, in GTO's concatenation order (before sorting)."""
        return self.enrichments + [e for s in self.stages.values() for e in s.events_desc]

    @cached_property
    def events_desc(self) -> list[RegistryEvent]:
        indirect = self.indirect
        if not indirect:
            return self.direct_desc
        if not self.registrations and not self.deregistrations and len(indirect) == 1:
            return indirect
        return _by_time(self.registrations + self.deregistrations + indirect)[::-1]

    @cached_property
    def activated_at(self) -> RegistryEvent:
        if self.registrations:
            return self.registrations[0]
        return self.events_desc[-1]  # the first of the stable ascending sort

    @cached_property
    def authoring_event(self) -> RegistryEvent:
        for event in self.direct_desc:
            if event.addition:
                return event
        return _by_time(self.indirect)[::-1][0]

    def active_vstages(self, ascending: bool = False) -> list[VStage]:
        """Active stages by activation time (oldest first when ``ascending``)."""
        return list(self.active_stages) if ascending else self.active_stages[::-1]


def _ACTIVATION_TIME(vstage: VStage) -> int:  # noqa: N802 - a sort key, named as _TIME
    return vstage.events_desc[0].time


class VersionSort:
    SEMVER = "semver"
    TIMESTAMP = "timestamp"


def sort_versions(versions: list[Version], sort: str, ascending: bool = False) -> list[Version]:
    """GTO's ``sort_versions``: SemVer ones by precedence, then commit shas by name."""
    step = 1 if ascending else -1
    if sort == VersionSort.SEMVER:
        semvers = [v for v in versions if v.semver is not None]
        others = [v for v in versions if v.semver is None]
        return (
            sorted(semvers, key=lambda v: v.semver)[::step]
            + sorted(others, key=lambda v: v.version)[::step]
        )
    return sorted(versions, key=lambda v: v.authoring_event.time)[::step]


class Artifact:
    def __init__(self, name: str) -> None:
        self.name = name
        self.versions: list[Version] = []
        self.deprecations: list[RegistryEvent] = []
        # Indexes that stand in for GTO's linear scans of `versions`.
        self._by_name_commit: dict[tuple[str, str], Version] = {}
        self._registered_at: dict[str, list[Version]] = {}
        self._applied: set[tuple] = set()  # events applied, compared as GTO compares them
        self._vstages: dict[tuple, dict[str, list[VStage]]] = {}  # get_vstages answers

    def new_version(self, version: str, commit: str) -> Version:
        v = Version(self.name, version, commit)
        self.versions.append(v)
        return v

    def freeze(self) -> None:
        self.deprecations = _by_time(self.deprecations)
        for v in self.versions:
            v.freeze()

    @cached_property
    def events_desc(self) -> list[RegistryEvent]:
        nested = [e for v in self.versions for e in v.events_desc]
        return _by_time(self.deprecations + nested)[::-1]

    @cached_property
    def is_active(self) -> bool:
        """``events_desc[0]`` is not a deprecation, found without sorting every event.

        In GTO's stable sort of ``deprecations + version events``, a tie at the latest time
        goes to the later of the two lists: a deprecation is latest only if strictly so.
        """
        times = [t for v in self.versions if (t := v.latest_time) is not None]
        if not times:
            return False
        return not self.deprecations or max(times) >= self.deprecations[-1].time

    @cached_property
    def is_registered(self) -> bool:
        """False when the artifact is only annotated in ``artifacts.yaml`` at HEAD (when every
        event is a commit event)."""
        return bool(self.deprecations) or any(
            v.registrations or v.deregistrations or v.stages for v in self.versions
        )

    def _eligible_versions(
        self, active_only: bool, include_non_explicit: bool, include_discovered: bool
    ) -> list[Version]:
        return [
            v
            for v in self.versions
            if not active_only
            or v.is_active
            and (
                (v.is_registered and not v.discovered)
                or (include_discovered and v.discovered)
                or (include_non_explicit and not v.is_registered)
            )
        ]

    def get_versions(
        self,
        active_only: bool = True,
        include_non_explicit: bool = False,
        include_discovered: bool = False,
        sort: str = VersionSort.SEMVER,
    ) -> list[Version]:
        chosen = self._eligible_versions(active_only, include_non_explicit, include_discovered)
        return sort_versions(chosen, sort)

    def latest_version(self, registered_only: bool = True) -> Version | None:
        versions = self.get_versions(include_non_explicit=not registered_only)
        return versions[0] if versions else None

    def get_vstages(
        self,
        registered_only: bool = False,
        assignments_per_version: int = -1,
        versions_per_stage: int = 1,
        sort: str = VersionSort.SEMVER,
    ) -> dict[str, list[VStage]]:
        """Which versions each stage holds (GTO's ``Artifact.get_vstages``); one answer per
        set of arguments, computed once (do not modify it)."""
        key = (registered_only, assignments_per_version, versions_per_stage, sort)
        if key not in self._vstages:
            self._vstages[key] = self._get_vstages(*key)
        return self._vstages[key]

    def _get_vstages(
        self,
        registered_only: bool,
        assignments_per_version: int,
        versions_per_stage: int,
        sort: str,
    ) -> dict[str, list[VStage]]:
        versions = self.get_versions(include_non_explicit=not registered_only, sort=sort)
        pairs: list[VStage] = []
        for v in versions:
            vstages = v.active_vstages(ascending=True)
            pairs += vstages[:assignments_per_version] if assignments_per_version > -1 else vstages
        if sort == VersionSort.TIMESTAMP:
            pairs = sorted(pairs, key=lambda s: s.authoring_event.time)[::-1]
        stages: dict[str, list[VStage]] = {}
        for pair in pairs:
            held = stages.setdefault(pair.stage, [])
            if versions_per_stage > -1 and len(held) >= versions_per_stage:
                continue
            if all(h.version != pair.version for h in held):
                held.append(pair)
        return stages

    @cached_property
    def used_stages(self) -> set[str]:
        """The stages ``get_vstages()`` would list: those an active version is in (each stage
        holds at least one version, so no sort or limit changes the set)."""
        versions = self._eligible_versions(True, True, False)
        return {s.stage for v in versions for s in v.active_stages}


class Conflict(NamedTuple):
    """Two versions registered on one commit: GTO refuses the whole registry (ManyVersions)."""

    artifact: str
    commit: str
    versions: list[str]
    tags: list[str]

    def __str__(self) -> str:
        return (
            f"artifact {self.artifact!r}: versions {', '.join(self.versions)} are all registered "
            f"on commit {self.commit[:12]} (tags: {', '.join(self.tags)}); GTO allows one version "
            "per commit. Deregister or delete all but one of them."
        )


class ConflictError(GitopsError):
    def __init__(self, conflict: Conflict) -> None:
        self.conflict = conflict
        super().__init__(str(conflict))


class RegistryState:
    """The whole registry: artifacts in GTO's discovery order, plus conflicted ones set aside."""

    def __init__(self, head: str | None = None) -> None:
        self.artifacts: dict[str, Artifact] = {}
        self.conflicts: dict[str, Conflict] = {}
        self.head = head

    def artifact(self, name: str) -> Artifact:
        if name in self.conflicts:
            raise ConflictError(self.conflicts[name])
        return self.artifacts[name]

    def used_stages(self) -> list[str]:
        return sorted({s for a in self.artifacts.values() for s in a.used_stages})


def build_state(
    tag_events: list[RegistryEvent],
    commits: dict[str, CommitInfo],
    annotations: dict[str, dict[str, ArtifactAnnotation]],
    head: CommitInfo | None,
) -> RegistryState:
    """Apply events as GTO does: deprecations, then versions, then stages, each by tag time.

    ``tag_events`` must be in tag-name order (GTO lists tags sorted, and same-second events keep
    that order); a stage event's version is left empty, it is found here. ``commits`` has the
    commit behind every tag; ``annotations`` the parsed ``artifacts.yaml`` at each commit that
    has one.
    """
    state = RegistryState(head=head.sha if head else None)
    repeated = _repeated_names(tag_events)
    deprecations: list[RegistryEvent] = []
    version_events: list[RegistryEvent] = []
    stage_events: list[RegistryEvent] = []
    phase_of = {
        DEPRECATION: deprecations,
        REGISTRATION: version_events,
        DEREGISTRATION: version_events,
        ASSIGNMENT: stage_events,
        UNASSIGNMENT: stage_events,
    }
    for e in tag_events:
        phase_of[e.kind].append(e)
    artifacts, conflicts = state.artifacts, state.conflicts
    for phase, apply in (
        (deprecations, _apply_deprecation),
        (version_events, _apply_version_event),
        (stage_events, _apply_stage_event),
    ):
        phase.sort(key=_TIME)  # stable: same-second events stay in tag-name order
        for e in phase:
            artifact = artifacts.get(e.artifact)
            if artifact is None:
                if e.artifact in conflicts:
                    continue
                artifact = artifacts[e.artifact] = Artifact(e.artifact)
            try:
                apply(artifact, e, e.tag in repeated if repeated else False)
            except ConflictError as exc:
                conflicts[e.artifact] = exc.conflict
                del artifacts[e.artifact]
    _enrich(state, commits, annotations, head)
    for artifact in artifacts.values():
        artifact.freeze()
    return state


def _repeated_names(tag_events: list[RegistryEvent]) -> set[str | None]:
    """Tag names read more than once: refs to one tag object (``git tag new old``) all carry
    the name inside it. Only their events can repeat one another."""
    names = [e.tag for e in tag_events]
    if len(set(names)) == len(names):
        return set()  # the usual case, found at C speed
    return {name for name, count in Counter(names).items() if count > 1}


def _repeats(artifact: Artifact, e: RegistryEvent) -> bool:
    """True for an event equal to one already applied: GTO's ``add_event`` skips those.

    GTO compares all fields, ``created_at`` as an instant (the tagger's offset does not count).
    Asked only for tag names read more than once: no other event can repeat one.
    """
    key = (e.kind, e.tag, e.commit, e.time, e.author, e.author_email, e.message, e.version, e.stage)
    if key in artifact._applied:
        return True
    artifact._applied.add(key)
    return False


def _apply_deprecation(artifact: Artifact, e: RegistryEvent, repeated: bool) -> None:
    if not (repeated and _repeats(artifact, e)):
        artifact.deprecations.append(e)


def _apply_version_event(artifact: Artifact, e: RegistryEvent, repeated: bool) -> None:
    """A registration or deregistration: of the version with that name on that commit."""
    if repeated and _repeats(artifact, e):
        return
    assert e.version is not None
    key = (e.version, e.commit)
    version = artifact._by_name_commit.get(key)
    if version is None:
        version = artifact._by_name_commit[key] = artifact.new_version(e.version, e.commit)
        artifact._registered_at.setdefault(e.commit, []).append(version)
    if e.kind == REGISTRATION:
        version.registrations.append(e)
    else:
        version.deregistrations.append(e)


def _apply_stage_event(artifact: Artifact, e: RegistryEvent, repeated: bool) -> None:
    """Stage tags carry no version: it is the one registered on the tag's commit. Without one,
    GTO makes a pseudo-version named by the commit sha, and (since such a version is never
    found again by commit) one more empty pseudo-version per stage tag."""
    candidates = artifact._registered_at.get(e.commit)
    if candidates is None:
        # GTO's lookup by commit makes the empty twin before it sees the event is a repeat
        artifact.new_version(e.commit, e.commit)
        e = _with_version(e, e.commit)
        if not (repeated and _repeats(artifact, e)):
            artifact.new_version(e.commit, e.commit).add_stage_event(e)
        return
    if len(candidates) > 1:
        raise ConflictError(
            Conflict(
                artifact=artifact.name,
                commit=e.commit,
                versions=[v.version for v in candidates],
                tags=[r.tag or "" for v in candidates for r in v.registrations + v.deregistrations]
                + [e.tag or ""],
            )
        )
    version = candidates[0]
    e = _with_version(e, version.version)
    if not (repeated and _repeats(artifact, e)):
        version.add_stage_event(e)


def _with_version(e: RegistryEvent, version: str) -> RegistryEvent:
    """A stage event with the version it was found to be about."""
    return _new_event(
        RegistryEvent,
        (e.kind, e.artifact, e.time, e.offset, e.author, e.author_email, e.message, e.commit,
         e.tag, version, e.stage, "", "", None),
    )  # fmt: skip


_new_event = tuple.__new__


def _commit_event(
    artifact: str, version: str, info: CommitInfo, annotation: ArtifactAnnotation | None
) -> RegistryEvent:
    return RegistryEvent(
        kind=COMMIT_EVENT,
        artifact=artifact,
        time=info.time,
        offset=info.offset,
        author=info.author_name,
        author_email=info.author_email,
        message=info.message,
        commit=info.sha,
        version=version,
        committer=info.committer_name,
        committer_email=info.committer_email,
        annotation=annotation,
    )


def _enrich(
    state: RegistryState,
    commits: dict[str, CommitInfo],
    annotations: dict[str, dict[str, ArtifactAnnotation]],
    head: CommitInfo | None,
) -> None:
    """GTO's enrichment: every version gets its commit as an event, then HEAD's annotations."""
    for artifact in state.artifacts.values():
        for v in artifact.versions:
            info = commits.get(v.commit)
            if info is not None:
                note = annotations.get(v.commit, {}).get(artifact.name)
                v.enrichments.append(_commit_event(artifact.name, v.version, info, note))
    if head is None:
        return
    for name, note in annotations.get(head.sha, {}).items():
        if name in state.conflicts:
            continue
        artifact = state.artifacts.get(name)
        if artifact is None:
            artifact = state.artifacts[name] = Artifact(name)
        registered = artifact._registered_at.get(head.sha, [])
        if len(registered) > 1:
            state.conflicts[name] = Conflict(
                artifact=name,
                commit=head.sha,
                versions=[v.version for v in registered],
                tags=[r.tag or "" for v in registered for r in v.registrations + v.deregistrations],
            )
            del state.artifacts[name]
        elif not registered:  # a registered version at HEAD already has this very event
            version = artifact.new_version(head.sha, head.sha)
            version.enrichments.append(_commit_event(name, head.sha, head, note))
