"""YAML as GTO 1.10.1 reads it: PyYAML with ruamel.yaml's rules (``YAML(typ="safe", pure=True)``).

GTO reads ``artifacts.yaml`` and ``.gto`` with ruamel.yaml, which follows YAML 1.2: ``0777`` is
777, ``0o17`` 15, ``1e3`` 1000.0, ``+.5`` 0.5, while ``1:20``, ``yes`` and ``on`` stay strings.
PyYAML follows YAML 1.1 (``0777`` is 511, ``1:20`` is 80, ``1e3`` a string). To read those files
exactly as GTO does without depending on ruamel, ``GtoLoader`` keeps PyYAML's reader, scanner,
parser and composer and swaps what ruamel does differently:

- the implicit resolvers: ruamel's tables, YAML 1.2 unless the file starts with ``%YAML 1.1``
  (other 1.x versions are refused: ruamel fails on them);
- the int, float, bool and timestamp constructors (ruamel's, version-aware);
- ``!!omap`` gives a dict (PyYAML: a list of pairs);
- mappings: a sequence key becomes a tuple (PyYAML: "unhashable key"), and a key given twice
  (compared after construction: ``1`` and ``0x1`` are the same key) is an error, except in a
  mapping with a ``<<`` merge, as in ruamel; a second ``<<`` is an error;
- values ruamel fails on with a Python error (``2024-13-01``, ``!!int ""``) are YAML errors here;
- ruamel's scanner and parser changes: ``?`` and ``:`` inside plain scalars of flow collections
  (``{docs: https://x.org/p?id=3}``, ``[a, b:]``), tabs between flow tokens, anchor names of any
  printable characters (``&base.v1``), empty keys (``: v`` is ``null: v``).

Not reproduced (tests/test_yaml12.py lists them): ruamel's reader does not break lines at
U+0085, U+2028 and U+2029; it reads a top-level block scalar at column 0 and a malformed tag
handle (``!!!str``). And ruamel keeps the last ``%YAML`` directive on GTO's one shared ``YAML``
object, so that a file starting without ``---`` read after a ``%YAML 1.1`` file is read as 1.1
too; here each file is read by its own directive.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.error import Mark
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.scanner import ScannerError

from gitops.yaml12_scalars import V11, V12, resolve_plain, to_bool, to_float, to_int

# ruamel.yaml util.py `timestamp_regexp`
_TIMESTAMP = re.compile(
    r"""^(?P<year>[0-9][0-9][0-9][0-9])
       -(?P<month>[0-9][0-9]?)
       -(?P<day>[0-9][0-9]?)
       (?:((?P<t>[Tt])|[ \t]+)
       (?P<hour>[0-9][0-9]?)
       :(?P<minute>[0-9][0-9])
       :(?P<second>[0-9][0-9])
       (?:\.(?P<fraction>[0-9]*))?
        (?:[ \t]*(?P<tz>Z|(?P<tz_sign>[-+])(?P<tz_hour>[0-9][0-9]?)
       (?::(?P<tz_minute>[0-9][0-9]))?))?)?$""",
    re.X,
)


def _timestamp(values: dict[str, str | None]) -> dt.date | dt.datetime:
    """ruamel's ``create_timestamp``: 7th fraction digit rounds; a timezone keeps its text."""
    number = {k: int(v) for k, v in values.items() if v and v.isdigit()}
    year, month, day = number["year"], number["month"], number["day"]
    if values["hour"] is None:
        return dt.date(year, month, day)
    hour, minute, second = number["hour"], number["minute"], number["second"]
    fraction_text = values["fraction"]
    frac = 0
    fraction = 0
    if fraction_text:
        frac = int(fraction_text[:6].ljust(6, "0"))
        if len(fraction_text) > 6 and int(fraction_text[6]) > 4:
            frac += 1
        fraction = 0 if frac > 999999 else frac
    tzinfo = None
    tz = values["tz"]
    if values["tz_sign"]:
        delta = dt.timedelta(
            hours=int(values["tz_hour"] or 0), minutes=int(values["tz_minute"] or 0)
        )
        tzinfo = dt.timezone(-delta if values["tz_sign"] == "-" else delta, name=tz)
    elif tz == "Z":
        tzinfo = dt.timezone(dt.timedelta(hours=0), name=tz)
    data = dt.datetime(year, month, day, hour, minute, second, fraction, tzinfo)
    if frac > 999999:
        data += dt.timedelta(seconds=1)
    return data


def _anchor_char(ch: str) -> bool:
    """ruamel's ``check_anchorname_char``."""
    return ch not in ",[]{}" and (
        "\x21" <= ch <= "\x7e"
        or "\xa0" <= ch <= "\ud7ff"
        or ("\ue000" <= ch <= "\ufffd" and ch != "\ufeff")
        or "\U00010000" <= ch <= "\U0010ffff"
    )


_END_SPACE_TAB = " \n\0\t\r\x85\u2028\u2029"  # ruamel's _THE_END_SPACE_TAB


class GtoLoader(yaml.SafeLoader):
    """PyYAML's safe loader reading as GTO's ruamel loader does (see the module docstring)."""

    def __init__(self, stream: str | bytes) -> None:
        super().__init__(stream)
        self.scanned_version: tuple[int, int] | None = None
        self.flow_context: list[str] = []  # "[" and "{" of the open flow collections

    def yaml_rules(self) -> tuple[int, int]:
        """The ``%YAML`` version scanned, else 1.2 (ruamel's default), for scanner and resolver."""
        return V11 if self.scanned_version == V11 else V12

    # -- scanner: ruamel's YAML 1.2 changes to plain scalars and flow collections --------------

    def scan_yaml_directive_value(self, start_mark: Mark) -> tuple[int, int]:
        """ruamel fails on ``%YAML 1.x`` other than 1.1 and 1.2 (PyYAML takes any 1.x)."""
        major, minor = super().scan_yaml_directive_value(start_mark)
        if major == 1 and minor not in (1, 2):
            raise ScannerError(
                "while scanning a directive",
                start_mark,
                f"%YAML {major}.{minor} is not supported (GTO reads YAML 1.1 and 1.2)",
                start_mark,
            )
        self.scanned_version = (major, minor)
        return major, minor

    def fetch_flow_sequence_start(self) -> None:
        self.flow_context.append("[")
        super().fetch_flow_sequence_start()

    def fetch_flow_mapping_start(self) -> None:
        self.flow_context.append("{")
        super().fetch_flow_mapping_start()

    def fetch_flow_collection_end(self, token_class: type[yaml.Token]) -> None:
        if self.flow_context:
            self.flow_context.pop()
        super().fetch_flow_collection_end(token_class)

    def scan_to_next_token(self) -> None:
        """ruamel skips tabs too between tokens of a flow collection (``[a,\tb]``)."""
        if self.index == 0 and self.peek() == "\ufeff":
            self.forward()
        white = " \t" if self.flow_level > 0 else " "
        while True:
            while self.peek() in white:
                self.forward()
            if self.peek() == "#":
                while self.peek() not in "\0\r\n\x85\u2028\u2029":
                    self.forward()
            if not self.scan_line_break():
                return
            if not self.flow_level:
                self.allow_simple_key = True

    def scan_anchor(self, token_class: type[yaml.Token]) -> yaml.Token:
        """ruamel's anchor and alias names: any printable non-space character but ``,[]{}``
        (``&base.v1``; PyYAML: letters, digits, ``-`` and ``_``)."""
        start_mark = self.get_mark()
        name = "alias" if self.peek() == "*" else "anchor"
        self.forward()
        length = 0
        while _anchor_char(self.peek(length)):
            length += 1
        ch = self.peek(length)
        if not length or ch not in "\0 \t\r\n\x85\u2028\u2029?:,[]{}%@`":
            self.forward(length)
            raise ScannerError(
                f"while scanning an {name}",
                start_mark,
                f"expected alphabetic or numeric character, but found {ch!r}",
                self.get_mark(),
            )
        value = self.prefix(length)
        self.forward(length)
        return token_class(value, start_mark, self.get_mark())

    def check_value(self) -> bool:
        """In 1.2, ``:`` in a flow sequence, or after a flow mapping's value indicator, is a
        value indicator only when a space or line end follows (``[a:b]``, ``{k: a:b}``)."""
        if self.yaml_rules() == V12 and self.flow_level:
            if self.flow_context and self.flow_context[-1] == "[":
                return self.peek(1) in _END_SPACE_TAB
            if self.tokens and isinstance(self.tokens[-1], yaml.ValueToken):
                return self.peek(1) in _END_SPACE_TAB
            return True
        return bool(super().check_value())

    def check_plain(self) -> bool:
        """In 1.2, a plain scalar in a flow collection may start with ``:`` (``[:x]``)."""
        if self.yaml_rules() == V12 and self.flow_level:
            if self.peek() == ":" and self.peek(1) not in " \t":
                return True
        return bool(super().check_plain())

    def scan_plain(self) -> yaml.ScalarToken:
        """ruamel's ``scan_plain``: ``:`` not followed by a space is part of the scalar, in a
        flow collection too (``[a, b:]``), and in 1.2 so is ``?`` (``{url: /p?q=1}``)."""
        chunks: list[str] = []
        start_mark = self.get_mark()
        end_mark = start_mark
        indent = self.indent + 1
        spaces: list[str] = []
        while True:
            length = 0
            if self.peek() == "#":
                break
            while True:
                ch = self.peek(length)
                if ch == ":" and self.peek(length + 1) not in _END_SPACE_TAB:
                    pass
                elif ch == "?" and self.yaml_rules() != V11:
                    pass
                elif (
                    ch in _END_SPACE_TAB
                    or (not self.flow_level and ch == ":")
                    or (self.flow_level and ch in ",:?[]{}")
                ):
                    break
                length += 1
            if length == 0:
                break
            self.allow_simple_key = False
            chunks.extend(spaces)
            chunks.append(self.prefix(length))
            self.forward(length)
            end_mark = self.get_mark()
            spaces = self.scan_plain_spaces(indent, start_mark)
            if not spaces or self.peek() == "#" or (not self.flow_level and self.column < indent):
                break
        return yaml.ScalarToken("".join(chunks), True, start_mark, end_mark)

    # -- parser: YAML 1.2 empty keys (`: v` is `null: v`), as ruamel's parser ------------------

    def parse_block_mapping_key(self) -> yaml.Event:
        if (
            self.yaml_rules() == V12
            and not self.check_token(yaml.KeyToken)
            and self.check_token(yaml.ValueToken)
        ):
            self.state = self.parse_block_mapping_value
            return self.process_empty_scalar(self.peek_token().start_mark)
        return super().parse_block_mapping_key()

    def parse_flow_mapping_key(self, first: bool = False) -> yaml.Event:
        if self.yaml_rules() == V12 and not self.check_token(yaml.FlowMappingEndToken):
            if not first:
                if not self.check_token(yaml.FlowEntryToken):
                    return super().parse_flow_mapping_key(first)  # "expected ',' or '}'"
                self.get_token()
                first = True  # the entry separator is consumed
            if not self.check_token(yaml.KeyToken) and self.check_token(yaml.ValueToken):
                self.state = self.parse_flow_mapping_value
                return self.process_empty_scalar(self.peek_token().end_mark)
        return super().parse_flow_mapping_key(first)

    # -- resolver and constructors -------------------------------------------------------------

    def resolve(self, kind: type[Node], value: Any, implicit: Any) -> str:
        if kind is ScalarNode and implicit[0]:
            tag = resolve_plain(value, self.yaml_rules())
            if tag is not None:
                return tag
            implicit = (False, implicit[1])
        return super().resolve(kind, value, implicit)

    def _fail(self, node: Node, what: str, exc: Exception) -> ConstructorError:
        return ConstructorError(
            None, None, f"cannot read {node.value!r} as {what}: {exc}", node.start_mark
        )

    def construct_yaml_bool(self, node: ScalarNode) -> bool:
        try:
            return to_bool(self.construct_scalar(node))
        except KeyError as exc:
            raise self._fail(node, "a boolean", exc) from None

    def construct_yaml_int(self, node: ScalarNode) -> int:
        """ruamel's ``construct_yaml_int``: 1.2 has no plain-``0`` octal and no base 60."""
        try:
            return to_int(self.construct_scalar(node), self.yaml_rules())
        except (ValueError, IndexError) as exc:
            raise self._fail(node, "an integer", exc) from None

    def construct_yaml_float(self, node: ScalarNode) -> float:
        """ruamel's ``construct_yaml_float`` (base 60 in YAML 1.1 only)."""
        try:
            return to_float(self.construct_scalar(node), self.yaml_rules())
        except (ValueError, IndexError) as exc:
            raise self._fail(node, "a number", exc) from None

    def construct_yaml_timestamp(self, node: ScalarNode) -> dt.date | dt.datetime:
        match = _TIMESTAMP.match(node.value)
        if match is None:
            raise ConstructorError(
                None, None, f"failed to construct timestamp from {node.value!r}", node.start_mark
            )
        try:
            return _timestamp(match.groupdict())
        except (ValueError, OverflowError) as exc:
            raise self._fail(node, "a date", exc) from None

    def construct_yaml_omap(self, node: Node) -> Iterator[dict[Any, Any]]:
        """ruamel gives an ordered dict where PyYAML gives a list of pairs."""
        omap: dict[Any, Any] = {}
        yield omap
        if not isinstance(node, SequenceNode):
            raise ConstructorError(
                "while constructing an ordered map",
                node.start_mark,
                f"expected a sequence, but found {node.id}",
                node.start_mark,
            )
        for subnode in node.value:
            if not isinstance(subnode, MappingNode) or len(subnode.value) != 1:
                raise ConstructorError(
                    "while constructing an ordered map",
                    node.start_mark,
                    "expected a mapping of one item",
                    subnode.start_mark,
                )
            key_node, value_node = subnode.value[0]
            key = self._hashable(node, key_node, self.construct_object(key_node), tuples=False)
            if key in omap:
                raise ConstructorError(
                    "while constructing an ordered map",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            omap[key] = self.construct_object(value_node)

    def flatten_mapping(self, node: MappingNode) -> None:
        """PyYAML's merge (``<<``), plus ruamel's refusal of a second ``<<`` in one mapping;
        the merged pairs are remembered so that they are exempt from the duplicate check."""
        merge: list[tuple[Node, Node]] = []
        index = 0
        while index < len(node.value):
            key_node, value_node = node.value[index]
            if key_node.tag == "tag:yaml.org,2002:merge":
                if merge:
                    raise ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        'found duplicate merge key "<<"',
                        key_node.start_mark,
                    )
                del node.value[index]
                if isinstance(value_node, MappingNode):
                    self.flatten_mapping(value_node)
                    merge.extend(value_node.value)
                elif isinstance(value_node, SequenceNode):
                    submerge = []
                    for subnode in value_node.value:
                        if not isinstance(subnode, MappingNode):
                            raise ConstructorError(
                                "while constructing a mapping",
                                node.start_mark,
                                f"expected a mapping for merging, but found {subnode.id}",
                                subnode.start_mark,
                            )
                        self.flatten_mapping(subnode)
                        submerge.append(subnode.value)
                    for value in reversed(submerge):
                        merge.extend(value)
                else:
                    raise ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        "expected a mapping or list of mappings for merging, "
                        f"but found {value_node.id}",
                        value_node.start_mark,
                    )
            elif key_node.tag == "tag:yaml.org,2002:value":
                key_node.tag = "tag:yaml.org,2002:str"
                index += 1
            else:
                index += 1
        if merge:
            node.merge = merge  # type: ignore[attr-defined]
            node.value = merge + node.value

    def _hashable(self, node: Node, key_node: Node, key: Any, tuples: bool = True) -> Any:
        """The key, a sequence turned into a tuple as ruamel's mappings do (not its omaps)."""
        if tuples and isinstance(key, list):
            key = tuple(key)
        try:
            hash(key)
        except TypeError:
            raise ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                "found unhashable key",
                key_node.start_mark,
            ) from None
        return key

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
        """ruamel's ``construct_mapping``: duplicate keys are errors, unless the mapping merges."""
        if not isinstance(node, MappingNode):
            raise ConstructorError(
                None, None, f"expected a mapping node, but found {node.id}", node.start_mark
            )
        self.flatten_mapping(node)
        merged = getattr(node, "merge", None)
        todo = (
            [(merged, False), (node.value, False)] if merged is not None else [(node.value, True)]
        )
        result: dict[Any, Any] = {}
        for pairs, check in todo:
            mapping: dict[Any, Any] = {}
            for key_node, value_node in pairs:
                key = self._hashable(node, key_node, self.construct_object(key_node, deep=True))
                value = self.construct_object(value_node, deep=deep)
                if check and key in mapping:
                    raise ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"found duplicate key {key!r}",
                        key_node.start_mark,
                    )
                mapping[key] = value
            result.update(mapping)
        return result


for _tag in ("bool", "int", "float", "timestamp", "omap"):
    GtoLoader.add_constructor(
        f"tag:yaml.org,2002:{_tag}", getattr(GtoLoader, f"construct_yaml_{_tag}")
    )
