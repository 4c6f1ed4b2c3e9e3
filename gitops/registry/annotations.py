"""Registry annotations: the ``.gto`` config, ``artifacts.yaml`` and DVC's ``dvc.yaml`` artifacts.

Validated with pydantic the way GTO validates them, so a file GTO rejects is rejected here, with
the file name and line in the message instead of GTO's bare "Wrong config file".
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gitops.registry.tags import is_valid_name
from gitops.yamlfile import YamlFileError, load_yaml

GTO_CONFIG_FILE = ".gto"
DEFAULT_INDEX = "artifacts.yaml"


def _check_names(values: list[str] | None) -> list[str] | None:
    for value in values or []:
        if not is_valid_name(value):
            raise ValueError(
                f"invalid name {value!r}: use letters, digits, '-', '_', '/', "
                "starting and ending with a letter or digit"
            )
    return values


class GtoConfig(BaseModel):
    """``.gto``: allowed stages and types, and the annotation file's name."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    stages: list[str] | None = None
    types: list[str] | None = None
    enrichments: list[dict[str, Any]] = Field(default_factory=list)
    autoload_enrichments: bool = True
    index: str = Field(DEFAULT_INDEX, alias="INDEX")
    config_file_name: str | None = Field(GTO_CONFIG_FILE, alias="CONFIG_FILE_NAME")
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    debug: bool = Field(False, alias="DEBUG")
    emojis: bool = Field(True, alias="EMOJIS")

    _valid_stages = field_validator("stages", "types")(_check_names)


def read_gto_config(root: Path) -> GtoConfig:
    """``.gto`` from the work tree (GTO reads it there, not from a commit); ``GTO_INDEX`` wins."""
    path = root / GTO_CONFIG_FILE
    config = GtoConfig()
    if path.is_file():
        doc = load_yaml(path.read_bytes(), GTO_CONFIG_FILE)
        data = doc.data if doc.data is not None else {}
        if not isinstance(data, dict):
            raise YamlFileError(GTO_CONFIG_FILE, 1, "must be a mapping of settings")
        # GTO's settings are case-insensitive: `index:` and `INDEX:` both set the index file.
        upper = {"INDEX", "CONFIG_FILE_NAME", "LOG_LEVEL", "DEBUG", "EMOJIS"}
        normalized = {
            (str(k).upper() if str(k).upper() in upper else str(k).lower()): v
            for k, v in data.items()
        }
        config = doc.validate(GtoConfig, normalized)
    if os.environ.get("GTO_INDEX"):
        config = config.model_copy(update={"index": os.environ["GTO_INDEX"]})
    return config


class ArtifactAnnotation(BaseModel):
    """One entry of ``artifacts.yaml``; GTO dumps it with exactly these keys, in this order."""

    type: str | None = None
    path: str | None = None
    virtual: bool = True
    labels: list[str] = Field(default_factory=list)
    description: str = ""
    custom: Any = None

    @field_validator("type")
    @classmethod
    def _type_is_a_name(cls, value: str | None) -> str | None:
        if value:
            _check_names([value])
        return value

    _labels = field_validator("labels")(_check_names)


def parse_artifacts_yaml(content: bytes, where: str) -> dict[str, ArtifactAnnotation]:
    """``artifacts.yaml`` -> {artifact name: annotation}; ``where`` names the file in errors."""
    doc = load_yaml(content, where)
    if not isinstance(doc.data, dict):
        raise YamlFileError(where, 1, "must be a mapping of artifact names to annotations")
    result: dict[str, ArtifactAnnotation] = {}
    for name, entry in doc.data.items():
        if not isinstance(name, str) or not is_valid_name(name):
            raise YamlFileError(where, doc.line_of((name,)), f"invalid artifact name {name!r}")
        result[name] = doc.validate(ArtifactAnnotation, entry if entry is not None else {}, (name,))
    return result


class DvcArtifact(BaseModel):
    """An entry of a ``dvc.yaml`` ``artifacts:`` section (DVC's schema)."""

    model_config = ConfigDict(extra="forbid")

    path: str
    type: str | None = None
    desc: str | None = None
    labels: list[str] = Field(default_factory=list)
    meta: dict[str, Any] = Field(default_factory=dict)


def read_dvc_artifacts(root: Path, subdir: str = "") -> dict[str, DvcArtifact]:
    """Artifacts declared in ``<subdir>/dvc.yaml``, keyed by name as users write it.

    An artifact ``model`` in ``dir/dvc.yaml`` is ``dir:model`` (tag prefix ``dir=model``).
    """
    rel = f"{subdir}/dvc.yaml" if subdir else "dvc.yaml"
    path = root / rel
    if not path.is_file():
        return {}
    doc = load_yaml(path.read_bytes(), rel)
    if doc.data is None:
        return {}
    if not isinstance(doc.data, dict):
        raise YamlFileError(rel, 1, "must be a mapping")
    section = doc.data.get("artifacts") or {}
    if not isinstance(section, dict):
        raise YamlFileError(rel, doc.line_of(("artifacts",)), "artifacts: must be a mapping")
    prefix = f"{subdir}:" if subdir else ""
    return {
        f"{prefix}{name}": doc.validate(DvcArtifact, entry or {}, ("artifacts", name))
        for name, entry in section.items()
    }


def find_dvc_artifact(root: Path, fullname: str) -> DvcArtifact | None:
    """The ``dvc.yaml`` entry for ``name`` or ``dir:name`` in the work tree, if any."""
    subdir, _, name = fullname.rpartition(":")
    return read_dvc_artifacts(root, subdir).get(fullname if subdir else name)
