"""YAML loading that remembers where every value came from, for errors with file and line."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from gitops.errors import UsageError

M = TypeVar("M", bound=BaseModel)


class _Loader(yaml.SafeLoader):
    """Safe loader with YAML 1.2 booleans: ``yes``/``no``/``on``/``off`` stay strings."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


class YamlFileError(UsageError):
    def __init__(self, file: str, line: int | None, message: str, hint: str = "") -> None:
        self.file, self.line, self.detail, self.hint = file, line, message, hint
        where = f"{file}:{line}" if line else file
        text = f"{where}: {message}"
        if hint:
            text += f"\n  hint: {hint}"
        super().__init__(text)


@dataclass
class YamlDocument:
    """Parsed data plus the line of each value, keyed by its path (``("a", 0, "b")``)."""

    file: str
    data: Any
    lines: dict[tuple, int] = field(default_factory=dict)

    def line_of(self, path: tuple) -> int | None:
        """Line of the value at ``path``, or of its nearest parent that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)

    def validate(self, model: type[M], data: Any = None, base: tuple = ()) -> M:
        """Validate with pydantic; the first error becomes a message with file and line."""
        try:
            return model.model_validate(self.data if data is None else data)
        except ValidationError as exc:
            err = exc.errors()[0]
            path = base + tuple(err["loc"])
            dotted = ".".join(str(p) for p in path) or "(top level)"
            raise YamlFileError(self.file, self.line_of(path), f"{dotted}: {err['msg']}") from None


def _walk(node: yaml.Node, path: tuple, lines: dict[tuple, int], file: str) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                raise YamlFileError(file, key_node.start_mark.line + 1, f"duplicate key {key!r}")
            seen.add(key)
            _walk(value_node, (*path, key), lines, file)
            lines[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), lines, file)


def load_yaml(text: str | bytes, file: str) -> YamlDocument:
    """Parse one YAML document; syntax errors carry the file and line."""
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise YamlFileError(file, line, f"invalid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise YamlFileError(file, None, f"invalid YAML: {exc}") from None
    lines: dict[tuple, int] = {}
    if node is not None:
        _walk(node, (), lines, file)
    return YamlDocument(file=file, data=data, lines=lines)
