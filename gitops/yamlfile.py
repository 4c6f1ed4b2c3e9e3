"""YAML loading that remembers where every value came from, for errors with file and line.

PyYAML and pydantic are imported when a file is read or validated, not with this module: many
modules need ``YamlFileError``, and most runs read no YAML file the slow way (annotation files
usually go through ``gitops.yaml12_fast``).
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
    node: yaml.Node,
    path: tuple,
    lines: dict[tuple, int],
    file: str,
    check_duplicates: bool = True,
    ancestors: tuple[yaml.Node, ...] = (),
    walked: set[int] | None = None,
) -> None:
    """Record the line of every path; with ``walked``, an aliased node's inside only once (its
    lines are those of the anchor), so that nested aliases cannot make the walk exponential."""
    import yaml

    lines[path] = node.start_mark.line + 1
    if any(node is a for a in ancestors):
        return  # an alias to an enclosing node (`a: &x [*x]`): its lines are already known
    if walked is not None:
        if id(node) in walked:
            return
        walked.add(id(node))
    ancestors = (*ancestors, node)
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            # a key is known by its text; a collection key (`? [a, b]`) by None
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if check_duplicates and key is not None and key in seen:
                raise YamlFileError(file, key_node.start_mark.line + 1, f"duplicate key {key!r}")
            seen.add(key)
            _walk(value_node, (*path, key), lines, file, check_duplicates, ancestors, walked)
            lines[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), lines, file, check_duplicates, ancestors, walked)


@contextmanager
def _yaml_errors(file: str) -> Iterator[None]:
    """PyYAML's errors as ``YamlFileError`` with the file and, when known, the line."""
    import yaml

    try:
        yield
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise YamlFileError(file, line, f"invalid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise YamlFileError(file, None, f"invalid YAML: {exc}") from None
    except RecursionError:
        raise YamlFileError(file, None, "invalid YAML: nested too deeply") from None


def load_yaml(text: str | bytes, file: str) -> YamlDocument:
    """Parse one YAML document; syntax errors carry the file and line."""
    import yaml

    with _yaml_errors(file):
        node = yaml.compose(text, Loader=_loader())
        data = yaml.load(text, Loader=_loader()) if node is not None else None
    lines: dict[tuple, int] = {}
    if node is not None:
        _walk(node, (), lines, file)
    return YamlDocument(file=file, data=data, lines=lines)


def load_gto_yaml(text: str | bytes, file: str) -> YamlDocument:
    """Parse one YAML document exactly as GTO's ruamel.yaml does (YAML 1.2, ``gitops.yaml12``):
    for the files GTO (or DVC) reads, ``artifacts.yaml``, ``.gto`` and ``dvc.yaml``.

    Duplicate keys are found by the loader, after construction, as ruamel finds them.
    """
    from gitops.yaml12 import GtoLoader

    lines: dict[tuple, int] = {}
    with _yaml_errors(file):
        loader = GtoLoader(text)
        try:
            node = loader.get_single_node()
            if node is not None:
                _walk(node, (), lines, file, check_duplicates=False, walked=set())
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    return YamlDocument(file=file, data=data, lines=lines)
