"""Tables and sentences for people (the JSON for scripts is in ``views``)."""

from __future__ import annotations

from typing import Any

from gitops.registry.reader import Registry
from gitops.registry.state import RegistryEvent
from gitops.registry.tags import Event
from gitops.registry.views import short


def _clean(value: Any) -> str:
    """One line, no control characters: tag names and messages are untrusted."""
    text = "-" if value is None or value == "" else str(value)
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[_clean(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def registry_table(registry: Registry, state: dict[str, Any]) -> str:
    if not state:
        return "No registered artifacts in this repository."
    stages = registry.stages
    rows = [
        [
            name if info["registered"] else f"*{name}",
            info["version"],
            *(info["stage"].get(s) for s in stages),
        ]
        for name, info in sorted(state.items())
    ]
    out = table(["name", "latest", *(f"#{s}" for s in stages)], rows)
    if any(not info["registered"] for info in state.values()):
        out += "\n* annotated in artifacts.yaml but not registered"
    return out


def versions_table(registry: Registry, name: str, versions: list[dict[str, Any]]) -> str:
    if not versions:
        return f"No versions of {name} match."
    rows = [
        [
            v["artifact"],
            short(v["version"]),
            ", ".join(dict.fromkeys(s["stage"] for s in v["stages"])),
            v["created_at"],
            short(v["ref"]),
        ]
        for v in versions
    ]
    return table(["artifact", "version", "stage", "created_at", "ref"], rows)


def history_table(events: list[dict[str, Any]]) -> str:
    if not events:
        return "No registry events in this repository."
    rows = [
        [
            e["timestamp"],
            e["artifact"],
            e["event"],
            short(e["version"]),
            e["stage"],
            e["commit"][:7],
            e["ref"],
        ]
        for e in events
    ]
    return table(["timestamp", "artifact", "event", "version", "stage", "commit", "ref"], rows)


def describe_event(e: RegistryEvent) -> str:
    artifact, version, stage = _clean(e.artifact), _clean(e.version), _clean(e.stage)
    match e.kind:
        case Event.REGISTRATION:
            return f'Version "{version}" of artifact "{artifact}" was registered'
        case Event.DEREGISTRATION:
            return f'Version "{version}" of artifact "{artifact}" was deregistered'
        case Event.ASSIGNMENT:
            return f'Stage "{stage}" was assigned to version "{version}" of artifact "{artifact}"'
        case Event.UNASSIGNMENT:
            return (
                f'Stage "{stage}" was unassigned from version "{version}" of artifact "{artifact}"'
            )
        case _:
            return f'Artifact "{artifact}" was deprecated'
