"""``gitops.yaml``: which environment serves which registry stage, and how it is deployed.

Optional: without the file, stage moves are still reported and nothing is deployed. Every error
names the file and line (pydantic + our line-aware YAML loader). ``gitops schema`` prints the
JSON Schema of this file for editors.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from gitops.deploy.drivers.settings import DeploySettings, LocalSettings, needs_driver
from gitops.promote.settings import StagePolicy
from gitops.registry.tags import is_valid_fullname, is_valid_name
from gitops.report.settings import ReportSettings
from gitops.yamlerrors import FieldError
from gitops.yamlfile import YamlDocument, YamlFileError, load_yaml

DEFAULT_CONFIG = "gitops.yaml"
ENV_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HealthCheck(_Strict):
    """After a deploy: an HTTP URL that must answer 2xx, and/or a command that must exit 0."""

    http: str | None = Field(
        None, description="An http:// or https:// URL that must answer 2xx (redirects fail)."
    )
    command: list[str] | None = Field(
        None,
        description="A command (argv list) that must exit 0; it gets the deploy's GITOPS_* "
        "variables.",
    )
    retries: int = Field(3, ge=0, le=100, description="Tries after the first before giving up.")
    interval: float = Field(2.0, ge=0, description="Seconds between two tries.")
    timeout: float = Field(30.0, gt=0, description="Seconds one try may take.")

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

    stage: str = Field(
        description="The registry stage this environment runs: a stage .gto allows, or one a "
        "tag has used."
    )
    allow_unknown_stage: bool = Field(
        False,
        description="Accept a `stage` no tag has used yet (a new stage): a warning on every "
        "run instead of an error. Never accepts a stage .gto does not allow.",
    )
    artifacts: list[str] | None = Field(
        None,
        description="The artifacts deployed here, each one the registry knows; default: every "
        "artifact of type `model`.",
    )
    deploy: DeploySettings = Field(
        default_factory=LocalSettings,
        description="How a version is deployed: `driver` picks local, command, webhook, "
        "manifest or noop, and the other keys are that driver's settings.",
    )
    health: HealthCheck | None = Field(
        None, description="A check after each deploy; failing it counts as a failed deploy."
    )
    on_failure: Literal["rollback", "stop"] = Field(
        "rollback",
        description="After a failed deploy or health check: rollback (deploy the previous "
        "version again) or stop (leave it as it is).",
    )
    after: list[str] = Field(
        default_factory=list,
        description="Environments a version must be live and healthy in before it comes here.",
    )
    timeout: float = Field(600.0, gt=0, description="Seconds one deploy may take.")
    prune: bool = Field(
        False,
        description="Remove what the stage no longer holds (off by default, as in Argo CD).",
    )

    @field_validator("stage")
    @classmethod
    def _stage_is_a_name(cls, value: str) -> str:
        if not is_valid_name(value):
            raise ValueError(f"{value!r} is not a valid GTO stage name")
        return value

    @field_validator("artifacts")
    @classmethod
    def _artifacts_are_names(cls, value: list[str] | None) -> list[str] | None:
        for i, name in enumerate(value or []):
            if not is_valid_fullname(name):
                raise FieldError((i,), f"{name!r} is not a valid GTO artifact name")
        return value

    _deploy_names_a_driver = field_validator("deploy", mode="before")(needs_driver)


class StateSettings(_Strict):
    """Where live state is kept: a JSON file (local runs) or a branch (CI: the audit log)."""

    store: Literal["auto", "file", "branch"] = Field(
        "auto", description="auto: the branch in CI, files elsewhere."
    )
    dir: str = Field(
        ".gitops/state", description="The file store's directory: one <environment>.json each."
    )
    branch: str = Field(
        "gitops/state", description="The branch store's branch: one commit per change."
    )
    remote: str = Field("origin", description="The remote the branch store fetches and pushes.")
    history: int = Field(
        20, ge=0, description="Deployments remembered per environment and artifact."
    )
    forge_records: bool = Field(
        True,
        description="Also write GitHub/GitLab deployment records (the Environments view).",
    )


class GitopsConfig(_Strict):
    """gitops.yaml: the environments, where their live state is kept, and how many deploy at
    once."""

    environments: dict[str, Environment] = Field(
        default_factory=dict,
        description="Environment name (letters, digits, '.', '_', '-') -> its settings.",
        json_schema_extra={"propertyNames": {"pattern": f"^{ENV_NAME.pattern}$"}},
    )
    state: StateSettings = Field(
        default_factory=StateSettings, description="Where live state is kept."
    )
    parallelism: int = Field(4, ge=1, le=256, description="Environments deployed at once.")
    reports: ReportSettings = Field(
        default_factory=ReportSettings,
        description="Metric-diff reports: files, directions, gates, template.",
    )
    policies: dict[str, StagePolicy] | None = Field(
        default_factory=dict,
        description="Registry stage -> the rules a version must meet to enter it.",
    )
    _doc: YamlDocument | None = PrivateAttr(None)  # the file it came from: lines for errors

    @field_validator("policies")
    @classmethod
    def _no_policies(cls, value: dict[str, StagePolicy] | None) -> dict[str, StagePolicy]:
        return {} if value is None else value  # `policies:` left empty: none

    @model_validator(mode="after")
    def _after_names_environments(self) -> GitopsConfig:
        for name in self.environments:
            if not ENV_NAME.fullmatch(name):
                raise FieldError(
                    ("environments", name),
                    f"environment name {name!r}: use letters, digits, '.', '_' and '-' "
                    "(it names a state file)",
                )
        for name, env in self.environments.items():
            for i, other in enumerate(env.after):
                if other not in self.environments:
                    raise FieldError(
                        ("environments", name, "after", i),
                        f"no environment named {other!r}",
                    )
        cycle = _find_cycle(self.environments)
        if cycle:
            raise FieldError(
                ("environments", cycle[0], "after"), f"`after:` makes a cycle: {' -> '.join(cycle)}"
            )
        return self

    def environments_for(self, stage: str) -> list[str]:
        return [name for name, env in self.environments.items() if env.stage == stage]

    def line_of(self, path: tuple) -> tuple[str, int | None]:
        """(file, line) of the value at ``path`` (``("environments", "prod", "stage")``):
        for errors found after loading; no line for a config not read from a file."""
        if self._doc is None:
            return DEFAULT_CONFIG, None
        return self._doc.file, self._doc.line_of(path)


def _find_cycle(environments: dict[str, Environment]) -> list[str]:
    """A cycle of ``after:`` as [a, b, ..., a], or []."""
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(name: str, trail: list[str]) -> list[str]:
        if state.get(name) == 2:
            return []
        if state.get(name) == 1:
            return [*trail[trail.index(name) :], name]
        state[name] = 1
        for other in environments[name].after:
            cycle = visit(other, [*trail, name])
            if cycle:
                return cycle
        state[name] = 2
        return []

    for name in environments:
        cycle = visit(name, [])
        if cycle:
            return cycle
    return []


def load_config(root: Path, relpath: str = DEFAULT_CONFIG) -> GitopsConfig | None:
    """The config at ``root/relpath``; ``None`` when the file does not exist."""
    path = root / relpath
    if not path.is_file():
        return None
    doc = load_yaml(path.read_bytes(), relpath)
    if doc.data is None:
        config = GitopsConfig()
    elif not isinstance(doc.data, dict):
        raise YamlFileError(relpath, 1, "must be a mapping with `environments:`")
    else:
        config = doc.validate(GitopsConfig)
    config._doc = doc
    return config


def json_schema() -> dict[str, Any]:
    """JSON Schema of gitops.yaml, for editors (yaml-language-server) and docs."""
    schema = GitopsConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "gitops.yaml"
    return schema
