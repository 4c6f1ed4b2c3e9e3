"""``gitops.yaml``: which environment serves which registry stage, and how it is deployed.

Optional: without the file, stage moves are still reported and nothing is deployed. Every error
names the file and line (pydantic + our line-aware YAML loader). ``gitops schema`` prints the
JSON Schema of this file for editors.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gitops.registry.tags import is_valid_fullname, is_valid_name
from gitops.yamlfile import YamlFileError, load_yaml

DEFAULT_CONFIG = "gitops.yaml"
ENV_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HealthCheck(_Strict):
    """After a deploy: an HTTP URL that must answer 2xx, and/or a command that must exit 0."""

    http: str | None = None
    command: list[str] | None = None
    retries: int = Field(3, ge=0, le=100)
    interval: float = Field(2.0, ge=0)  # seconds between tries
    timeout: float = Field(30.0, gt=0)  # seconds per try

    @field_validator("http")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("command")
    @classmethod
    def _argv(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not value:
            raise ValueError("must be a non-empty argv list, e.g. [./check.sh, --fast]")
        return value


class Environment(_Strict):
    """One place a model runs, driven by one registry stage."""

    stage: str
    artifacts: list[str] | None = None  # default: every artifact of type `model`
    deploy: dict[str, Any] = Field(default_factory=lambda: {"driver": "local"})
    health: HealthCheck | None = None
    on_failure: Literal["rollback", "stop"] = "rollback"
    after: list[str] = Field(default_factory=list)
    timeout: float = Field(600.0, gt=0)  # seconds one deploy may take
    prune: bool = False  # remove what the stage no longer holds (off by default, as Argo CD)

    @field_validator("stage")
    @classmethod
    def _stage_is_a_name(cls, value: str) -> str:
        if not is_valid_name(value):
            raise ValueError(f"{value!r} is not a valid GTO stage name")
        return value

    @field_validator("artifacts")
    @classmethod
    def _artifacts_are_names(cls, value: list[str] | None) -> list[str] | None:
        for name in value or []:
            if not is_valid_fullname(name):
                raise ValueError(f"{name!r} is not a valid GTO artifact name")
        return value

    @field_validator("deploy")
    @classmethod
    def _deploy_names_a_driver(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(value.get("driver"), str):
            raise ValueError("needs `driver:` (local, command, webhook or manifest)")
        return value


class StateSettings(_Strict):
    """Where live state is kept: a JSON file (local runs) or a branch (CI: the audit log)."""

    store: Literal["auto", "file", "branch"] = "auto"  # auto: branch in CI, file elsewhere
    dir: str = ".gitops/state"  # the file store: one <environment>.json each
    branch: str = "gitops/state"
    remote: str = "origin"
    history: int = Field(20, ge=0)  # deployments remembered per environment and artifact
    forge_records: bool = True  # also write GitHub/GitLab deployment records (Environments view)


class GitopsConfig(_Strict):
    environments: dict[str, Environment] = Field(default_factory=dict)
    state: StateSettings = Field(default_factory=StateSettings)
    parallelism: int = Field(4, ge=1, le=256)  # environments deployed at once
    reports: dict[str, Any] = Field(default_factory=dict)
    policies: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _after_names_environments(self) -> GitopsConfig:
        for name in self.environments:
            if not ENV_NAME.fullmatch(name):
                raise ValueError(
                    f"environment name {name!r}: use letters, digits, '.', '_' and '-' "
                    "(it names a state file)"
                )
        for name, env in self.environments.items():
            for other in env.after:
                if other not in self.environments:
                    raise ValueError(f"environments.{name}.after: no environment named {other!r}")
        _check_acyclic(self.environments)
        return self

    def environments_for(self, stage: str) -> list[str]:
        return [name for name, env in self.environments.items() if env.stage == stage]


def _check_acyclic(environments: dict[str, Environment]) -> None:
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = " -> ".join([*trail[trail.index(name) :], name])
            raise ValueError(f"`after:` makes a cycle: {cycle}")
        state[name] = 1
        for other in environments[name].after:
            visit(other, [*trail, name])
        state[name] = 2

    for name in environments:
        visit(name, [])


def load_config(root: Path, relpath: str = DEFAULT_CONFIG) -> GitopsConfig | None:
    """The config at ``root/relpath``; ``None`` when the file does not exist."""
    path = root / relpath
    if not path.is_file():
        return None
    doc = load_yaml(path.read_bytes(), relpath)
    if doc.data is None:
        return GitopsConfig()
    if not isinstance(doc.data, dict):
        raise YamlFileError(relpath, 1, "must be a mapping with `environments:`")
    config = doc.validate(GitopsConfig)
    from gitops.deploy.drivers import registry as drivers

    for name, env in config.environments.items():
        drivers.validate_settings(env.deploy, doc, ("environments", name, "deploy"))
    return config


def json_schema() -> dict[str, Any]:
    """JSON Schema of gitops.yaml, for editors (yaml-language-server) and docs."""
    schema = GitopsConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "gitops.yaml"
    return schema
