"""Registry annotations: the ``.gto`` config, ``artifacts.yaml`` and DVC's ``dvc.yaml`` artifacts.

Read as GTO reads them: YAML with ruamel's rules, validated the way GTO's pydantic models
validate them (``annotation_models``), so a file GTO rejects is rejected here, with the file name
and line in the message instead of GTO's bare "Wrong config file".

Annotation files are read often (``artifacts.yaml`` at every version's commit) and are nearly
always simple: such files are read by ``gitops.yaml12_fast`` and checked field by field, with the
same answers; PyYAML and pydantic are imported only for the others (and for ``.gto``), since the
imports alone cost more than reading ten thousand tags.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from gitops.registry.tags import is_valid_name

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
        content = path.read_bytes()
        config = _read_gto_quick(content) or _read_gto_full(content)
    if os.environ.get("GTO_INDEX"):
        config = config._replace(index=os.environ["GTO_INDEX"])
    return config


# GTO's settings are case-insensitive: `index:` and `INDEX:` both set the index file.
_UPPER_SETTINGS = frozenset({"INDEX", "CONFIG_FILE_NAME", "LOG_LEVEL", "DEBUG", "EMOJIS"})
_GTO_SETTINGS = _UPPER_SETTINGS | {"stages", "types", "enrichments", "autoload_enrichments"}


def _normalized(data: dict[Any, Any]) -> dict[str, Any]:
    """Keys as ``GtoConfigModel`` takes them; given twice in two spellings, the first one wins
    (pydantic-settings)."""
    normalized: dict[str, Any] = {}
    for k, v in data.items():
        key = str(k).upper() if str(k).upper() in _UPPER_SETTINGS else str(k).lower()
        normalized.setdefault(key, v)
    return normalized


def _simple_mapping(content: bytes) -> dict[Any, Any] | None:
    """``content`` as a mapping when the quick YAML reader takes it; None: read it carefully."""
    from gitops.yaml12_fast import NotSimple, load

    try:
        data = load(content.decode("utf-8"))
    except (UnicodeDecodeError, NotSimple):
        return None
    return data if type(data) is dict else None


def _read_gto_quick(content: bytes) -> GtoConfig | None:
    """``.gto`` as ``_read_gto_full`` reads it, when it is simple YAML and every setting has
    the exact type the model wants; ``None``: let the careful way decide."""
    data = _simple_mapping(content)
    if data is None:
        return None
    settings = _normalized(data)
    if not _GTO_SETTINGS.issuperset(settings):
        return None
    get = settings.get
    stages, types, enrichments = get("stages"), get("types"), get("enrichments", [])
    flags = [get(name, True) for name in ("autoload_enrichments", "EMOJIS")] + [get("DEBUG", False)]
    index, log_level = get("INDEX", DEFAULT_INDEX), get("LOG_LEVEL", "INFO")
    config_file_name = get("CONFIG_FILE_NAME", GTO_CONFIG_FILE)
    if not (
        (stages is None or _names_ok(stages))
        and (types is None or _names_ok(types))
        and type(enrichments) is list
        and all(type(e) is dict and all(type(k) is str for k in e) for e in enrichments)
        and all(type(flag) is bool for flag in flags)
        and type(index) is str
        and type(log_level) is str
        and (config_file_name is None or type(config_file_name) is str)
    ):
        return None
    return GtoConfig(
        stages=None if stages is None else list(stages),
        types=None if types is None else list(types),
        enrichments=[dict(e) for e in enrichments],
        autoload_enrichments=flags[0],
        index=index,
        config_file_name=config_file_name,
        log_level=log_level,
        debug=flags[2],
        emojis=flags[1],
    )


def _read_gto_full(content: bytes) -> GtoConfig:
    from gitops.registry.annotation_models import GtoConfigModel
    from gitops.yamlfile import YamlFileError, load_gto_yaml

    doc = load_gto_yaml(content, GTO_CONFIG_FILE)
    data = doc.data or {}  # GTO: `yaml.load(file) or {}`
    if not isinstance(data, dict):
        raise YamlFileError(GTO_CONFIG_FILE, 1, "must be a mapping of settings")
    model = doc.validate(GtoConfigModel, _normalized(data))
    return GtoConfig(**{name: getattr(model, name) for name in GtoConfig._fields})


class Annotation:
    """An ``artifacts.yaml`` entry: ``ArtifactAnnotation``'s fields and values, in a plain object.

    A registry's ``artifacts.yaml`` has hundreds of entries at each of many commits; pydantic
    models for all of them cost more than reading ten thousand tags. ``_quick_annotation``
    takes the usual entries (every field of the type pydantic expects) and gives what
    ``ArtifactAnnotation`` would; pydantic decides the others (and words their errors).
    """

    __slots__ = ("type", "path", "virtual", "labels", "description", "custom")

    def __init__(
        self,
        type: str | None = None,  # noqa: A002 - GTO's field name
        path: str | None = None,
        virtual: bool = True,
        labels: list[str] | None = None,
        description: str = "",
        custom: Any = None,
    ) -> None:
        self.type, self.path, self.virtual = type, path, virtual
        self.labels = [] if labels is None else labels
        self.description, self.custom = description, custom

    @classmethod
    def from_model(cls, model: ArtifactAnnotation) -> Annotation:
        return cls(**{name: getattr(model, name) for name in cls.__slots__})

    def model_dump(self) -> dict[str, Any]:
        """As ``ArtifactAnnotation.model_dump()``: GTO's keys, in GTO's order."""
        return {name: getattr(self, name) for name in self.__slots__}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Annotation):
            return NotImplemented
        return self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]  # mutable, as pydantic models are

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.model_dump().items())
        return f"Annotation({fields})"


def _names_ok(values: Any) -> bool:
    """A list of valid names, exactly: what ``check_names`` passes without pydantic's help."""
    return type(values) is list and all(type(v) is str and is_valid_name(v) for v in values)


def _quick_annotation(entry: dict[Any, Any]) -> Annotation | None:
    """``ArtifactAnnotation.model_validate(entry)`` when every field is of the exact type the
    model wants (it would keep each value as it is); ``None``: let pydantic decide."""
    type_ = entry.get("type")
    path = entry.get("path")
    virtual = entry.get("virtual", True)
    labels = entry.get("labels", _NO_LABELS)
    description = entry.get("description", "")
    if not (
        (type_ is None or (type(type_) is str and (not type_ or is_valid_name(type_))))
        and (path is None or type(path) is str)
        and type(virtual) is bool
        and (labels is _NO_LABELS or _names_ok(labels))
        and type(description) is str
        and all(type(key) is str for key in entry)
    ):
        return None
    labels = [] if labels is _NO_LABELS else list(labels)
    return Annotation(type_, path, virtual, labels, description, entry.get("custom"))


_NO_LABELS: list[str] = []
_SKIP = object()  # a piece of artifacts.yaml the quick path does not take


class ArtifactsYamlReader:
    """Reads ``artifacts.yaml`` contents, remembering each top-level entry it has read.

    The file changes now and then, a few entries at a time: read at many commits, most of its
    entries are the same text as before. Each distinct entry text is read (``yaml12_fast``)
    and validated (``_quick_annotation``) once; a content with anything the quick path does not
    take is read whole the careful way (``parse_artifacts_yaml_full``), which gives the answer
    or GTO's refusal with file and line.
    """

    def __init__(self) -> None:
        self._pieces: dict[bytes, Any] = {}  # entry text -> (name, Annotation) or _SKIP

    def parse(self, content: bytes, where: str) -> dict[str, Annotation]:
        from gitops.yaml12_fast import NotSimple, split_top_level

        try:
            result: dict[str, Annotation] = {}
            known = self._pieces
            for piece in split_top_level(content):
                found = known.get(piece)
                if found is None:
                    found = known[piece] = self._read_piece(piece)
                if found is _SKIP or found[0] in result:
                    raise NotSimple
                result[found[0]] = found[1]
            return result
        except NotSimple:
            return parse_artifacts_yaml_full(content, where)

    @staticmethod
    def _read_piece(piece: bytes) -> Any:
        from gitops.yaml12_fast import NotSimple, load_entry

        try:
            name, entry = load_entry(piece.decode("utf-8"))
        except (UnicodeDecodeError, NotSimple):
            return _SKIP
        if type(name) is not str or not is_valid_name(name) or type(entry) is not dict:
            return _SKIP
        note = _quick_annotation(entry)
        return _SKIP if note is None else (name, note)


def parse_artifacts_yaml(content: bytes, where: str) -> dict[str, Annotation]:
    """``artifacts.yaml`` -> {artifact name: annotation}; ``where`` names the file in errors."""
    return ArtifactsYamlReader().parse(content, where)


def parse_artifacts_yaml_full(content: bytes, where: str) -> dict[str, Annotation]:
    """``artifacts.yaml`` read the careful way: PyYAML with ruamel's rules and pydantic.

    Read as GTO reads it (ruamel.yaml, YAML 1.2: ``load_gto_yaml``) and refused where GTO
    refuses it (``Index.read_state``: pydantic ``Dict[str, Artifact]``, then the names). GTO then
    fails every command with "artifacts.yaml file doesn't conform to GTO format"; so do we, but
    naming the file, commit and line.
    """
    from gitops.registry.annotation_models import ArtifactAnnotation
    from gitops.yamlfile import YamlFileError, load_gto_yaml

    doc = load_gto_yaml(content, where)
    if not isinstance(doc.data, dict):
        raise YamlFileError(where, 1, "must be a mapping of artifact names to annotations")
    result: dict[str, Annotation] = {}
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
        model = doc.validate(ArtifactAnnotation, entry, (name,))
        result[name] = Annotation.from_model(model)
    return result


class DvcEntry(NamedTuple):
    """An entry of a ``dvc.yaml`` ``artifacts:`` section: ``DvcArtifact``'s fields and values."""

    path: str
    type: str | None = None
    desc: str | None = None
    labels: list[str] = []  # noqa: RUF012 - never changed, as DvcArtifact's
    meta: dict[str, Any] = {}  # noqa: RUF012

    @classmethod
    def from_model(cls, model: DvcArtifact) -> DvcEntry:
        return cls(**{name: getattr(model, name) for name in cls._fields})


_DVC_FIELDS = frozenset(DvcEntry._fields)


def _quick_dvc(entry: Any) -> DvcEntry | None:
    """``DvcArtifact.model_validate(entry)`` when every field has the exact type the model wants;
    ``None``: let pydantic decide (and word the error)."""
    if type(entry) is not dict or not _DVC_FIELDS.issuperset(entry):
        return None
    path = entry.get("path")
    type_, desc = entry.get("type"), entry.get("desc")
    labels, meta = entry.get("labels", _NO_LABELS), entry.get("meta", _NO_META)
    if not (
        type(path) is str
        and (type_ is None or type(type_) is str)
        and (desc is None or type(desc) is str)
        and type(labels) is list
        and all(type(label) is str for label in labels)
        and type(meta) is dict
        and all(type(key) is str for key in meta)
    ):
        return None
    return DvcEntry(path, type_, desc, list(labels), dict(meta))


_NO_META: dict[str, Any] = {}
# dvc.yaml files read by this process: path -> (content, artifacts), read again if changed
_DVC_READ: dict[Path, tuple[bytes, dict[str, DvcEntry]]] = {}


def read_dvc_artifacts(root: Path, subdir: str = "") -> dict[str, DvcEntry]:
    """Artifacts declared in ``<subdir>/dvc.yaml``, keyed by name as users write it.

    An artifact ``model`` in ``dir/dvc.yaml`` is ``dir:model`` (tag prefix ``dir=model``).
    A file is parsed once per content, however many artifacts are looked up in it.
    """
    rel = f"{subdir}/dvc.yaml" if subdir else "dvc.yaml"
    path = root / rel
    try:
        content = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return {}
    known = _DVC_READ.get(path)
    if known is not None and known[0] == content:
        return known[1]
    found = _read_dvc_quick(content, subdir)
    if found is None:
        found = _read_dvc_full(content, rel, subdir)
    _DVC_READ[path] = (content, found)
    return found


def _read_dvc_quick(content: bytes, subdir: str) -> dict[str, DvcEntry] | None:
    data = _simple_mapping(content)
    if data is None:
        return None
    section = data.get("artifacts") or {}
    if type(section) is not dict:
        return None
    prefix = f"{subdir}:" if subdir else ""
    result: dict[str, DvcEntry] = {}
    for name, entry in section.items():
        quick = _quick_dvc(entry)
        if quick is None:
            return None
        result[f"{prefix}{name}"] = quick
    return result


def _read_dvc_full(content: bytes, rel: str, subdir: str) -> dict[str, DvcEntry]:
    from gitops.registry.annotation_models import DvcArtifact
    from gitops.yamlfile import YamlFileError, load_gto_yaml

    doc = load_gto_yaml(content, rel)  # DVC reads it with ruamel.yaml too
    if doc.data is None:
        return {}
    if not isinstance(doc.data, dict):
        raise YamlFileError(rel, 1, "must be a mapping")
    section = doc.data.get("artifacts") or {}
    if not isinstance(section, dict):
        raise YamlFileError(rel, doc.line_of(("artifacts",)), "artifacts: must be a mapping")
    prefix = f"{subdir}:" if subdir else ""
    return {
        f"{prefix}{name}": DvcEntry.from_model(
            doc.validate(DvcArtifact, entry or {}, ("artifacts", name))
        )
        for name, entry in section.items()
    }


def find_dvc_artifact(root: Path, fullname: str) -> DvcEntry | None:
    """The ``dvc.yaml`` entry for ``name`` or ``dir:name`` in the work tree, if any."""
    subdir, _, name = fullname.rpartition(":")
    return read_dvc_artifacts(root, subdir).get(fullname if subdir else name)
