"""Registry annotations: the ``.gto`` config, ``artifacts.yaml`` and DVC's ``dvc.yaml`` artifacts.

Validated with pydantic the way GTO validates them (``annotation_models``), so a file GTO rejects
is rejected here, with the file name and line in the message instead of GTO's bare "Wrong config
file". pydantic and yaml are imported only when such a file exists: most registries have none,
and the imports cost more than reading ten thousand tags.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from gitops.registry.annotation_models import ArtifactAnnotation, DvcArtifact

GTO_CONFIG_FILE = ".gto"
DEFAULT_INDEX = "artifacts.yaml"


def __getattr__(name: str) -> Any:
    """``ArtifactAnnotation`` and ``DvcArtifact`` (pydantic models) on first use."""
    if name in ("ArtifactAnnotation", "DvcArtifact"):
        from gitops.registry import annotation_models

        return getattr(annotation_models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class GtoConfig(NamedTuple):
    """``.gto``: allowed stages and types, and the annotation file's name (validated, when the
    file exists, by ``annotation_models.GtoConfigModel``: same fields and defaults)."""

    stages: list[str] | None = None
    types: list[str] | None = None
    enrichments: Sequence[dict[str, Any]] = ()
    autoload_enrichments: bool = True
    index: str = DEFAULT_INDEX
    config_file_name: str | None = GTO_CONFIG_FILE
    log_level: str = "INFO"
    debug: bool = False
    emojis: bool = True


def read_gto_config(root: Path) -> GtoConfig:
    """``.gto`` from the work tree (GTO reads it there, not from a commit); ``GTO_INDEX`` wins."""
    path = root / GTO_CONFIG_FILE
    config = GtoConfig()
    if path.is_file():
        from gitops.registry.annotation_models import GtoConfigModel
        from gitops.yamlfile import YamlFileError, load_gto_yaml

        doc = load_gto_yaml(path.read_bytes(), GTO_CONFIG_FILE)
        data = doc.data or {}  # GTO: `yaml.load(file) or {}`
        if not isinstance(data, dict):
            raise YamlFileError(GTO_CONFIG_FILE, 1, "must be a mapping of settings")
        # GTO's settings are case-insensitive: `index:` and `INDEX:` both set the index file;
        # given twice in two spellings, the first one wins (pydantic-settings).
        upper = {"INDEX", "CONFIG_FILE_NAME", "LOG_LEVEL", "DEBUG", "EMOJIS"}
        normalized: dict[str, Any] = {}
        for k, v in data.items():
            normalized.setdefault(str(k).upper() if str(k).upper() in upper else str(k).lower(), v)
        model = doc.validate(GtoConfigModel, normalized)
        config = GtoConfig(**{name: getattr(model, name) for name in GtoConfig._fields})
    if os.environ.get("GTO_INDEX"):
        config = config._replace(index=os.environ["GTO_INDEX"])
    return config


def parse_artifacts_yaml(content: bytes, where: str) -> dict[str, ArtifactAnnotation]:
    """``artifacts.yaml`` -> {artifact name: annotation}; ``where`` names the file in errors.

    Read as GTO reads it (ruamel.yaml, YAML 1.2: ``load_gto_yaml``) and refused where GTO
    refuses it (``Index.read_state``: pydantic ``Dict[str, Artifact]``, then the names). GTO then
    fails every command with "artifacts.yaml file doesn't conform to GTO format"; so do we, but
    naming the file, commit and line.
    """
    from gitops.registry.annotation_models import ArtifactAnnotation
    from gitops.registry.tags import is_valid_name
    from gitops.yamlfile import YamlFileError, load_gto_yaml

    doc = load_gto_yaml(content, where)
    if not isinstance(doc.data, dict):
        raise YamlFileError(where, 1, "must be a mapping of artifact names to annotations")
    result: dict[str, ArtifactAnnotation] = {}
    for name, entry in doc.data.items():
        if not isinstance(name, str) or not is_valid_name(name):
            raise YamlFileError(where, doc.line_of((name,)), f"invalid artifact name {name!r}")
        if not isinstance(entry, dict):
            # `name:` alone is null, not an empty annotation: GTO refuses the whole file.
            found = "nothing (null)" if entry is None else f"a {type(entry).__name__}"
            raise YamlFileError(
                where,
                doc.line_of((name,)),
                f"{name}: an annotation must be a mapping, found {found}; "
                "GTO refuses the whole file",
                hint=f"write `{name}: {{}}` for an artifact without annotations",
            )
        result[name] = doc.validate(ArtifactAnnotation, entry, (name,))
    return result


def read_dvc_artifacts(root: Path, subdir: str = "") -> dict[str, DvcArtifact]:
    """Artifacts declared in ``<subdir>/dvc.yaml``, keyed by name as users write it.

    An artifact ``model`` in ``dir/dvc.yaml`` is ``dir:model`` (tag prefix ``dir=model``).
    """
    rel = f"{subdir}/dvc.yaml" if subdir else "dvc.yaml"
    path = root / rel
    if not path.is_file():
        return {}
    from gitops.registry.annotation_models import DvcArtifact
    from gitops.yamlfile import YamlFileError, load_gto_yaml

    doc = load_gto_yaml(path.read_bytes(), rel)  # DVC reads it with ruamel.yaml too
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
