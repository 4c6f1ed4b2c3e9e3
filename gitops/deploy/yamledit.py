"""Set values at dotted paths in a YAML file's text, keeping every other byte as it was.

Re-serialising with a YAML library loses comments, quoting and layout, and a manifest that Argo
CD or Flux watches is a file people read and review. So we only *parse* (PyYAML's composer gives
each node's start and end offset) and splice the new scalar into the original text. The new value
is written plain only when that is unambiguous in YAML 1.1 and 1.2 (Kubernetes, Helm, PyYAML),
else double-quoted with escapes: a value can never add structure. After each edit the file is
parsed again and every value but the target must be unchanged, or the edit is refused.

Paths: ``spec.predictor.model.storageUri``, ``spec.containers.0.image`` or ``containers[0]``,
``images[name=my-model].newTag`` (the list item whose ``name`` is ``my-model``), and quoted keys
for keys with dots: ``metadata.annotations."serving.kserve.io/deploymentMode"``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import yaml

from gitops.yamlfile import YamlFileError

STR = "tag:yaml.org,2002:str"
NULL = "tag:yaml.org,2002:null"


@dataclass(frozen=True)
class Select:
    """``[key=value]``: the one list item that is a mapping with ``key: value``."""

    key: str
    value: str


Step = str | int | Select  # a str of digits is a list index when the node is a list


@dataclass(frozen=True)
class Change:
    path: str
    old: str | None  # None: the key was created
    new: str
    line: int


@dataclass(frozen=True)
class EditResult:
    text: str
    changes: tuple[Change, ...]

    @property
    def changed(self) -> bool:
        return bool(self.changes)


_KEY = re.compile(r""""(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^.\[\]"'\s][^.\[\]"']*)""")
_SELECTOR = re.compile(r"\[(?:(?P<index>\d+)|(?P<key>[^=\]]+)=(?P<value>[^\]]*))\]")


def parse_path(path: str) -> tuple[Step, ...]:
    """``a.b[0]."c.d"[name=x]`` -> steps; ValueError with the reason on a malformed path."""
    steps: list[Step] = []
    pos = 0
    while True:
        start = pos
        if key := _KEY.match(path, pos):
            steps.append(next(g for g in key.group("dq", "sq", "bare") if g is not None))
            pos = key.end()
        while sel := _SELECTOR.match(path, pos):
            index = sel["index"]
            steps.append(int(index) if index else Select(sel["key"].strip(), sel["value"]))
            pos = sel.end()
        if pos == start:
            what = repr(path[pos]) if pos < len(path) else "the end"
            raise ValueError(f"bad path {path!r}: expected a key at {what} (character {pos + 1})")
        if pos == len(path):
            return tuple(steps)
        if path[pos] != ".":
            raise ValueError(f"bad path {path!r}: unexpected {path[pos]!r} at character {pos + 1}")
        pos += 1


def set_values(
    text: str,
    values: Mapping[str, str],
    *,
    file: str = "<yaml>",
    document: int | str = 0,
    create: bool = False,
) -> EditResult:
    """Set each ``path: value`` in turn; ``document`` is an index or ``Kind/name``.

    ``create``: a missing key is added under a block mapping or an empty ``key:`` (Helm values).
    Otherwise a missing path is an error: a typo must not "deploy" into a key nobody reads.
    """
    changes: list[Change] = []
    for path, value in values.items():
        try:
            steps = parse_path(path)
        except ValueError as exc:
            raise YamlFileError(file, None, str(exc)) from None
        text, change = _set_one(text, path, steps, value, file, document, create)
        if change:
            changes.append(change)
    return EditResult(text, tuple(changes))


# --- parsing and finding ------------------------------------------------------------------


def _compose(text: str, file: str) -> list[yaml.Node]:
    try:
        return list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlFileError(
            file, mark.line + 1 if mark else None, f"invalid YAML: {exc.problem}"
        ) from None
    except yaml.YAMLError as exc:
        raise YamlFileError(file, None, f"invalid YAML: {exc}") from None


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _get(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v
    return None


def _select_document(docs: list[yaml.Node], document: int | str, file: str) -> int:
    if isinstance(document, int):
        if not 0 <= document < len(docs):
            raise YamlFileError(file, None, f"has {len(docs)} document(s), no index {document}")
        return document
    kind, _, name = document.partition("/")
    hits = []
    for i, doc in enumerate(docs):
        kind_node, meta = _get(doc, "kind"), _get(doc, "metadata")
        name_node = _get(meta, "name") if meta is not None else None
        if getattr(kind_node, "value", None) == kind and (
            not name or getattr(name_node, "value", None) == name
        ):
            hits.append(i)
    if len(hits) != 1:
        found = "no document" if not hits else f"{len(hits)} documents"
        raise YamlFileError(file, None, f"{found} with kind/name {document!r}")
    return hits[0]


@dataclass
class _Found:
    node: yaml.Node | None  # the target, when it exists
    parent: yaml.Node  # the deepest node that exists on the path
    flat: tuple  # the path in _flatten's terms, as far as it exists
    rest: tuple[Step, ...]  # the steps that do not exist yet
    key: yaml.Node | None  # the mapping key of ``parent``, if it has one

    @property
    def line(self) -> int:
        return _line(self.key or self.parent)


def _resolve(root: yaml.Node, steps: tuple[Step, ...], path: str, file: str) -> _Found:
    node, flat, key_node = root, (), None
    for i, step in enumerate(steps):
        shown = ".".join(map(str, flat)) or "the document"
        line = _line(key_node or node)  # errors point at the key, where there is one
        if isinstance(node, yaml.MappingNode) and not isinstance(step, (int, Select)):
            pairs = [(k, v) for k, v in node.value if getattr(k, "value", None) == step]
            if not pairs:
                return _Found(None, node, flat, steps[i:], key_node)
            key_node, child = pairs[-1]
            if child.start_mark.index < key_node.end_mark.index:
                raise YamlFileError(file, _line(key_node), f"{path}: {step} is an alias (*)")
            node, flat = child, (*flat, step)
            continue
        if _empty(node) and isinstance(step, str):
            return _Found(None, node, flat, steps[i:], key_node)  # ``key:`` and nothing else
        if isinstance(node, yaml.SequenceNode):
            index = _index(node, step, f"{path}: {shown}", file, line)
            node, flat, key_node = node.value[index], (*flat, index), None
            continue
        kind = "a list" if isinstance(node, yaml.SequenceNode) else "a mapping"
        if isinstance(node, yaml.ScalarNode):
            kind = "a single value" if node.value else "empty"
        raise YamlFileError(file, line, f"{path}: {shown} is {kind}, so it has no {step!r}")
    return _Found(node, node, flat, (), key_node)


def _empty(node: yaml.Node) -> bool:
    """A value left empty (``key:``), as opposed to an explicit ``null`` or ``~``."""
    return node.tag == NULL and node.start_mark.index == node.end_mark.index


def _index(node: yaml.SequenceNode, step: Step, where: str, file: str, line: int) -> int:
    if isinstance(step, Select):
        hits = [
            i
            for i, item in enumerate(node.value)
            if getattr(_get(item, step.key), "value", None) == step.value
        ]
        if len(hits) != 1:
            found = "no item" if not hits else f"{len(hits)} items"
            raise YamlFileError(file, line, f"{where}: {found} has {step.key}: {step.value}")
        return hits[0]
    if isinstance(step, str) and not step.isdigit():
        raise YamlFileError(file, line, f"{where} is a list, not a mapping")
    index = int(step)
    if index >= len(node.value):
        raise YamlFileError(file, line, f"{where} has {len(node.value)} item(s), no {index}")
    return index


# --- writing scalars ----------------------------------------------------------------------

_PLAIN = re.compile(r"[A-Za-z0-9_/][A-Za-z0-9_./@+~=:-]*")
# YAML 1.2 core numbers that YAML 1.1 (PyYAML) reads as strings: quote them for Go readers
_NUMBER_12 = re.compile(
    r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|0o[0-7]+|0x[0-9a-fA-F]+"
)
_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}


def _plain_ok(value: str, in_flow: bool) -> bool:
    """Plain only when every YAML reader we know reads back exactly this string."""
    if not _PLAIN.fullmatch(value) or value.endswith(":") or value.lower() in _WORDS:
        return False
    if _NUMBER_12.fullmatch(value) or (in_flow and ":" in value):
        return False
    try:
        return yaml.safe_load(value) == value
    except yaml.YAMLError:
        return False


def _printable(ch: str) -> bool:
    """YAML's printable set, minus the characters YAML 1.1 treats as line breaks and the BOM."""
    code = ord(ch)
    return (
        0x20 <= code <= 0x7E
        or 0xA0 <= code <= 0xD7FF
        or (0xE000 <= code <= 0xFFFD and code != 0xFEFF)
        or 0x10000 <= code <= 0x10FFFF
    ) and ch not in "\u2028\u2029"


def double_quoted(value: str) -> str:
    out = []
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif _printable(ch):
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")
    return '"' + "".join(out) + '"'


def scalar_text(value: str, style: str | None = None, in_flow: bool = False) -> str:
    """The value as YAML text: the old quoting style when it can hold it, plain when safe."""
    if style == '"':
        return double_quoted(value)
    if style == "'" and all(_printable(ch) for ch in value):
        return "'" + value.replace("'", "''") + "'"
    if style != "'" and _plain_ok(value, in_flow):
        return value
    return double_quoted(value)


# --- splicing -----------------------------------------------------------------------------

_PROPERTIES = re.compile(r"(?:![^\s]*\s+)*")  # tags before the scalar, e.g. ``!!str``


def _set_one(
    text: str,
    path: str,
    steps: tuple[Step, ...],
    value: str,
    file: str,
    document: int | str,
    create: bool,
) -> tuple[str, Change | None]:
    docs = _compose(text, file)
    index = _select_document(docs, document, file)
    found = _resolve(docs[index], steps, path, file)
    if found.rest:
        return _create(text, docs, index, found, path, value, file, create)
    node = found.node
    assert node is not None
    if not isinstance(node, yaml.ScalarNode):
        kind = "a list" if isinstance(node, yaml.SequenceNode) else "a mapping"
        raise YamlFileError(file, found.line, f"{path} is {kind}, not a single value")
    if node.tag == STR and node.value == value:
        return text, None
    start, end = node.start_mark.index, node.end_mark.index
    if text.startswith("&", start):
        raise YamlFileError(
            file, _line(node), f"{path} has an anchor (&): aliases would change too"
        )
    tags = _PROPERTIES.match(text, start).end() - start
    if tags and node.tag != STR:
        raise YamlFileError(file, _line(node), f"{path} has an explicit tag ({node.tag})")
    start += tags
    tail = ""
    if node.style in ("|", ">"):  # keep the line breaks and blank lines after the block
        body = text[start:end]
        tail = body[len(body.rstrip(" \t\r\n")) :]
        tail = tail[tail.find("\n") :] if "\n" in tail else tail
    lead = " " if start == end and start > 0 and text[start - 1] not in " \t" else ""
    in_flow = _in_flow(docs[index], found.flat)
    new = text[:start] + lead + scalar_text(value, node.style, in_flow) + tail + text[end:]
    _verify(text, new, docs, index, found.flat, (), value, path, file)
    return new, Change(path, node.value, value, _line(node))


def _in_flow(root: yaml.Node, flat: tuple) -> bool:
    """Whether the node at ``flat`` sits inside a flow collection (``{...}`` or ``[...]``)."""
    node = root
    for step in flat:
        if getattr(node, "flow_style", False):
            return True
        if isinstance(node, yaml.MappingNode):
            node = [v for k, v in node.value if getattr(k, "value", None) == step][-1]
        else:
            node = node.value[step]
    return False


def _create(
    text: str,
    docs: list[yaml.Node],
    index: int,
    found: _Found,
    path: str,
    value: str,
    file: str,
    create: bool,
) -> tuple[str, Change]:
    parent, missing = found.parent, found.rest
    shown = ".".join(map(str, found.flat)) or "the document"
    if not create:
        raise YamlFileError(
            file,
            found.line,
            f"{path}: {shown} has no {missing[0]!r}",
            hint="check the path, or set `create: true` to add missing keys",
        )
    keys_only = all(isinstance(step, str) for step in missing)
    if (
        keys_only
        and isinstance(parent, yaml.MappingNode)
        and parent.value
        and not parent.flow_style
    ):
        column = parent.value[0][0].start_mark.column  # beside its other keys
        at = _line_end(text, _content_end(text, parent))
    elif (
        keys_only
        and found.key is not None
        and _empty(parent)
        and not _in_flow(docs[index], found.flat)
    ):  # ``key:`` with nothing after it: the new keys become its block mapping
        column = found.key.start_mark.column + 2
        at = _line_end(text, parent.end_mark.index)
    else:
        raise YamlFileError(
            file,
            found.line,
            f"{path}: cannot add {missing[0]!r} to {shown}: keys are added only to a block "
            "mapping or an empty value",
            hint="add the key to the file by hand once",
        )
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = []
    for depth, key in enumerate(missing):
        pad = " " * (column + 2 * depth)
        last = depth == len(missing) - 1
        lines.append(f"{pad}{scalar_text(str(key))}:" + (f" {scalar_text(value)}" if last else ""))
    block = newline.join(lines) + newline
    if at == len(text) and text and not text.endswith("\n"):
        block = newline + block
    new = text[:at] + block + text[at:]
    _verify(text, new, docs, index, found.flat, tuple(missing), value, path, file)
    return new, Change(path, None, value, text.count("\n", 0, at) + len(missing))


def _content_end(text: str, node: yaml.Node) -> int:
    """Offset just after the node's last character of content (not trailing comments)."""
    if isinstance(node, yaml.ScalarNode):
        return node.start_mark.index + len(
            text[node.start_mark.index : node.end_mark.index].rstrip(" \t\r\n")
        )
    if getattr(node, "flow_style", False) or not node.value:
        return node.end_mark.index
    if isinstance(node, yaml.MappingNode):
        key, value = node.value[-1]
        if value.start_mark.index < key.end_mark.index:  # an alias: its text is elsewhere
            return key.end_mark.index
        return max(key.end_mark.index, _content_end(text, value))
    return _content_end(text, node.value[-1])


def _line_end(text: str, offset: int) -> int:
    if offset > 0 and text[offset - 1] == "\n":
        return offset
    newline = text.find("\n", offset)
    return len(text) if newline < 0 else newline + 1


# --- the safety net -----------------------------------------------------------------------


def _flatten(node: yaml.Node, path: tuple, out: dict, depth: int = 0) -> dict:
    """Every node as ``path -> (tag, value)``: two documents are equal when these are."""
    if depth > 100:  # recursive aliases
        return out
    if isinstance(node, yaml.ScalarNode):
        out[path] = (node.tag, node.value)
    elif isinstance(node, yaml.MappingNode):
        out[path] = ("map", None)
        for i, (k, v) in enumerate(node.value):
            key = k.value if isinstance(k, yaml.ScalarNode) else ("?", i)
            _flatten(v, (*path, key), out, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        out[path] = ("seq", None)
        for i, item in enumerate(node.value):
            _flatten(item, (*path, i), out, depth + 1)
    return out


def _verify(
    old: str,
    new: str,
    old_docs: list[yaml.Node],
    index: int,
    flat: tuple,
    created: tuple,
    value: str,
    path: str,
    file: str,
) -> None:
    """Refuse the edit unless the new text parses to the old data with only the target set."""
    expected: dict = {}
    for i, doc in enumerate(old_docs):
        _flatten(doc, (i,), expected)
    target = (index, *flat)
    for key in created:
        expected[target] = ("map", None)
        target = (*target, key)
    expected[target] = (STR, value)
    try:
        actual: dict = {}
        for i, doc in enumerate(yaml.compose_all(new, Loader=yaml.SafeLoader)):
            _flatten(doc, (i,), actual)
    except yaml.YAMLError as exc:
        raise YamlFileError(file, None, f"{path}: the edit would break the file: {exc}") from None
    if actual != expected:
        raise YamlFileError(
            file, None, f"{path}: the edit would change more than this value; edit by hand"
        )
