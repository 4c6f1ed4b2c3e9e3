"""Desired state (the registry's stages through gitops.yaml) against live state: the plan.

Desired: each environment runs, for each artifact it serves, the version its stage holds in the
registry (as ``gto show`` has it). Live: what the state store says it runs. Every difference is
one ``Action``; applying a plan twice does nothing the second time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any

from gitops.config import Environment, GitopsConfig
from gitops.deploy.state import LiveState
from gitops.registry.annotations import find_dvc_artifact
from gitops.registry.moves import Holder, is_older, stage_holders
from gitops.registry.reader import Registry
from gitops.yamlfile import YamlFileError

CHANGES = ("deploy", "update", "rollback", "remove")


@dataclass(frozen=True)
class Action:
    environment: str
    artifact: str
    stage: str
    kind: str  # deploy | update | rollback | remove | in-sync | orphan (prune off)
    from_version: str | None
    to_version: str | None
    to_commit: str | None
    path: str | None = None
    failed_before: bool = False  # the last attempt at this change failed
    drift: bool = False  # the environment runs something else than the state store says

    @property
    def is_change(self) -> bool:
        return self.kind in CHANGES

    def to_json(self) -> dict[str, Any]:
        # by hand: dataclasses.asdict deep-copies and costs half a second at 10k actions
        return {f: getattr(self, f) for f in _ACTION_FIELDS}


_ACTION_FIELDS = tuple(f.name for f in fields(Action))


@dataclass
class Plan:
    actions: list[Action] = field(default_factory=list)

    @property
    def changes(self) -> list[Action]:
        return [a for a in self.actions if a.is_change]

    def for_environment(self, name: str) -> list[Action]:
        return [a for a in self.changes if a.environment == name]

    def to_json(self) -> dict[str, Any]:
        return {
            "changes": len(self.changes),
            "actions": [a.to_json() for a in self.actions],
        }

    def dumps(self) -> str:
        """JSON with one action per line: readable, and written by json's fast C encoder."""
        items = ",\n".join("  " + json.dumps(a.to_json()) for a in self.actions)
        return f'{{"changes": {len(self.changes)}, "actions": [\n{items}\n]}}'


@dataclass(frozen=True)
class ArtifactInfo:
    type: str | None
    path: str | None


def artifact_info(registry: Registry) -> dict[str, ArtifactInfo]:
    """Type and path of each artifact: ``dvc.yaml`` in the work tree, else ``artifacts.yaml``
    (the latest annotation GTO attached to any of its versions)."""
    info: dict[str, ArtifactInfo] = {}
    for name, artifact in registry.state.artifacts.items():
        found: ArtifactInfo | None = None
        try:
            dvc = find_dvc_artifact(registry.root, name)
        except YamlFileError:
            dvc = None
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
) -> dict[tuple[str, str], str | None]:
    """What drivers that can look see running, where it differs from the store: drift."""
    from gitops.deploy.drivers.base import Driver
    from gitops.deploy.drivers.registry import make_driver

    seen: dict[tuple[str, str], str | None] = {}
    info = artifact_info(registry) if info is None else info
    for env_name, env in config.environments.items():
        if environments is not None and env_name not in environments:
            continue
        driver = make_driver(env.deploy)
        if type(driver).observe is Driver.observe:
            continue  # this driver cannot look
        served = served_artifacts(env, registry, info)
        for artifact in set(served) | set(live.deployed(env_name)):
            observed, version = driver.observe(registry.root, env_name, artifact)
            recorded = live.live(env_name, artifact)
            if observed and version != (recorded.version if recorded else None):
                seen[(env_name, artifact)] = version
    return seen


def make_plan(
    registry: Registry,
    config: GitopsConfig,
    live: LiveState,
    environments: list[str] | None = None,
    observed: dict[tuple[str, str], str | None] | None = None,
    info: dict[str, ArtifactInfo] | None = None,
) -> Plan:
    """``observed`` (from ``observe``) overrides the store where an environment drifted."""
    info = artifact_info(registry) if info is None else info
    observed = observed or {}
    plan = Plan()
    for env_name, targets in desired_state(registry, config, environments, info).items():
        env = config.environments[env_name]
        known = set(targets) | set(live.deployed(env_name))
        for artifact in sorted(known):
            want = targets.get(artifact)
            if artifact not in targets and env.artifacts is not None:
                continue  # no longer served here: left alone, never pruned by surprise
            have = live.live(env_name, artifact)
            running = have.version if have is not None else None
            drift = (env_name, artifact) in observed
            if drift:
                running = observed[(env_name, artifact)]
            plan.actions.append(
                Action(
                    environment=env_name,
                    artifact=artifact,
                    stage=env.stage,
                    kind=_kind(running, want, env.prune, registry, artifact),
                    from_version=running,
                    to_version=want.version if want else None,
                    to_commit=want.commit if want else None,
                    path=info.get(artifact, ArtifactInfo(None, None)).path,
                    failed_before=bool(
                        have and have.status != "deployed" and have.attempted == _v(want)
                    ),
                    drift=drift,
                )
            )
    return plan


def plan_now(
    registry: Registry,
    config: GitopsConfig,
    live: LiveState,
    environments: list[str] | None = None,
    info: dict[str, ArtifactInfo] | None = None,
) -> Plan:
    """The plan as ``plan``/``apply`` make it: drift observed first, artifacts read once."""
    info = artifact_info(registry) if info is None else info
    seen = observe(registry, config, live, environments, info)
    return make_plan(registry, config, live, environments, seen, info)


def _v(holder: Holder | None) -> str | None:
    return holder.version if holder else None


def _kind(
    running: str | None, want: Holder | None, prune: bool, registry: Registry, artifact: str
) -> str:
    if want is None:
        if running is None:
            return "in-sync"
        return "remove" if prune else "orphan"
    if running is None:
        return "deploy"
    if running == want.version:
        return "in-sync"
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
