"""``gitops.yaml``: which environment serves which registry stage, and how it is deployed.

Optional: without the file, stage moves are still reported and nothing is deployed. Every error
names the file and line (pydantic + our line-aware YAML loader).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gitops.registry.tags import is_valid_fullname, is_valid_name
from gitops.yamlfile import YamlFileError, load_yaml

DEFAULT_CONFIG = "gitops.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Environment(_Strict):
    """One place a model runs, driven by one registry stage."""

    stage: str
    artifacts: list[str] | None = None  # default: every artifact of type `model`
    deploy: dict[str, Any] | None = None  # the driver and its settings (see the deploy docs)
    health: dict[str, Any] | None = None
    on_failure: str = "rollback"
    after: list[str] = Field(default_factory=list)
    timeout: float = 600.0

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


class GitopsConfig(_Strict):
    environments: dict[str, Environment] = Field(default_factory=dict)
    state: dict[str, Any] = Field(default_factory=dict)
    reports: dict[str, Any] = Field(default_factory=dict)
    policies: dict[str, Any] = Field(default_factory=dict)

    def environments_for(self, stage: str) -> list[str]:
        return [name for name, env in self.environments.items() if env.stage == stage]


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
    return doc.validate(GitopsConfig)
