"""Plain scalars as GTO's ruamel.yaml reads them: which type a plain scalar resolves to, and
its int, float or bool value, for YAML 1.2 (ruamel's default) and 1.1 (after ``%YAML 1.1``).

For ``gitops.yaml12_fast``, which reads common files without a YAML library (YAML 1.2 only: it
passes files with a directive to ruamel itself). The 1.1 table is ruamel's too;
benchmarks/yaml_readers.py runs the PyYAML re-creation of ruamel (``gitops/yaml12.py`` until
issue 14) against it.
"""

from __future__ import annotations

import re

V11, V12 = (1, 1), (1, 2)

# ruamel.yaml 0.19 resolver.py `implicit_resolvers`: (versions, tag, regexp, first characters).
IMPLICIT: list[tuple[tuple[tuple[int, int], ...], str, str, str]] = [
    ((V12,), "bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (
        (V11,),
        "bool",
        r"""^(?:y|Y|yes|Yes|YES|n|N|no|No|NO
        |true|True|TRUE|false|False|FALSE
        |on|On|ON|off|Off|OFF)$""",
        "yYnNtTfFoO",
    ),
    (
        (V12,),
        "float",
        r"""^(?:
         [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        "-+0123456789.",
    ),
    (
        (V11,),
        "float",
        r"""^(?:
         [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        "-+0123456789.",
    ),
    (
        (V12,),
        "int",
        r"""^(?:[-+]?0b[0-1_]+
        |[-+]?0o?[0-7_]+
        |[-+]?[0-9_]+
        |[-+]?0x[0-9a-fA-F_]+)$""",
        "-+0123456789",
    ),
    (
        (V11,),
        "int",
        r"""^(?:[-+]?0b[0-1_]+
        |[-+]?0?[0-7_]+
        |[-+]?(?:0|[1-9][0-9_]*)
        |[-+]?0x[0-9a-fA-F_]+
        |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$""",
        "-+0123456789",
    ),
    ((V12, V11), "merge", r"^(?:<<)$", "<"),
    ((V12, V11), "null", r"^(?: ~ |null|Null|NULL | )$", "~nN"),
    (
        (V12, V11),
        "timestamp",
        r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
        |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
        (?:[Tt]|[ \t]+)[0-9][0-9]?
        :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
        (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
        "0123456789",
    ),
    ((V12, V11), "value", r"^(?:=)$", "="),
    ((V12, V11), "yaml", r"^(?:!|&|\*)$", "!&*"),
]


def _table(version: tuple[int, int]) -> dict[str, list[tuple[str, re.Pattern[str]]]]:
    """First character -> [(tag, regexp)] for one YAML version ("" for the empty scalar)."""
    table: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
    for versions, tag, pattern, first in IMPLICIT:
        if version in versions:
            regexp = re.compile(pattern, re.X)
            chars = list(first) + ([""] if tag == "null" else [])
            for ch in chars:
                table.setdefault(ch, []).append((f"tag:yaml.org,2002:{tag}", regexp))
    return table


_TABLES: dict[tuple[int, int], dict[str, list[tuple[str, re.Pattern[str]]]]] = {}

_BOOLS = {
    "yes": True,
    "no": False,
    "y": True,
    "n": False,
    "true": True,
    "false": False,
    "on": True,
    "off": False,
}
_INF = float("inf")
_NAN = float("nan")


def resolve_plain(value: str, version: tuple[int, int]) -> str | None:
    """The tag ruamel's resolver gives the plain scalar ``value``, or ``None`` (a string)."""
    table = _TABLES.get(version)
    if table is None:
        table = _TABLES[version] = _table(version)
    for tag, regexp in table.get(value[:1], ()):
        if regexp.match(value):
            return tag
    return None


def to_bool(text: str) -> bool:
    """ruamel's ``construct_yaml_bool`` (KeyError for a word that is not a boolean)."""
    return _BOOLS[text.lower()]


def to_int(text: str, version: tuple[int, int]) -> int:
    """ruamel's ``construct_yaml_int``: 1.2 has no plain-``0`` octal and no base 60
    (ValueError or IndexError for text that is not an integer)."""
    text = text.replace("_", "")
    sign = -1 if text[0] == "-" else 1
    if text[0] in "+-":
        text = text[1:]
    if text == "0":
        return 0
    if text.startswith("0b"):
        return sign * int(text[2:], 2)
    if text.startswith("0x"):
        return sign * int(text[2:], 16)
    if text.startswith("0o"):
        return sign * int(text[2:], 8)
    if version == V11 and text[0] == "0":
        return sign * int(text, 8)
    if version == V11 and ":" in text:
        value = 0
        for digit in (int(part) for part in text.split(":")):
            value = value * 60 + digit
        return sign * value
    return sign * int(text)


def to_float(text: str, version: tuple[int, int]) -> float:
    """ruamel's ``construct_yaml_float`` (base 60 in YAML 1.1 only; ValueError or IndexError
    for text that is not a number)."""
    text = text.replace("_", "").lower()
    sign = -1 if text[0] == "-" else 1
    if text[0] in "+-":
        text = text[1:]
    if text == ".inf":
        return sign * _INF
    if text == ".nan":
        return _NAN
    if version != V12 and ":" in text:
        value = 0.0
        for digit in (float(part) for part in text.split(":")):
            value = value * 60 + digit
        return sign * value
    return sign * float(text)
