"""The pydantic models behind ``annotations``: imported only when a file needs validating.

Validated with pydantic the way GTO validates them, so a file GTO rejects is rejected here.
Importing pydantic costs more than reading a registry of ten thousand tags, so
``gitops.registry.annotations`` imports this module only when a ``.gto``, ``artifacts.yaml`` or
``dvc.yaml`` is actually there.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gitops.registry.tags import is_valid_name

GTO_CONFIG_FILE = ".gto"
DEFAULT_INDEX = "artifacts.yaml"


def check_names(values: list[str] | None) -> list[str] | None:
    for value in values or []:
        if not is_valid_name(value):
            raise ValueError(
                f"invalid name {value!r}: use letters, digits, '-', '_', '/', "
                "starting and ending with a letter or digit"
            )
    return values


class GtoConfigModel(BaseModel):
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

    _valid_stages = field_validator("stages", "types")(check_names)


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
            check_names([value])
        return value

    _labels = field_validator("labels")(check_names)


class DvcArtifact(BaseModel):
    """An entry of a ``dvc.yaml`` ``artifacts:`` section (DVC's schema)."""

    model_config = ConfigDict(extra="forbid")

    path: str
    type: str | None = None
    desc: str | None = None
    labels: list[str] = Field(default_factory=list)
    meta: dict[str, Any] = Field(default_factory=dict)
