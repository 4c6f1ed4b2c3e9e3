"""YAML as GTO reads it: the PyYAML re-creation of ruamel's rules against ruamel.yaml itself.

GTO 1.10.1 reads ``artifacts.yaml`` and ``.gto`` with ``YAML(typ="safe", pure=True)``. Until
issue 14, gitops read them with ``gitops.yaml12.GtoLoader`` (PyYAML's pure-Python loader with
ruamel's YAML 1.2 rules swapped in); this compares it with ruamel.yaml, pure as GTO uses it and
C-accelerated (``typ="safe"`` with ``ruamel.yaml.clib``) when that is importable, on:

- exactness against GTO's reader: the documents of tests/test_yaml12.py (equal values and types,
  or both refusing), its known misses, the ``%YAML`` directive GTO's shared loader keeps, and the
  generated documents of tests/test_yaml12_fast.py;
- start-up: ``python -c "import ...; load('a: 1')"`` as a fresh process, median of N, minus the
  bare interpreter;
- parse time: a small ``artifacts.yaml`` (10 artifacts), a large one (5,000 artifacts with
  descriptions, labels, custom fields), and per file over 1,000 versions of a small one, the way
  ``gitops.registry.reader`` reads a file across history (``ArtifactsYamlReader``: the subset
  reader ``gitops.yaml12_fast`` with entries cached, and the careful reader for a version it
  does not take);
- peak memory (RSS of a fresh process reading the large file, and tracemalloc's peak of the
  parse itself).

``gitops.yaml12`` was deleted when ruamel.yaml won: it is loaded from the last commit that had
it (``git show``), so the comparison can be run again. Medians throughout; the machine these
figures come from is shared and busy, so single runs are noisy.

Decision (issue 14): ruamel.yaml, pure. It is GTO's reader, so it is exact by construction (the
re-creation: 519/519 table cases but 0/5 known misses and 16/1200 generated documents differ,
all NEL/LS line breaks); it starts faster (~18 ms against ~23 ms over a bare interpreter) and
takes a little less memory; it parses about 1.5x slower (10-entry file 4.8 against 3.0 ms), but
only off the hot path: `gitops show` reads common files with the subset reader (0.1 ms) either
way, so benchmarks/registry.py's annotated 10k figures did not move (show --json 0.304 s
before, 0.298 s after). ruamel C (clib) is faster still but is not GTO's reader: 32 of 519 differ.

    PYTHONPATH=. python benchmarks/yaml_readers.py [--repeat 11] [--quick]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
import yaml  # noqa: E402 (PyYAML)
from annotation_files import AnnotationHistory  # noqa: E402

Loader = Callable[[str], Any]


# -- the implementations -----------------------------------------------------------------------


def recreation_source() -> tuple[Path, str]:
    """``gitops/yaml12.py`` of the work tree, else of the last commit that had it, copied as
    ``yaml12_recreation.py`` into a folder of its own (for the fresh processes too)."""
    here = ROOT / "gitops" / "yaml12.py"
    if here.is_file():
        text, where = here.read_text(), "work tree"
    else:
        deleted = _git("log", "-1", "--format=%H", "--", "gitops/yaml12.py").strip()
        text, where = _git("show", f"{deleted}^:gitops/yaml12.py"), f"commit {deleted[:10]}^"
    path = Path(tempfile.mkdtemp(prefix="yaml12-")) / "yaml12_recreation.py"
    path.write_text(text)
    return path, where


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True
    ).stdout


def recreation_module() -> Any:
    path, _ = recreation_source()
    spec = importlib.util.spec_from_file_location("yaml12_recreation", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def recreation_loader() -> Loader:
    gto_loader = recreation_module().GtoLoader
    return lambda text: yaml.load(text, Loader=gto_loader)  # noqa: S506 (a safe loader)


def ruamel_loader(pure: bool) -> Loader:
    from ruamel.yaml import YAML

    def load(text: str) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return YAML(typ="safe", pure=pure).load(text)

    return load


def ruamel_c_available() -> bool:
    from ruamel.yaml import YAML

    return "CParser" in YAML(typ="safe").Parser.__name__


def gitops_loader() -> Loader:
    """What gitops calls now for a file GTO reads (values, and the lines for errors)."""
    from gitops.yamlfile import load_gto_yaml

    return lambda text: load_gto_yaml(text, "f").data


def fast_loader() -> Loader:
    """The subset reader of the hot path: answers for common files, passes (NotSimple) else."""
    from gitops.yaml12_fast import load

    return load


# -- exactness ---------------------------------------------------------------------------------


def outcome(load: Loader, text: str) -> Any:
    from test_yaml12 import typed

    from gitops.yaml12_fast import NotSimple

    try:
        return typed(load(text))
    except NotSimple:
        raise
    except Exception:  # ruamel fails with ValueError, TypeError... as well as YAML errors
        return "error"


def agreement(load: Loader, reference: Loader, texts: list[str]) -> str:
    """ "same + both refuse" over ``texts``, with the differences and the texts the subset
    reader passed (``NotSimple``: its caller then reads them carefully)."""
    from gitops.yaml12_fast import NotSimple

    same = refused = differ = passed = 0
    for text in texts:
        theirs = outcome(reference, text)
        try:
            ours = outcome(load, text)
        except NotSimple:
            passed += 1
            continue
        if ours != theirs:
            differ += 1
        elif ours == "error":
            refused += 1
        else:
            same += 1
    return (
        f"{same}+{refused} err"
        + (f", {differ} DIFFER" if differ else "")
        + (f", {passed} passed" if passed else "")
    )


LEAK_FIRST, LEAK_SECOND = "%YAML 1.1\n---\na: 1\n", "v: [010, yes, 1:20]\n"


def after_directive(load: Loader) -> Any:
    """The second file, read by ``load`` after a ``%YAML 1.1`` one (GTO's shared loader keeps
    the directive: the second reads by YAML 1.1)."""
    load(LEAK_FIRST)
    return outcome(load, LEAK_SECOND)


def gto_after_directive() -> Any:
    """What GTO reads: its own module-level loader, in a fresh process (it keeps state)."""
    code = (
        "import gto.config, json\n"
        f"gto.config.yaml.load({LEAK_FIRST!r})\n"
        f"print(json.dumps(gto.config.yaml.load({LEAK_SECOND!r})))"
    )
    import json

    from test_yaml12 import typed

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return typed(json.loads(out.stdout))


def shared_ruamel(pure: bool) -> Loader:
    """One ``YAML`` object for every file, as GTO's ``gto.config.yaml``."""
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=pure).load


def generated_documents() -> list[str]:
    from test_yaml12_fast import _document

    rng_docs = []
    for seed in range(4):
        rng = random.Random(seed)
        rng_docs += [_document(rng) for _ in range(300)]
    return rng_docs


# -- timing ------------------------------------------------------------------------------------


def median_time(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def process_time(code: str, repeat: int) -> float:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    argv = [sys.executable, "-c", code]
    subprocess.run(argv, check=True, env=env)  # warm: bytecode written
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, check=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


START_CODE = {
    "PyYAML re-creation": "import sys; sys.path.insert(0, {dir!r}); import yaml12_recreation as m;"
    " m.yaml.load('a: 1', Loader=m.GtoLoader)",
    "ruamel pure (GTO's)": "from ruamel.yaml import YAML; YAML(typ='safe', pure=True).load('a: 1')",
    "ruamel C": "from ruamel.yaml import YAML; YAML(typ='safe').load('a: 1')",
    "gitops now (load_gto_yaml)": "from gitops.yamlfile import load_gto_yaml as f; f('a: 1', 'f')",
    "subset reader (yaml12_fast)": "from gitops.yaml12_fast import load; load('a: 1')",
}

MEMORY_CODE = """
import sys, tracemalloc
sys.path[:0] = {path!r}
text = open({file!r}).read()
{setup}
tracemalloc.start()
load(text)
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
print(peak)
"""


def high_water_mb() -> str:
    """Code printing the process's peak RSS: VmHWM, which an exec resets (``ru_maxrss`` keeps
    the parent's at the fork)."""
    return (
        "print(next(int(line.split()[1]) for line in open('/proc/self/status')"
        " if line.startswith('VmHWM:')) / 1024)"
    )


MEMORY_SETUP = {
    "PyYAML re-creation": "import yaml, yaml12_recreation as m\n"
    "load = lambda t: yaml.load(t, Loader=m.GtoLoader)",
    "ruamel pure (GTO's)": "from ruamel.yaml import YAML\n"
    "load = lambda t: YAML(typ='safe', pure=True).load(t)",
    "ruamel C": "from ruamel.yaml import YAML\nload = lambda t: YAML(typ='safe').load(t)",
    "gitops now (load_gto_yaml)": "from gitops.yamlfile import load_gto_yaml\n"
    "load = lambda t: load_gto_yaml(t, 'f')",
    "subset reader (yaml12_fast)": "from gitops.yaml12_fast import load",
}


def peak_memory(code: str) -> list[float]:
    """The numbers a fresh process prints."""
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return [float(x) for x in out.stdout.split()]


def artifacts_yaml(entries: int, seed: int = 1) -> str:
    names = [f"model-{i:04d}" for i in range(entries)]
    return AnnotationHistory(names, seed, every=1, entries=entries).files_at(0)["artifacts.yaml"]


def history(versions: int, entries: int = 10, odd: bool = False) -> list[bytes]:
    """``versions`` successive contents of a small ``artifacts.yaml`` (a few entries change at
    each); ``odd``: one entry's description is a block scalar, outside the subset reader's."""
    names = [f"model-{i:02d}" for i in range(entries)]
    h = AnnotationHistory(names, seed=3, every=1, entries=entries)
    out = []
    for commit in range(versions):
        text = h.files_at(commit)["artifacts.yaml"]
        if odd:
            text = text.replace("\n", "\n  notes: |\n    multi\n    line\n", 3).replace(
                "\n  notes: |\n    multi\n    line\n", "\n", 2
            )
        out.append(text.encode())
    return out


def registry_reader_cost(contents: list[bytes], careful: Callable[..., Any] | None) -> float:
    """Seconds per file for ``ArtifactsYamlReader`` over ``contents``, its careful reader
    (``load_gto_yaml``) replaced by ``careful`` when given."""
    import gitops.yamlfile as yamlfile
    from gitops.registry.annotations import ArtifactsYamlReader

    original = yamlfile.load_gto_yaml
    if careful is not None:
        yamlfile.load_gto_yaml = careful
    try:
        reader = ArtifactsYamlReader()
        start = time.perf_counter()
        for i, content in enumerate(contents):
            reader.parse(content, f"artifacts.yaml (at commit {i})")
        return (time.perf_counter() - start) / len(contents)
    finally:
        yamlfile.load_gto_yaml = original


def recreation_load_gto_yaml(gto_loader: type) -> Callable[..., Any]:
    """``load_gto_yaml`` as it was with the re-creation: the same walk for lines."""
    from gitops.yamlfile import YamlDocument, _walk, _yaml_errors

    def load_gto_yaml(text: str | bytes, file: str) -> Any:
        lines: dict[tuple, int] = {}
        with _yaml_errors(file, yaml.MarkedYAMLError, yaml.YAMLError):
            loader = gto_loader(text)
            try:
                node = loader.get_single_node()
                if node is not None:
                    _walk(node, (), lines, file, check_duplicates=False, walked=set())
                data = loader.construct_document(node) if node is not None else None
            finally:
                loader.dispose()
        return YamlDocument(file=file, data=data, lines=lines)

    return load_gto_yaml


# -- the report --------------------------------------------------------------------------------


def table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        lines.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}" if seconds < 0.1 else f"{seconds * 1000:.0f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=11, help="runs per timing (median)")
    parser.add_argument("--quick", action="store_true", help="fewer runs, smaller history")
    args = parser.parse_args(argv)
    repeat = 3 if args.quick else args.repeat
    versions = 200 if args.quick else 1000

    from test_yaml12 import CASES, MISSES

    source, where = recreation_source()
    impls: dict[str, Loader] = {
        "PyYAML re-creation": recreation_loader(),
        "ruamel pure (GTO's)": ruamel_loader(pure=True),
    }
    if ruamel_c_available():
        impls["ruamel C"] = ruamel_loader(pure=False)
    impls["gitops now (load_gto_yaml)"] = gitops_loader()
    reference = impls["ruamel pure (GTO's)"]
    print(f"PyYAML re-creation: gitops/yaml12.py of the {where}")
    print(f"ruamel C: {'ruamel.yaml.clib importable' if 'ruamel C' in impls else 'not installed'}")
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}"
        " (shared machine: medians of noisy runs)\n"
    )

    # exactness
    generated = generated_documents()
    gto_leak = gto_after_directive()
    rows = [
        [
            "reader",
            f"{len(CASES)} cases",
            f"{len(MISSES)} misses",
            "after %YAML 1.1",
            f"{len(generated)} generated",
        ]
    ]
    for name, load in [*impls.items(), ("subset reader (yaml12_fast)", fast_loader())]:
        cells = [name, agreement(load, reference, CASES), agreement(load, reference, MISSES)]
        if name.startswith("ruamel"):  # as GTO uses it: one object for every file
            load_after = shared_ruamel(pure="C" not in name)
        else:
            load_after = load
        try:
            leak = after_directive(load_after)
            cells.append("same as GTO" if leak == gto_leak else "differs")
        except Exception:
            cells.append("passed")  # the subset reader refuses directives
        cells.append(agreement(load, reference, generated))
        rows.append(cells)
    print("Exactness against ruamel pure, GTO's reader (equal values + both refuse):")
    print(table(rows) + "\n")

    # start-up
    bare = process_time("pass", repeat)
    rows = [["reader", "import + first load, ms (minus bare python)"]]
    for name, code in START_CODE.items():
        if name == "ruamel C" and "ruamel C" not in impls:
            continue
        took = process_time(code.format(dir=str(source.parent)), repeat)
        rows.append([name, ms(took - bare)])
    print(f"Start-up, fresh process, median of {repeat} (bare interpreter {ms(bare)} ms):")
    print(table(rows) + "\n")

    # parse time
    small, large = artifacts_yaml(10), artifacts_yaml(5000)
    contents = history(versions)
    odd = history(versions, odd=True)
    rows = [
        [
            "reader",
            "small (10) ms",
            f"large (5,000; {len(large) // 1024} KiB) ms",
            f"per file of {versions} ms",
        ]
    ]
    for name, load in [*impls.items(), ("subset reader (yaml12_fast)", fast_loader())]:
        big_repeat = max(3, repeat // 3)
        per_file = median_time(lambda f=load: [f(c.decode()) for c in contents], 1) / len(contents)
        rows.append(
            [
                name,
                ms(median_time(lambda f=load: f(small), repeat)),
                ms(median_time(lambda f=load: f(large), big_repeat)),
                ms(per_file),
            ]
        )
    print("Parse time of whole files (median):")
    print(table(rows) + "\n")

    careful = {
        "PyYAML re-creation": recreation_load_gto_yaml(recreation_module().GtoLoader),
        "gitops now (load_gto_yaml)": None,
    }
    rows = [
        [
            "careful reader",
            f"simple history ({versions}) ms/file",
            f"history with a block scalar ({versions}) ms/file",
        ]
    ]
    for name, fn in careful.items():
        rows.append(
            [name, ms(registry_reader_cost(contents, fn)), ms(registry_reader_cost(odd, fn))]
        )
    print("ArtifactsYamlReader over a file's history (what `gitops show` does per distinct blob):")
    print(table(rows) + "\n")

    # memory
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(large)
    rows = [["reader", "peak RSS MB (process)", "parse peak MB (tracemalloc)"]]
    for name in MEMORY_SETUP:
        if name == "ruamel C" and "ruamel C" not in impls:
            continue
        code = MEMORY_CODE.format(
            path=[str(source.parent), str(ROOT)], file=f.name, setup=MEMORY_SETUP[name]
        )
        (traced,) = peak_memory(code)
        # RSS from a run without tracemalloc (its own bookkeeping takes memory)
        plain = code.replace("tracemalloc.start()", "").replace("print(peak)", "")
        (rss,) = peak_memory(plain.replace("peak = tracemalloc", "# ") + high_water_mb())
        rows.append([name, f"{rss:.1f}", f"{traced / 2**20:.1f}"])
    os.unlink(f.name)
    bare_rss = peak_memory(high_water_mb())[0]
    print(f"Memory reading the large file (bare interpreter: {bare_rss:.1f} MB):")
    print(table(rows))


if __name__ == "__main__":
    main()
