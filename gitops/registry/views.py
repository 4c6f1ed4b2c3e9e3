"""What ``show``, ``history`` and ``check-ref`` answer, in exactly GTO 1.10.1's JSON shapes.

Key order, value formats (ISO dates with the tagger's offset) and list order all match
``gto ... --json``, so scripts written against GTO keep working. Human tables are our own.
"""

from __future__ import annotations

from typing import Any

from gitops.errors import UsageError
from gitops.registry.gto_json import printable
from gitops.registry.reader import Registry
from gitops.registry.state import (
    COMMIT_EVENT,
    Artifact,
    RegistryEvent,
    Version,
    VersionSort,
    VStage,
)
from gitops.registry.tags import Event, is_hexsha, parse_shortcut, parse_tag


class ArtifactNotFound(UsageError):
    def __init__(self, name: str) -> None:
        super().__init__(f"artifact {name!r} is not in the registry")


def event_json(e: RegistryEvent, *, with_kind: bool = False, internals: bool = True) -> dict:
    """One event as GTO's ``model_dump`` (+ ``event`` key for ``dict_state``)."""
    out: dict[str, Any] = {}
    if internals:
        out["priority"] = e.priority
        out["addition"] = e.addition
    out |= {
        "artifact": e.artifact,
        "created_at": e.created_at.isoformat(),
        "author": e.author,
        "author_email": e.author_email,
        "message": e.message,
        "commit_hexsha": e.commit,
    }
    if e.kind == COMMIT_EVENT:
        out["version"] = e.version
        out["enrichments"] = (
            [{"source": "gto", "artifact": printable(e.annotation.model_dump())}]
            if e.annotation is not None
            else []
        )
        out["committer"] = e.committer
        out["committer_email"] = e.committer_email
    else:
        out["tag"] = e.tag
        if e.kind != Event.DEPRECATION:
            out["version"] = e.version
        if e.kind in (Event.ASSIGNMENT, Event.UNASSIGNMENT):
            out["stage"] = e.stage
    if with_kind:
        out["event"] = e.kind
    return out


def _authored(obj: VStage | Version) -> dict[str, Any]:
    a = obj.authoring_event
    return {
        "created_at": a.created_at.isoformat(),
        "author": a.author,
        "author_email": a.author_email,
        "message": a.message,
        "ref": a.ref,
    }


def vstage_json(s: VStage) -> dict[str, Any]:
    activated = s.activated_at
    return {
        "artifact": s.artifact,
        "commit_hexsha": s.commit,
        "version": s.version,
        "stage": s.stage,
        "assignments": [event_json(e, with_kind=True) for e in s.assignments],
        "unassignments": [event_json(e, with_kind=True) for e in s.unassignments],
        "is_active": s.is_active,
        "activated_at": activated.created_at.isoformat() if activated else None,
        **_authored(s),
    }


def version_json(v: Version, stages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "artifact": v.artifact,
        "commit_hexsha": v.commit,
        "version": v.version,
        "enrichments": [event_json(e) for e in v.enrichments],
        "registrations": [event_json(e) for e in v.registrations],
        "deregistrations": [event_json(e) for e in v.deregistrations],
        "stages": stages,
        "is_active": v.is_active,
        "activated_at": v.activated_at.created_at.isoformat(),
        **_authored(v),
        "discovered": v.discovered,
    }


class ShowOptions:
    def __init__(
        self,
        registered_only: bool = False,
        deprecated: bool = False,
        assignments_per_version: int = -1,
        versions_per_stage: int = 1,
        sort: str = VersionSort.TIMESTAMP,
    ) -> None:
        if assignments_per_version < -1:
            raise UsageError("--av must be -1 (all) or more")
        if versions_per_stage < -1:
            raise UsageError("--vs must be -1 (all) or more")
        if sort not in (VersionSort.TIMESTAMP, VersionSort.SEMVER):
            raise UsageError(f"--sort must be 'timestamp' or 'semver', not {sort!r}")
        self.registered_only = registered_only
        self.deprecated = deprecated
        self.assignments_per_version = assignments_per_version
        self.versions_per_stage = versions_per_stage
        self.sort = sort

    def vstages(self, artifact: Artifact) -> dict[str, list[VStage]]:
        return artifact.get_vstages(
            registered_only=self.registered_only,
            assignments_per_version=self.assignments_per_version,
            versions_per_stage=self.versions_per_stage,
            sort=self.sort,
        )


def show_registry(registry: Registry, opts: ShowOptions) -> dict[str, Any]:
    """``gto show --json``: each artifact's latest version and what each stage holds."""
    stages = registry.stages
    result: dict[str, Any] = {}
    for name, artifact in registry.state.artifacts.items():
        if not (artifact.is_active or opts.deprecated):
            continue
        latest = artifact.latest_version(registered_only=True)
        held = opts.vstages(artifact)
        result[name] = {
            "version": latest.version if latest else None,
            "stage": {
                stage: ", ".join(s.version for s in held.get(stage, [])) or None for stage in stages
            },
            "registered": artifact.is_registered,
            "active": artifact.is_active,
        }
    return result


def find_artifact(registry: Registry, name: str) -> Artifact:
    try:
        return registry.state.artifact(name)
    except KeyError:
        raise ArtifactNotFound(name) from None


def show_versions(registry: Registry, name: str, opts: ShowOptions) -> list[dict[str, Any]]:
    """``gto show NAME --json`` (shortcuts ``NAME#stage``, ``NAME@latest``, ``NAME@vX.Y.Z``)."""
    shortcut = parse_shortcut(name)
    artifact = find_artifact(registry, shortcut.name)
    held = opts.vstages(artifact)
    versions = []
    if artifact.is_active or opts.deprecated:
        for v in artifact.get_versions(
            active_only=not opts.deprecated,
            include_non_explicit=not opts.registered_only,
            include_discovered=True,
        ):
            stages = [vstage_json(s) for ss in held.values() for s in ss if s.version == v.version]
            versions.append(version_json(v, stages))
    if shortcut.latest:
        return versions[:1]
    if shortcut.version:
        return [v for v in versions if v["version"] == shortcut.version]
    if shortcut.stage:
        return [v for v in versions for s in v["stages"] if s["stage"] == shortcut.stage]
    return versions


def history(registry: Registry, name: str | None = None, ascending: bool = False) -> list[dict]:
    """``gto history [NAME] --json``: tag events, newest first, ties broken by priority.

    GTO sorts every artifact's ``events_desc``, concatenated, by (time, priority) and reverses
    the result; an event keeps its place among the same artifact's with or without the others,
    so ``NAME`` sorts only its own.
    """
    artifacts = registry.state.artifacts
    if name is not None:
        if name in registry.state.conflicts:
            registry.state.artifact(name)  # raises the conflict
        chosen = [artifacts[name]] if name in artifacts else []
    else:
        chosen = list(artifacts.values())
    events = [e for a in chosen for e in a.events_desc if e.kind != COMMIT_EVENT]
    events.sort(key=_time_and_priority)
    if not ascending:
        events.reverse()
    return [
        {
            "timestamp": e.created_at.isoformat(),
            "artifact": e.artifact,
            "event": e.kind,
            "priority": e.priority,
            "version": e.version,
            "stage": e.stage,
            "commit": e.commit,
            "author": e.author,
            "author_email": e.author_email,
            "message": e.message,
            "ref": e.ref,
        }
        for e in events
    ]


def _time_and_priority(e: RegistryEvent) -> tuple[int, int]:
    return e.time, e.priority


def check_ref(registry: Registry, ref: str) -> RegistryEvent | None:
    """The event a tag made, or ``None`` for a non-registry or lightweight tag (as GTO)."""
    tag_name = ref.removeprefix("refs/tags/")
    record = registry.tag(tag_name)
    parsed = parse_tag(tag_name)
    if record is None or parsed is None:
        return None
    artifact = registry.state.artifacts.get(parsed.artifact)
    if artifact is None:
        if parsed.artifact in registry.state.conflicts:
            registry.state.artifact(parsed.artifact)  # raises the conflict
        return None
    found = [e for e in artifact.events_desc if e.ref == tag_name]
    return found[0] if found else None


def short(value: str | None) -> str:
    """Commit shas shortened for people; versions and names unchanged."""
    if value is None:
        return "-"
    return value[:7] if is_hexsha(value) else value
