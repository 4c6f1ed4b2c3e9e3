"""Desired state (the registry's stages through gitops.yaml) against live state: the plan.

Desired: each environment runs, for each artifact it serves, the version its stage holds in the
registry (as ``gto show`` has it). Live: what the state store says it runs. Every difference is
one ``Action``; applying a plan twice does nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from gitops.artifacts.resolve import Source
from gitops.config import Environment, GitopsConfig
from gitops.deploy.drivers.base import Observation
from gitops.deploy.order import proof, waits
from gitops.deploy.state import Deployed, LiveState
from gitops.errors import GitopsError
from gitops.registry.annotations import read_dvc_artifacts
from gitops.registry.moves import Holder, is_older, stage_holders
from gitops.registry.reader import Registry
from gitops.yamlfile import YamlFileError

CHANGES = ("deploy", "update", "rollback", "redeploy", "remove")
KINDS = (*CHANGES, "in-sync", "orphan", "held")


@dataclass(frozen=True)
class Action:
    environment: str
    artifact: str
    stage: str
    # deploy | update | rollback | redeploy (the same version again: its bytes drifted, or it
    # failed there) | remove | in-sync | orphan (prune off) | held (a registry conflict)
    kind: str
    from_version: str | None
    to_version: str | None
    to_commit: str | None
    path: str | None = None
    failed_before: bool = False  # the last attempt at this change failed
    drift: bool = False  # the environment runs something else than the state store says
    drift_reason: str = ""  # what the driver found: "modified: ...", "missing", ...
    waiting: tuple[str, ...] = ()  # why `after:` holds it back (see gitops.deploy.order)
    observed: bool = True  # False: the driver cannot look; "in sync" is the store's word
    held: str = ""  # why nothing may change (a registry conflict, with its tags)

    @property
    def is_change(self) -> bool:
        return self.kind in CHANGES

    def to_json(self) -> dict[str, Any]:
        # by hand: dataclasses.asdict deep-copies and costs half a second at 10k actions
        data = {f: getattr(self, f) for f in _ACTION_FIELDS}
        data["waiting"] = list(self.waiting)
        return data


_ACTION_FIELDS = tuple(f.name for f in fields(Action))


@dataclass
class Plan:
    actions: list[Action] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)  # registry conflicts: the run must fail
    # (artifact, version) -> where its bytes are, or why that cannot be told: filled by
    # ``gitops.deploy.sources.attach`` for what people read (plan, summaries, PR comments)
    sources: dict[tuple[str, str], Source | GitopsError] = field(default_factory=dict)

    @property
    def changes(self) -> list[Action]:
        return [a for a in self.actions if a.is_change]

    def for_environment(self, name: str) -> list[Action]:
        return [a for a in self.changes if a.environment == name]

    def to_json(self) -> dict[str, Any]:
        return {
            "changes": len(self.changes),
            "conflicts": self.conflicts,
            "actions": [a.to_json() for a in self.actions],
            "sources": [
                {"artifact": artifact, "version": version}
                | (found.to_json() if isinstance(found, Source) else {"error": str(found)})
                for (artifact, version), found in self.sources.items()
            ],
        }


@dataclass(frozen=True)
class ArtifactInfo:
    type: str | None
    path: str | None


def artifact_info(registry: Registry) -> dict[str, ArtifactInfo]:
    """Type and path of each artifact: ``dvc.yaml`` in the work tree, else ``artifacts.yaml``
    (the latest annotation GTO attached to any of its versions)."""
    info: dict[str, ArtifactInfo] = {}
    dvc_files: dict[str, dict[str, Any]] = {}  # each dvc.yaml read once, not per artifact
    for name, artifact in registry.state.artifacts.items():
        found: ArtifactInfo | None = None
        subdir = name.rpartition(":")[0]
        if subdir not in dvc_files:
            try:
                dvc_files[subdir] = read_dvc_artifacts(registry.root, subdir)
            except YamlFileError:
                dvc_files[subdir] = {}
        dvc = dvc_files[subdir].get(name)
        if dvc is not None:
            found = ArtifactInfo(dvc.type, dvc.path)
        else:
            latest = None
            for version in artifact.versions:
                for event in version.enrichments:
                    if event.annotation is not None and (latest is None or event.time >= latest[0]):
                        latest = (event.time, event.annotation)
            if latest is not None:
                found = ArtifactInfo(latest[1].type, latest[1].path)
        info[name] = found or ArtifactInfo(None, None)
    return info


def version_path(
    registry: Registry, artifact: str, version: str | None, default: str | None
) -> str | None:
    """The artifact's path as ``version``'s own commit annotates it (a model may move between
    versions: a rollback needs the old path), else ``default`` (the artifact's)."""
    found = registry.state.artifacts.get(artifact)
    if found is None or version is None:
        return default
    for v in found.versions:
        if v.version != version:
            continue
        for event in v.enrichments:
            if event.annotation is not None and event.annotation.path:
                return event.annotation.path
    return default


def served_artifacts(
    env: Environment, registry: Registry, info: dict[str, ArtifactInfo]
) -> list[str]:
    """``artifacts:`` if set; else every artifact of type ``model`` (or, when no artifact
    declares a type at all, every artifact: a bare tag registry still deploys)."""
    if env.artifacts is not None:
        return list(env.artifacts)
    typed = [name for name, i in info.items() if i.type]
    if not typed:
        return list(registry.state.artifacts)
    return [name for name in typed if info[name].type == "model"]


def desired_state(
    registry: Registry,
    config: GitopsConfig,
    environments: list[str] | None = None,
    info: dict[str, ArtifactInfo] | None = None,
) -> dict[str, dict[str, Holder | None]]:
    """environment -> artifact -> the version it should run (None: its stage is empty)."""
    held = stage_holders(registry)
    info = artifact_info(registry) if info is None else info
    desired: dict[str, dict[str, Holder | None]] = {}
    for name, env in config.environments.items():
        if environments is not None and name not in environments:
            continue
        desired[name] = {a: held.get((a, env.stage)) for a in served_artifacts(env, registry, info)}
    return desired


def observe(
    registry: Registry,
    config: GitopsConfig,
    live: LiveState,
    environments: list[str] | None,
    info: dict[str, ArtifactInfo] | None = None,
) -> tuple[dict[tuple[str, str], Observation], set[str]]:
    """What drivers that can look find in their environments (drift is where it differs from
    the store), and the environments whose driver cannot look."""
    from gitops.deploy.drivers.registry import make_driver

    seen: dict[tuple[str, str], Observation] = {}
    blind: set[str] = set()
    info = artifact_info(registry) if info is None else info
    for env_name, env in config.environments.items():
        if environments is not None and env_name not in environments:
            continue
        driver = make_driver(env.deploy)
        served = served_artifacts(env, registry, info)
        for artifact in sorted(set(served) | set(live.deployed(env_name))):
            found = driver.observe(registry.root, env_name, artifact)
            if found is None:
                blind.add(env_name)
                break  # this driver cannot look
            seen[(env_name, artifact)] = found
    return seen, blind


def _drift(have: Deployed | None, found: Observation | None) -> tuple[str | None, str] | None:
    """(what really runs, why) where the driver's finding contradicts the store, else None."""
    recorded = have.version if have is not None else None
    if found is None:
        return None
    if found.state == "running":
        if found.version == recorded:
            return None
        return found.version, f"found {found.version} running"
    if found.state == "modified":
        return found.version, f"modified ({found.detail})" if found.detail else "modified"
    if recorded is None:
        return None  # nothing should be there, and the driver did not put anything there
    if found.state == "missing":
        return None, "missing: nothing is there"
    return None, f"unknown: {found.detail}" if found.detail else "unknown content"


def make_plan(
    registry: Registry,
    config: GitopsConfig,
    live: LiveState,
    environments: list[str] | None = None,
    observed: dict[tuple[str, str], Observation] | None = None,
    info: dict[str, ArtifactInfo] | None = None,
    blind: set[str] | None = None,
) -> Plan:
    """``observed`` (from ``observe``) overrides the store where an environment drifted.

    ``live`` must hold the environments planned and those of their `after:` (``upstreams``):
    the order rule reads them.
    """
    info = artifact_info(registry) if info is None else info
    observed = observed or {}
    blind = blind or set()
    conflicts = registry.state.conflicts
    plan = Plan(conflicts=[str(c) for c in conflicts.values()])
    # the environments planned, and those the order rule looks at
    desired_all = desired_state(registry, config, with_upstreams(config, environments), info)
    for env_name, targets in desired_all.items():
        if environments is not None and env_name not in environments:
            continue
        env = config.environments[env_name]
        known = set(targets) | set(live.deployed(env_name))
        known |= {a for a in env.artifacts or [] if a in conflicts}
        for artifact in sorted(known):
            have = live.live(env_name, artifact)
            running = have.version if have is not None else None
            if artifact in conflicts:
                plan.actions.append(
                    _held(env_name, env, artifact, running, str(conflicts[artifact]))
                )
                continue
            want = targets.get(artifact)
            if artifact not in targets and env.artifacts is not None:
                continue  # no longer served here: left alone, never pruned by surprise
            drift = _drift(have, observed.get((env_name, artifact)))
            if drift is not None:
                running = drift[0]
            repair = bool(
                drift is not None
                and drift[1].startswith("modified")
                or have is not None
                and have.status == "failed"
                and running == have.version
            )
            kind = action_kind(running, want, env.prune, registry, artifact, repair)
            waiting: tuple[str, ...] = ()
            if want is not None and kind in ("deploy", "update", "rollback"):
                waiting = waits_for(
                    config, env_name, kind, artifact, want.version, live, desired_all
                )
            plan.actions.append(
                Action(
                    environment=env_name,
                    artifact=artifact,
                    stage=env.stage,
                    kind=kind,
                    from_version=running,
                    to_version=want.version if want else None,
                    to_commit=want.commit if want else None,
                    path=version_path(
                        registry,
                        artifact,
                        want.version if want and kind in CHANGES else None,
                        info.get(artifact, ArtifactInfo(None, None)).path,
                    ),
                    failed_before=bool(
                        have
                        and have.status in ("failed", "rolled-back")
                        and have.attempted == _v(want)
                    ),
                    drift=drift is not None,
                    drift_reason=drift[1] if drift is not None else "",
                    waiting=waiting,
                    observed=env_name not in blind,
                )
            )
    return plan


def _held(env_name: str, env: Environment, artifact: str, running: str | None, why: str) -> Action:
    """An artifact in conflict: held where it is. The registry cannot say what it should run,
    so nothing is deployed, updated or removed (even with prune on)."""
    return Action(env_name, artifact, env.stage, "held", running, running, None, held=why)


def upstreams(config: GitopsConfig, name: str) -> list[str]:
    """Every environment ``name`` waits for, directly or through others (`after:`)."""
    found: list[str] = []
    todo = list(config.environments[name].after)
    while todo:
        other = todo.pop(0)
        if other not in found:
            found.append(other)
            todo.extend(config.environments[other].after)
    return found


def with_upstreams(config: GitopsConfig, names: list[str] | None) -> list[str]:
    """``names`` and the environments they wait for: what a plan for ``names`` must read."""
    if names is None:
        return list(config.environments)
    wanted = set(names)
    for name in names:
        wanted.update(upstreams(config, name))
    return [n for n in config.environments if n in wanted]


def waits_for(
    config: GitopsConfig,
    env_name: str,
    kind: str,
    artifact: str,
    version: str,
    live: LiveState,
    desired: dict[str, dict[str, Holder | None]],
) -> tuple[str, ...]:
    """The order rule for one action: why ``version`` may not enter ``env_name`` yet."""
    if proof(live, env_name, artifact, version) is not None:
        return ()  # it ran healthy here before (a rollback, a repair): never held back
    direct = [u for u in config.environments[env_name].after if artifact in desired.get(u, {})]
    found = []
    for wait in waits(live, direct, artifact, version):
        upcoming = desired[wait.upstream].get(artifact)
        if not wait.failed and upcoming is not None and upcoming.version == version:
            found.append(f"waits for {wait.upstream}: {version} is to be deployed there first")
        else:
            found.append(str(wait))
    return tuple(found)


def plan_now(
    registry: Registry,
    config: GitopsConfig,
    live: LiveState,
    environments: list[str] | None = None,
    info: dict[str, ArtifactInfo] | None = None,
) -> Plan:
    """The plan as ``plan``/``apply`` make it: drift observed first, artifacts read once."""
    info = artifact_info(registry) if info is None else info
    seen, blind = observe(registry, config, live, environments, info)
    return make_plan(registry, config, live, environments, seen, info, blind)


def _v(holder: Holder | None) -> str | None:
    return holder.version if holder else None


def action_kind(
    running: str | None,
    want: Holder | None,
    prune: bool,
    registry: Registry,
    artifact: str,
    repair: bool = False,
) -> str:
    if want is None:
        if running is None:
            return "in-sync"
        return "remove" if prune else "orphan"
    if running is None:
        return "deploy"
    if running == want.version:
        return "redeploy" if repair else "in-sync"
    return "rollback" if is_older(want.version, running, registry, artifact) else "update"


def environment_levels(config: GitopsConfig, names: list[str]) -> list[list[str]]:
    """Environments in ``after:`` order: each level only after the ones before it."""
    remaining = [n for n in config.environments if n in names]
    done: set[str] = set()
    levels: list[list[str]] = []
    while remaining:
        level = [
            n
            for n in remaining
            if all(a in done or a not in names for a in config.environments[n].after)
        ]
        levels.append(level)
        done |= set(level)
        remaining = [n for n in remaining if n not in done]
    return levels
