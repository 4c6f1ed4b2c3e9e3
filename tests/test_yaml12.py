"""``artifacts.yaml``, ``.gto`` and ``dvc.yaml`` are read as GTO reads them: with ruamel.yaml.

``gitops.yamlfile.load_gto_yaml`` reads with ruamel.yaml itself, set as GTO 1.10.1 sets it
(``YAML(typ="safe", pure=True)``, ``gto/config.py``), adding lines and errors with file and line.
These tables of tricky scalars and documents (once the check of a PyYAML re-creation of ruamel's
rules, which benchmarks/yaml_readers.py still runs) check that nothing is lost on the way: the same
values and types, or both fail. ``gitops.registry.gto_json`` is compared with GTO's
``make_ready_to_serialize`` + ``json.dumps``. Differential tests on real repositories check the
whole path for ``.gto``; ``tests/test_differential.py`` does it for ``artifacts.yaml``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import warnings
from pathlib import Path
from typing import Any

import gto.config
import gto.index
import pytest
from gitutil import Repo
from gto.utils import make_ready_to_serialize
from ruamel.yaml import YAML
from test_differential import assert_both_refuse, compare_all, run_gto, run_ours

from gitops.registry.gto_json import UnprintableValue, json_default, printable
from gitops.yamlfile import YamlFileError, load_gto_yaml


def typed(value: Any) -> Any:
    """The value with every type spelled out: ``1 == 1.0 == True`` must not hide a difference."""
    if isinstance(value, float):
        return ("float", "nan" if math.isnan(value) else repr(value))
    if isinstance(value, dt.datetime):
        return ("datetime", value.isoformat())
    if isinstance(value, dict):  # ruamel's !!omap is an OrderedDict subclass: a dict too
        return ("dict", [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [typed(v) for v in value])
    if isinstance(value, (set, frozenset)):
        return ("set", sorted(repr(typed(v)) for v in value))
    return (type(value).__name__, value)


def ruamel_load(document: str) -> Any:
    """GTO's reading: a fresh loader per file (GTO's shared one keeps a ``%YAML`` directive for
    the files read after it: ``test_a_directive_is_not_kept_for_the_next_file``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ruamel warns on YAML 1.1 `1e3` (no dot)
        return YAML(typ="safe", pure=True).load(document)


def both(document: str) -> tuple[Any, Any]:
    """(ruamel's result, ours); a failure is ``"error"`` (ours must be a ``YamlFileError``)."""
    try:
        theirs = typed(ruamel_load(document))
    except Exception:  # ruamel also fails with ValueError, TypeError... (GTO: "Unexpected error")
        theirs = "error"
    try:
        ours = typed(load_gto_yaml(document, "f").data)
    except YamlFileError:
        ours = "error"
    return theirs, ours


SCALARS = """
0777 010 0o17 0O17 0o8 08 09 0 -0 +0 00 -00 0x1F 0X1F -0x1f 0x 0b101 -0b11 0b2 0b 1_000 1__0 _1 1_
0_ +_ 0b_ 0x_ 0o_ 123456789012345678901234567890 -12 +12
1e3 1E3 1e-3 1e+3 12e03 1e 1e+ .5e3 .5e+3 -.5e-3 +.5 -.5 .5 ._ 1. 1.e3 0.0 -0.0 1.5e+3 3.14159
-1_0.5_5 1_0e1_0 1.7976931348623157e309
.inf -.inf +.inf .Inf .INF .iNf .nan .NaN .NAN -.nan +.nan
1:20 1:20.5 -1:20 1:20:30 190:20:30.15 0:20
yes no on off y n Yes NO On OFF true True TRUE tRue false False FALSE
~ null Null NULL nULL
2024-01-01 2024-1-1 2024-01-01T10:00:00 2024-01-01t10:00:00Z 2024-01-01T10:00:00.5+02:00
2024-13-01 2024-02-30 2024-01-01T25:00:00
= << a1 1a 1,000 0.1.2 v1.0.0 +- -
""".split()
SCALARS += [
    "2024-01-01 10:00:00.1234567+05:30",  # 7th fraction digit rounds (PyYAML truncates)
    "2024-01-01 10:00:00.9999996",  # rounds into the next second
    "2024-01-01 10:00:00 -5",
    "2024-01-01 10:00:00 Z",
    "2024-01-01 10:00:00 +25",  # an offset datetime refuses
    "2024-01-01 1:00:00.",
    "2024-01-01\t1:00:00 +1:30",
    "",
    "1 000",
]
TAGGED = [
    f"v: !!{tag} {text}"
    for tag in ("int", "float", "bool", "str", "null", "timestamp", "binary")
    for text in ("010", "0o17", "1e3", "yes", "maybe", '""', "1:20", "2024-01-01", "0x1F", "~", "1")
]
DOCUMENTS = [
    # %YAML 1.1 switches ruamel to YAML 1.1 rules (other 1.x versions make it fail)
    "%YAML 1.1\n---\nv: [0777, 010, 08, 1:20, 1:20.5, yes, on, y, 1e3, +.5, .5, 0o17, 0:20]\n",
    "%YAML 1.1\n---\n1:20: [y, n, Off]\n",
    "%YAML 1.2\n---\nv: [0777, 010, 1:20, yes]\n",
    "%YAML 1.3\n---\nv: 1\n",
    "%YAML 1.0\n---\nv: 1\n",
    "%YAML 2.0\n---\nv: 1\n",
    # duplicate keys: compared once constructed; none checked in a mapping with a merge
    "a: 1\na: 2\n",
    "1: a\n0x1: b\n",
    "1: a\n1.0: b\n",
    "true: a\n1: b\n",
    "1: a\n'1': b\n",
    "~: a\nnull: b\n",
    "b: &b {x: 1}\nc:\n  <<: *b\n  x: 2\n  y: 3\n",
    "b: &b {x: 1}\nc:\n  <<: *b\n  y: 3\n  y: 4\n",
    "b: &b {x: 1}\nd: &d {x: 5, z: 1}\nc:\n  <<: [*b, *d]\n  y: 3\n",
    "b: &b {x: 1}\nc:\n  <<: *b\n  <<: *b\n",
    "b: &b {}\nc:\n  <<: *b\n  <<: {x: 1}\n",
    "c:\n  <<: 1\n",
    "c:\n  <<: [1]\n",
    # keys: a sequence key is a tuple in ruamel; a mapping key fails
    "? [a, b]\n: 1\n",
    "{[a, 1]: 1}\n",
    "? {a: 1}\n: 1\n",
    "? [[a]]\n: 1\n",
    "=: 1\n",
    "v: {=: 1}\n",
    "v: =\n",
    # other types
    "v: !!omap [a: 1, b: 2]\n",
    "v: !!omap [a: 1, a: 2]\n",
    "v: !!omap {a: 1}\n",
    "v: !!omap [[a]: 1]\n",
    "v: !!pairs [a: 1, a: 2]\n",
    "v: !!set {a, b}\n",
    "v: !!set {a, a}\n",
    "v: !!binary aGVsbG8=\n",
    "v: !foo x\n",
    "v: !!python/tuple [1]\n",
    "a: !<tag:yaml.org,2002:int> 010\n",
    "a: ! 010\n",
    "a: !!str\n",
    "a: !!int\n",
    "%TAG !e! tag:e.com,2000:\n---\na: !e!x 1\n",
    # ruamel's YAML 1.2 scanner and parser: `?` and `:` inside plain scalars of flow
    # collections, tabs between flow tokens, anchor names, empty keys
    "v: {docs: https://x.org/p?id=3, b: a?b}\n",
    "v: [a?b, c, ?d]\n",
    "v: [a, b:, :c, a:b, 'q':1]\n",
    "v: {a: 1, b:}\n",
    "v: {k: a:b, k2: [x:y]}\n",
    "v: {k: a: b}\n",
    "v: [a,\tb]\n",
    "v: {a: 1,\tb: 2}\n",
    "a: &base.v1 {x: 1}\nb: *base.v1\n",
    "a: &x\u00e9 1\nb: *x\u00e9\n",
    "a: &x, 1\n",
    ": k\n",
    "a:\n  : 1\n",
    "{: 1}\n",
    "{a: 1, : 2}\n",
    "%YAML 1.1\n---\n{: 1}\n",
    "%YAML 1.1\n---\nv: [a?b, c]\n",
    # documents and syntax
    "",
    "# only a comment\n",
    "~\n",
    "[1, 2]\n",
    "---\na: 1\n---\nb: 2\n",
    "a: *x\n",
    'a: "\\/\\x41\\u0041\\N\\_\\e"\n',
    "a:\t1\n",
    "a: b: c\n",
    "{a:1}\n",
    "[a:1]\n",
    "{a: 1, b}\n",
    "a: |\n  x\n  y\n",
    "a: >-\n  x\n  y\n",
    "a: 'it''s'\n",
    "a: 1 # c\nb: 2#c\n",
    "a:\n  - 1\n   - 2\n",
    "? a\n",
    "a: -\n",
    "-1: a\n",
    "a: @x\n",
    "\ufeffa: 1\n",
    "a: \x07\n",
    "a: b\r\nc: d\r\n",
    "a: 'x\u2028y'\n",
    "a: '010'\nb: \"1e3\"\n",
    "m:\n  type: model\n  path: 1:20\n  labels: [on, off]\n  virtual: yes\n  custom: {a: 0777}\n",
]


CASES = (
    [f"v: {s}\n" for s in SCALARS]
    + [f"v: [{s}]\n" for s in SCALARS if s]
    + [f"{s}: k\n" for s in SCALARS if s not in ("", "=")]
    + TAGGED
    + DOCUMENTS
)


@pytest.mark.parametrize("document", CASES)
def test_loader_reads_as_gto_ruamel_loader(document: str) -> None:
    theirs, ours = both(document)
    assert ours == theirs


# What the PyYAML re-creation of ruamel's rules read differently (benchmarks/yaml_readers.py),
# and the directive GTO's shared loader keeps (see below).
MISSES = [
    "a: b\x85c\n",  # ruamel's reader: NEL, LS and PS do not break lines
    "a: b\u2028c\n",
    "- a\x85- b\n",
    "|\nb\n",  # a top-level block scalar at column 0
    "v: !!!str x\n",  # a malformed tag handle
]


@pytest.mark.parametrize("document", MISSES)
def test_what_a_re_creation_missed(document: str) -> None:
    theirs, ours = both(document)
    assert ours == theirs


def test_a_directive_is_not_kept_for_the_next_file() -> None:
    """GTO reads every file with one ``YAML`` object, which keeps a ``%YAML 1.1`` directive for
    the next file without one (``010`` is then 8). gitops reads each file by its own
    directive: the order GTO reads files in is not ours, so that cannot be followed."""
    first, second = "%YAML 1.1\n---\na: 1\n", "v: [010, yes]\n"
    load_gto_yaml(first, "a")
    assert load_gto_yaml(second, "b").data == {"v": [10, "yes"]}
    shared = YAML(typ="safe", pure=True)
    shared.load(first)
    assert shared.load(second) == {"v": [8, True]}  # GTO's


def test_gto_reads_with_one_safe_pure_ruamel_loader() -> None:
    """The loader compared above is the one GTO reads ``artifacts.yaml`` and ``.gto`` with."""
    assert gto.index.yaml is gto.config.yaml
    assert gto.config.yaml.typ == ["safe"] and gto.config.yaml.pure


def test_load_gto_yaml_errors_name_file_and_line() -> None:
    """Errors are ``YamlFileError`` with the line, even where ruamel fails with a Python error."""
    cases = {
        "a:\n  1: x\n  0x1: y\n": (3, "found duplicate key 1"),
        "a: 1\nb: 2024-13-01\n": (2, "cannot read '2024-13-01' as tag:yaml.org,2002:timestamp"),
        "a: !!int ''\n": (1, "cannot read '' as tag:yaml.org,2002:int"),
        "%YAML 1.3\n---\na: 1\n": (None, "version minor part can only be 2 or 1"),
        "a: b: c\n": (1, "mapping values are not allowed here"),
    }
    for text, (line, needle) in cases.items():
        with pytest.raises(YamlFileError) as err:
            load_gto_yaml(text, "artifacts.yaml")
        assert err.value.line == line and needle in err.value.detail, (text, err.value)


def test_load_gto_yaml_keeps_lines_and_reads_what_gitops_yaml_refuses() -> None:
    doc = load_gto_yaml("m:\n  type: model\n  custom: {1: a, '1': b}\nx: &x [*x]\n", "f")
    assert doc.data["m"]["custom"] == {1: "a", "1": "b"}
    assert doc.line_of(("m", "custom")) == 3 and doc.line_of(("x",)) == 4
    assert doc.data["x"][0] is doc.data["x"]  # a recursive alias loads (GTO's pydantic refuses)


# -- custom values in `show NAME --json` -----------------------------------------------------

CUSTOMS = [
    "1e3",
    ".inf",
    "-.inf",
    ".nan",
    "-0.0",
    "2024-01-01 10:00:00.5+02:00",
    "2024-01-01 10:00:00",
    "[a, 1, {b: ~}]",
    "{true: 1, false: 2, ~: 3, 1.5: 4, .inf: 5, 2: 6, '2': 7}",
    "{[a, b]: 1, a_b: 2}",
    "{[a, 1]: 1}",
    "!!omap [b: 1, a: 2]",
    "2024-01-01",  # GTO fails from here on
    "[x, 2024-01-01]",
    "!!binary aGVsbG8=",
    "!!set {a}",
    "!!pairs [a: 1]",
    "{2024-01-01: x}",
    "{2024-01-01 10:00:00: x}",
]


@pytest.mark.parametrize("custom", CUSTOMS)
def test_custom_values_print_as_gto_prints_them(custom: str) -> None:
    value = ruamel_load(f"v: {custom}\n")["v"]
    try:
        theirs: str | None = json.dumps(make_ready_to_serialize(value), indent=4)
    except (NotImplementedError, TypeError):
        theirs = None
    if theirs is None:
        with pytest.raises(UnprintableValue):
            json.dumps(printable(value), indent=4, default=json_default)
    else:
        assert json.dumps(printable(value), indent=4, default=json_default) == theirs


@pytest.mark.parametrize("custom", ["{released: 2024-01-01}", "{[a, b]: 1, true: 2, ~: 3}"])
def test_custom_values_in_show_name_json(tmp_path: Path, custom: str) -> None:
    repo = Repo(tmp_path / "repo")
    commit = repo.commit(files={"artifacts.yaml": f"m:\n  custom: {custom}\n"})
    repo.tag("m@v1.0.0", commit)
    compare_all(repo.path, [["show", "--json"]])  # the summary has no custom values
    if run_gto(["show", "m", "--json", "-r", str(repo.path)]).exit_code:
        assert_both_refuse(repo.path, [["show", "m", "--json"]], "cannot be printed as JSON")
        assert run_ours(["show", "m", "-r", str(repo.path)]).exit_code == 0  # a table prints
    else:
        compare_all(repo.path, [["show", "m", "--json"]])


# -- .gto --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "config",
    [
        "INDEX: 1:20\n",  # a string in YAML 1.2 (1.1: 80)
        "INDEX: 1e3\n",  # a number in YAML 1.2 (1.1: a string): GTO refuses
        "INDEX: 0o17\n",
        "stages: [dev, 010]\n",
        "stages: [on, off]\n",
        "stages: [dev]\nSTAGES: [prod]\n",  # the first spelling wins
        "STAGES: [prod]\nstages: [dev]\n",
        "stages: [dev]\nstages: [prod]\n",
        "0\n",  # GTO: `yaml.load(file) or {}`
        "[]\n",
    ],
)
def test_gto_config_is_read_as_gto_reads_it(tmp_path: Path, config: str) -> None:
    repo = Repo(tmp_path / "repo")
    repo.tag("m@v1.0.0", repo.commit(files={"1:20": "m:\n  path: x\n"}))
    (repo.path / ".gto").write_text(config)
    if run_gto(["show", "--json", "-r", str(repo.path)]).exit_code:
        assert_both_refuse(repo.path, [["show", "--json"]], ".gto:")
    else:
        compare_all(repo.path, [["show", "--json"], ["show", "m", "--json"]])
