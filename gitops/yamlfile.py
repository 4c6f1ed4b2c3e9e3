"""YAML loading that remembers where every value came from, for errors with file and line.

Two readers: ``load_yaml`` (PyYAML, for gitops' own files) and ``load_gto_yaml`` (ruamel.yaml
as GTO reads it, for ``artifacts.yaml``, ``.gto`` and ``dvc.yaml``). They, and pydantic, are
imported when a file is read or validated, not with this module: many modules need
``YamlFileError``, and most runs read no YAML file the slow way (annotation files usually go
through ``gitops.yaml12_fast``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from gitops.errors import UsageError

if TYPE_CHECKING:
    import yaml
    from pydantic import BaseModel
    from ruamel.yaml import YAML

M = TypeVar("M", bound="BaseModel")


@functools.cache
def _loader() -> type[yaml.SafeLoader]:
    """Safe loader with YAML 1.2 booleans: ``yes``/``no``/``on``/``off`` stay strings."""
    import re

    import yaml

    class _Loader(yaml.SafeLoader):
        pass

    _Loader.yaml_implicit_resolvers = {
        key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
        for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    _Loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool",
        re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        list("tTfF"),
    )
    return _Loader


class YamlFileError(UsageError):
    def __init__(self, file: str, line: int | None, message: str, hint: str = "") -> None:
        self.file, self.line, self.detail, self.hint = file, line, message, hint
        where = f"{file}:{line}" if line else file
        text = f"{where}: {message}"
        if hint:
            text += f"\n  hint: {hint}"
        super().__init__(text)


class YamlDocument:
    """Parsed data plus the line of each value, keyed by its path (``("a", 0, "b")``)."""

    def __init__(self, file: str, data: Any, lines: dict[tuple, int] | None = None) -> None:
        self.file, self.data = file, data
        self.lines: dict[tuple, int] = {} if lines is None else lines

    def __repr__(self) -> str:
        return f"YamlDocument(file={self.file!r}, data={self.data!r})"

    def line_of(self, path: tuple) -> int | None:
        """Line of the value at ``path``, or of its nearest parent that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)

    def validate(self, model: type[M], data: Any = None, base: tuple = ()) -> M:
        """Validate with pydantic; the first error becomes a message with file and line."""
        from pydantic import ValidationError

        value = self.data if data is None else data
        try:
            return model.model_validate(value)
        except ValidationError as exc:
            from gitops.yamlerrors import describe

            where, message, hint = describe(model, value, exc.errors())
            path = base + where
            dotted = ".".join(str(p) for p in path) or "(top level)"
            line = self.line_of(path)
            raise YamlFileError(self.file, line, f"{dotted}: {message}", hint) from None


def _walk(
    node: Any,
    path: tuple,
    lines: dict[tuple, int],
    file: str,
    check_duplicates: bool = True,
    ancestors: tuple[Any, ...] = (),
    walked: set[int] | None = None,
) -> None:
    """Record the line of every path; with ``walked``, an aliased node's inside only once (its
    lines are those of the anchor), so that nested aliases cannot make the walk exponential.
    The nodes are PyYAML's or ruamel's: both have ``id``, ``value`` and ``start_mark``."""
    lines[path] = node.start_mark.line + 1
    if any(node is a for a in ancestors):
        return  # an alias to an enclosing node (`a: &x [*x]`): its lines are already known
    if walked is not None:
        if id(node) in walked:
            return
        walked.add(id(node))
    ancestors = (*ancestors, node)
    if node.id == "mapping":
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            # a key is known by its text; a collection key (`? [a, b]`) by None
            key = key_node.value if key_node.id == "scalar" else None
            if check_duplicates and key is not None and key in seen:
                raise YamlFileError(file, key_node.start_mark.line + 1, f"duplicate key {key!r}")
            seen.add(key)
            _walk(value_node, (*path, key), lines, file, check_duplicates, ancestors, walked)
            lines[(*path, key)] = key_node.start_mark.line + 1
    elif node.id == "sequence":
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), lines, file, check_duplicates, ancestors, walked)


@contextmanager
def _yaml_errors(
    file: str, marked: type[Exception], other: type[Exception], unmarked: tuple = ()
) -> Iterator[None]:
    """A YAML library's errors (``marked``: with ``problem_mark``; ``other``: its base class;
    ``unmarked``: Python errors it fails with) as ``YamlFileError`` with the file and line."""
    try:
        yield
    except RecursionError:
        raise YamlFileError(file, None, "invalid YAML: nested too deeply") from None
    except marked as exc:
        mark = exc.problem_mark or exc.context_mark  # type: ignore[attr-defined]
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc  # type: ignore[attr-defined]
        raise YamlFileError(file, line, f"invalid YAML: {problem}") from None
    except (other, *unmarked) as exc:
        raise YamlFileError(file, None, f"invalid YAML: {exc}") from None


def load_yaml(text: str | bytes, file: str) -> YamlDocument:
    """Parse one YAML document; syntax errors carry the file and line."""
    import yaml

    with _yaml_errors(file, yaml.MarkedYAMLError, yaml.YAMLError):
        node = yaml.compose(text, Loader=_loader())
        data = yaml.load(text, Loader=_loader()) if node is not None else None
    lines: dict[tuple, int] = {}
    if node is not None:
        _walk(node, (), lines, file)
    return YamlDocument(file=file, data=data, lines=lines)


@functools.cache
def _gto_constructor() -> type:
    """ruamel's safe constructor, keeping the document's node (for the lines) and failing as a
    YAML error at the value's line where ruamel fails with a Python error (``2024-13-01``:
    ValueError; ``!!int ''``: IndexError). The values are ruamel's own."""
    from ruamel.yaml.constructor import ConstructorError, DuplicateKeyError, SafeConstructor
    from ruamel.yaml.error import YAMLError

    class GtoConstructor(SafeConstructor):
        document_node: Any = None

        def check_mapping_key(
            self, node: Any, key_node: Any, mapping: Any, key: Any, value: Any
        ) -> bool:
            """ruamel's check; its message (both values, however long) as one short line."""
            try:
                return bool(super().check_mapping_key(node, key_node, mapping, key, value))
            except DuplicateKeyError:
                raise ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                ) from None

        def construct_document(self, node: Any) -> Any:
            self.document_node = node
            return super().construct_document(node)

        def construct_object(self, node: Any, deep: bool = False) -> Any:
            try:
                return super().construct_object(node, deep=deep)
            except (YAMLError, RecursionError):
                raise
            except Exception as exc:  # any error ruamel lets through
                what = repr(node.value) if node.id == "scalar" else f"a {node.id}"
                raise ConstructorError(
                    None, None, f"cannot read {what} as {node.tag}: {exc}", node.start_mark
                ) from None

    return GtoConstructor


def gto_yaml() -> YAML:
    """A loader as GTO 1.10.1's (``gto/config.py``: ``YAML(typ="safe", pure=True)``), one per
    file: GTO's one shared object keeps a ``%YAML 1.1`` directive for the files read after."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.Constructor = _gto_constructor()
    return yaml


def load_gto_yaml(text: str | bytes, file: str) -> YamlDocument:
    """Parse one YAML document with ruamel.yaml, as GTO (and DVC) read it: for the files they
    read, ``artifacts.yaml``, ``.gto`` and ``dvc.yaml`` (YAML 1.2: ``yes`` is a string, ``1e3``
    a float, a key given twice an error, found after construction as ruamel finds it)."""
    import warnings

    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    yaml = gto_yaml()
    # ruamel also fails with Python errors: AssertionError on `%YAML 1.3`, TypeError on a
    # list in a tuple key... (GTO: "Unexpected error"); the values are marked by the constructor
    with _yaml_errors(file, MarkedYAMLError, YAMLError, (Exception,)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ruamel warns on a YAML 1.1 `1e3` (no dot)
            data = yaml.load(text)
    lines: dict[tuple, int] = {}
    node = yaml.constructor.document_node
    if node is not None:
        _walk(node, (), lines, file, check_duplicates=False, walked=set())
    return YamlDocument(file=file, data=data, lines=lines)
