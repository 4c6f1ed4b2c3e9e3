"""Everything the catalog shows, read once from the repository: the registry, gitops.yaml, the
state store (live state and its history), the plan (drift as ``plan`` sees it), the audit
trail's stories and the metrics of each model's latest versions.

A handful of git processes whatever the registry's size: the tags in one read, the metrics of
every charted version in one batched read (``gitops.report.metrics.read_snapshots``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gitops.config import GitopsConfig
    from gitops.deploy.plan import Plan
    from gitops.deploy.state import LiveState
    from gitops.promote.audit import StageChange
    from gitops.registry.reader import Registry
    from gitops.registry.state import Artifact, Version
    from gitops.report.model import Snapshot


@dataclass
class Sources:
    registry: Registry
    config: GitopsConfig | None = None
    state: LiveState | None = None
    plan: Plan | None = None
    stories: list[StageChange] = field(default_factory=list)
    snapshots: dict[str, Snapshot] = field(default_factory=dict)  # commit sha -> metrics
    charted: dict[str, list[Version]] = field(default_factory=dict)  # artifact -> oldest first
    warnings: list[str] = field(default_factory=list)


def charted_versions(artifact: Artifact, history: int) -> list[Version]:
    """The versions whose metrics the model's charts show: its latest ``history`` active
    registered versions, oldest first (by SemVer, as ``gto show`` sorts them)."""
    if history <= 0:
        return []
    versions = artifact.get_versions(sort="semver")  # newest first
    return versions[:history][::-1]


def gather(
    repo: Path, config_name: str, in_ci: bool, history: int, lightweight: bool = False
) -> Sources:
    from gitops.registry.reader import load_registry

    registry = load_registry(repo, lightweight)
    sources = Sources(registry, warnings=list(registry.warnings))
    if (registry.root / config_name).is_file():
        from gitops.config import load_config
        from gitops.deploy.plan import plan_now
        from gitops.deploy.store import open_store

        config = load_config(registry.root, config_name)
        if config is not None:
            sources.config = config
            store = open_store(config.state, registry.root, in_ci)
            state, _ = store.read(list(config.environments))
            sources.state = state
            sources.plan = plan_now(registry, config, state)
    from gitops.promote import audit

    requests = audit.request_history(registry.root)
    sources.stories = audit.stories(registry, sources.config, sources.state, requests)
    _read_metrics(sources, history)
    return sources


def _read_metrics(sources: Sources, history: int) -> None:
    """Every charted version's metrics in one batched read (each distinct file parsed once)."""
    from gitops.report.metrics import read_snapshots

    revisions: list[tuple[str, str]] = []
    for name, artifact in sources.registry.state.artifacts.items():
        chosen = charted_versions(artifact, history)
        sources.charted[name] = chosen
        revisions += [(f"{name}@{v.version}", v.commit) for v in chosen]
    if not revisions:
        return
    settings = sources.config.reports if sources.config is not None else None
    revisions.sort(key=lambda r: r[1])  # any order: read_snapshots lists trees of the last
    newest = _newest_commit(sources)
    if newest is not None:
        revisions.append(("HEAD", newest))  # its tree finds the sub-projects' dvc.yaml files
    for snap in read_snapshots(sources.registry.root, settings, revisions):
        sources.snapshots[snap.sha] = snap


def _newest_commit(sources: Sources) -> str | None:
    return sources.registry.state.head
