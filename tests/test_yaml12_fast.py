"""``gitops.yaml12_fast`` reads the common shape of annotation files without PyYAML: wherever it
answers, the answer is ruamel.yaml's (GTO's own reader, behind ``load_gto_yaml``), value and type.

Documents come from a small generator of block YAML (keys and scalars of every kind, quoting,
flow lists, nesting, indentless sequences, comments, CRLF, and things outside the subset:
anchors, tags, block scalars, tabs, bad indentation) and from random edits of a realistic
``artifacts.yaml``. The tests also count how many documents the fast reader took, so that they
cannot pass by refusing everything.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import pytest
from test_yaml12 import ruamel_load, typed

from gitops.yaml12_fast import NotSimple, load, load_entry, split_top_level
from gitops.yamlfile import YamlFileError, load_gto_yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from annotation_files import AnnotationHistory  # noqa: E402

KEYS = ["name", "a", "b", "type", "path", "1", "0x1", "1.0", "true", "null", "x.y", "a-b", "a_b"]
KEYS += ["on", "yes", "2024-01-01", "k" * 1030, "_x", "-k", "a b", "'q'", '"d"', "<<", "="]
SCALARS = [
    "word", "two words", "model", "1", "-1", "+1", "0777", "010", "0o17", "0x1F", "0b11", "1_000",
    "1e3", "1.5e3", ".5", "+.5", "-.inf", ".NaN", ".nan", "1:20", "1:20:30", "yes", "no", "on",
    "true", "True", "TRUE", "tRue", "false", "null", "Null", "NULL", "nULL", "~", "2024-01-01",
    "2024-13-01", "2024-01-01 10:00:00", "s3://bucket/key", "http://x.org/p?id=3", "a:b", "a?b",
    "a#b", "a [b]", "a]", "a}", "a, b", "it's", 'say "hi"', "50%", "a&b", "a*b", "a!b", "a|b",
    "-", "- x", "?", "? x", ":", ":x", "a:", "a: b", "a #c", "'single'", "'it''s'", "'a' b",
    "'unclosed", '"double"', '"esc\\n"', '"a #b"', "'a #b'", "[a, b]", "[]", "[ ]", "[a,b]",
    "[a, b,]", "[1, 2.5, true, null, ~]", "[a:b]", "[a, b:]", "[-1]", "[a b, c]", "[[a]]",
    "{}", "{ }", "{a: 1}", "&anchor x", "*alias", "!!str 1", "!tag x", "|", ">-", "%x", "@x",
    "`x", "=", "<<", "...", "---", "a\tb", "é ü 中文", "emoji \U0001f680", "\x85next", "x\u2028y",
    "", " ", "  spaced  ",
]  # fmt: skip


def _scalar(rng: random.Random) -> str:
    return rng.choice(SCALARS)


def _block(rng: random.Random, indent: int, depth: int) -> list[str]:
    """Lines of a block collection at ``indent``."""
    pad = " " * indent
    lines: list[str] = []
    if depth > 0 and rng.random() < 0.3:  # a sequence
        for _ in range(rng.randint(1, 3)):
            roll = rng.random()
            if roll < 0.15 and depth < 3:
                lines.append(f"{pad}-")
                lines += _block(rng, indent + rng.choice((2, 4)), depth + 1)
            elif roll < 0.3 and depth < 3:
                inner = _block(rng, indent + 2, depth + 1)
                first = inner[0].lstrip(" ")
                lines.append(f"{pad}- {first}")
                lines += inner[1:]
            else:
                lines.append(f"{pad}- {_scalar(rng)}")
        return lines
    for _ in range(rng.randint(1, 4)):
        key = rng.choice(KEYS) if rng.random() < 0.3 else rng.choice(["type", "path", "labels"])
        roll = rng.random()
        if roll < 0.2 and depth < 3:
            lines.append(f"{pad}{key}:")
            if rng.random() < 0.2:
                lines += [f"{pad}- {_scalar(rng)}" for _ in range(rng.randint(1, 2))]
            else:
                lines += _block(rng, indent + rng.choice((1, 2, 4)), depth + 1)
        elif roll < 0.25:
            lines.append(f"{pad}{key}:")
        else:
            lines.append(f"{pad}{key}: {_scalar(rng)}")
        if rng.random() < 0.1:
            lines.append(f"{' ' * rng.randint(0, 6)}# a comment")
        if rng.random() < 0.05:
            lines.append("")
    return lines


def _document(rng: random.Random) -> str:
    lines = ["# header"] if rng.random() < 0.3 else []
    lines += _block(rng, 0, 0)
    if rng.random() < 0.05:  # an odd line anywhere
        odd = rng.choice(["\tkey: v", "   misplaced: 1", "---", "%YAML 1.1", "key: v # c", "- x"])
        lines.insert(rng.randrange(len(lines) + 1), odd)
    text = "\n".join(lines) + rng.choice(["\n", "", "\n\n"])
    if rng.random() < 0.05:
        text = text.replace("\n", "\r\n")
    return text


def careful(text: str) -> Any:
    """``load_gto_yaml``'s answer (ruamel.yaml's), for the fast reader to match."""
    try:
        return typed(load_gto_yaml(text.encode(), "f").data)
    except YamlFileError:
        return "error"


def check(text: str) -> bool:
    """True if the fast reader answered (and it agreed); False if it passed."""
    try:
        fast = typed(load(text))
    except NotSimple:
        return False
    assert fast == careful(text), text
    try:
        theirs = typed(ruamel_load(text))
    except Exception:
        theirs = "error"
    assert fast == theirs, text
    return True


@pytest.mark.parametrize("seed", range(4))
def test_generated_documents_read_as_gto_reads_them(seed: int) -> None:
    rng = random.Random(seed)
    taken = sum(check(_document(rng)) for _ in range(300))
    assert taken > 30  # the fast reader answers for a good share of them


def test_whole_and_piece_by_piece_agree() -> None:
    """``split_top_level`` + ``load_entry`` give what ``load`` gives, or pass."""
    rng = random.Random(7)
    agreed = 0
    for _ in range(400):
        text = _document(rng)
        try:
            pieces = split_top_level(text.encode())
            entries = [load_entry(p.decode()) for p in pieces]
        except NotSimple:
            continue
        keys = [k for k, _ in entries]
        if len(set(keys)) != len(keys) or any(not isinstance(k, str) for k in keys):
            continue  # the caller checks names and duplicates
        assert typed(dict(entries)) == careful(text), text
        agreed += 1
    assert agreed > 30


def _realistic() -> str:
    names = [f"model-{i:03d}" for i in range(60)] + ["models:net"]
    history = AnnotationHistory(names, seed=1, every=2, entries=80)
    return history.files_at(0)["artifacts.yaml"]


def test_realistic_files_take_the_fast_path() -> None:
    names = [f"model-{i:03d}" for i in range(60)] + ["models:net"]
    history = AnnotationHistory(names, seed=1, every=2, entries=80)
    for commit in range(8):
        for text in history.files_at(commit).values():
            assert check(text), text[:300]


@pytest.mark.parametrize("seed", range(3))
def test_edited_realistic_file(seed: int) -> None:
    """Random edits with YAML's special characters: the fast reader agrees or passes."""
    rng = random.Random(seed)
    base = _realistic()
    taken = 0
    for _ in range(150):
        text = base
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(text))
            edit = rng.choice(["\t", " ", "  ", "\n", ":", ": ", "#", " #", "-", "- ", "'", '"',
                               "[", "]", "{", "}", ",", "&a", "*a", "!", "|", ">", "?", "%",
                               "\r", "\x85", "1", "~", "null", "\n  ", "\nx:", "\n- "])  # fmt: skip
            cut = rng.choice([0, 0, 1, 2])
            text = text[:at] + edit + text[at + cut :]
        taken += check(text)
    assert taken > 10


def test_what_it_reads() -> None:
    assert load("a: 1\nb:\n  - x\n  - 'y'\nc: [p, 2.5]\nd:\n- z\ne: {}\n") == {
        "a": 1,
        "b": ["x", "y"],
        "c": ["p", 2.5],
        "d": ["z"],
        "e": {},
    }
    assert load("k:\n  - n: 1\n    m: [a]\n  -\n    o: ~\n") == {
        "k": [{"n": 1, "m": ["a"]}, {"o": None}]
    }
    for text in ["a: &x 1\n", "a: |\n  x\n", "a: b\n  c\n", "%YAML 1.2\n---\na: 1\n", "a:\tb\n"]:
        with pytest.raises(NotSimple):
            load(text)
