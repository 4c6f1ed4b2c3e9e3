"""Metrics, params and plots read as DVC reads them, at every revision, from real git repos.

Three layers: ``formats.parse`` (one file's bytes), ``sources.declared_at`` (which files a
revision declares) and ``metrics.read_snapshots`` (every declared file at every revision, with
a number of git processes that does not grow with files or revisions: counted for real with
``GIT_TRACE``, git's own trace of every process it starts).
"""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import pytest

from gitops.registry.git import read_paths_at
from gitops.report import sources
from gitops.report.formats import MAX_BYTES, parse
from gitops.report.metrics import read_snapshots
from gitops.report.model import Declared, FileRead, FileStatus, Kind, PlotSpec, Snapshot
from gitops.report.settings import ReportSettings
from tests.gitutil import Repo, git

M, P, PL = Kind.METRICS, Kind.PARAMS, Kind.PLOTS


def _ok(path: str, text: str | bytes, kind: Kind = M) -> FileRead:
    data = text.encode() if isinstance(text, str) else text
    read = parse(path, data, kind)
    assert read.status == FileStatus.OK, read.error
    return read


def _values(path: str, text: str | bytes, kind: Kind = M) -> dict[str, object]:
    return _ok(path, text, kind).values


# --- formats: one file's bytes ------------------------------------------------------------


def test_json_nested_keys_flatten_with_dots_in_file_order() -> None:
    read = _ok("m.json", '{"z": 1, "train": {"loss": 0.25, "deep": {"x": 2}}, "a": "s"}')
    assert list(read.values.items()) == [
        ("z", 1),
        ("train.loss", 0.25),
        ("train.deep.x", 2),
        ("a", "s"),
    ]


def test_keys_are_not_escaped_a_dotted_key_reads_like_nesting() -> None:
    assert _values("m.json", '{"x/y": {"z": 1}, "a.b": 2, "c": {"d.e": 3}}') == {
        "x/y.z": 1,
        "a.b": 2,
        "c.d.e": 3,
    }


def test_lists_nulls_and_dates_are_skipped_by_name_not_dropped() -> None:
    read = _ok("m.json", '{"lst": [1, 2], "n": null, "k": {"per_class": [0.1], "v": 1}}')
    assert read.values == {"k.v": 1}
    assert read.skipped == ("lst", "n", "k.per_class")
    toml = _ok("m.toml", "a = 1\n[b]\nd = 1979-05-27\nf = [1, 2]\n")
    assert toml.values == {"a": 1} and toml.skipped == ("b.d", "b.f")


def test_yaml_is_read_as_yaml_1_2_like_ruamel() -> None:
    text = (
        "yes_: yes\non_: on\nno_: No\nt: true\nT: TRUE\noct: 0o17\nold_oct: 017\n"
        "hex: 0x1F\nexp: 1e3\nnan: .nan\ninf: -.inf\nclock: 12:30:00\nq: '1'\n"
    )
    values = _values("s.yaml", text)
    assert values["yes_"] == "yes" and values["on_"] == "on" and values["no_"] == "No"
    assert values["t"] is True and values["T"] is True
    assert values["oct"] == 15 and values["old_oct"] == 17 and values["hex"] == 31
    assert values["exp"] == 1000.0 and isinstance(values["exp"], float)
    assert math.isnan(values["nan"]) and values["inf"] == -math.inf  # type: ignore[arg-type]
    assert values["clock"] == "12:30:00" and values["q"] == "1"


@pytest.mark.parametrize("name", ["m.yml", "m.txt", "metrics", "M.YAML"])
def test_any_other_extension_is_yaml(name: str) -> None:
    assert _values(name, "acc: 0.5\n") == {"acc": 0.5}


def test_toml_tables_flatten() -> None:
    values = _values("hp.toml", 'lr = 0.1\nname = "x"\n[opt]\nmom = 0.9\n[opt.inner]\nb = true\n')
    assert values == {"lr": 0.1, "name": "x", "opt.mom": 0.9, "opt.inner.b": True}


def test_huge_ints_stay_exact_and_nan_inf_are_kept() -> None:
    big = 123456789012345678901234567890
    assert _values("m.json", f'{{"big": {big}}}') == {"big": big}
    assert _values("m.yaml", f"big: {big}\n") == {"big": big}
    values = _values("m.json", '{"a": NaN, "b": Infinity, "c": -Infinity, "d": 1e400}')
    assert math.isnan(values["a"]) and values["b"] == values["d"] == math.inf  # type: ignore
    assert values["c"] == -math.inf


def test_bom_and_crlf_read_like_plain_text() -> None:
    for name, text in [
        ("m.json", '\ufeff{"a": 1,\r\n "b": {"c": 2}}\r\n'),
        ("m.yaml", "\ufeffa: 1\r\nb:\r\n  c: 2\r\n"),
        ("m.toml", "\ufeffa = 1\r\n[b]\r\nc = 2\r\n"),
    ]:
        assert _values(name, text) == {"a": 1, "b.c": 2}, name


def test_duplicate_keys_as_each_parser_says() -> None:
    assert _values("m.json", '{"a": 1, "a": 2}') == {"a": 2}  # json: the last one, as DVC
    for name, text in [("m.yaml", "a: 1\na: 2\n"), ("m.toml", "a = 1\na = 2\n")]:
        read = parse(name, text.encode(), M)
        assert read.status == FileStatus.MALFORMED and "\n" not in read.error, name


@pytest.mark.parametrize(
    ("name", "text", "needle"),
    [
        ("m.json", '{"a": 1,', "invalid JSON"),
        ("m.yaml", "a: [1\n", "invalid YAML"),
        ("m.yaml", "a: 1\n  b: 2\n", "invalid YAML"),
        ("m.toml", "a = \n", "invalid TOML"),
        ("m.json", "[1, 2]", "a list"),
        ("m.yaml", "just text\n", "str"),
        ("m.json", "3", "a number"),
        ("m.json", "[" * 100_000, "nested too deeply"),
    ],
)
def test_malformed_files_have_one_line_errors(name: str, text: str, needle: str) -> None:
    read = parse(name, text.encode(), M)
    assert read.status == FileStatus.MALFORMED
    assert needle in read.error and "\n" not in read.error
    assert read.values == {}


def test_yaml_errors_say_invalid_yaml_once_with_the_line() -> None:
    read = parse("m.yaml", b"a: 1\na: 2\n", M)
    assert read.error.count("invalid YAML") == 1 and "(line 2)" in read.error


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b'{"a": 1}\x00', "binary"),
        (b'{"a": "\xff\xfe"}', "UTF-8"),
        (b"a: \xe9t\xe9\n", "UTF-8"),  # Latin-1
        (b"a: 1\n" + b"#" * MAX_BYTES, "too big"),
    ],
)
def test_unreadable_bytes(data: bytes, needle: str) -> None:
    read = parse("m.yaml", data, M)
    assert read.status == FileStatus.UNREADABLE and needle in read.error


def test_an_empty_yaml_file_has_nothing_in_it() -> None:
    read = parse("m.yaml", b"", M)
    assert read.status == FileStatus.OK and read.values == {} and read.error == ""


def test_params_read_like_metrics() -> None:
    read = _ok("params.yaml", "lr: 0.01\nmodel:\n  act: relu\n  layers: [1, 2]\n", P)
    assert read.kind == P and read.values == {"lr": 0.01, "model.act": "relu"}
    assert read.skipped == ("model.layers",)


# --- formats: plots -------------------------------------------------------------------------


def test_json_and_yaml_lists_of_rows() -> None:
    rows = ({"step": 1, "acc": 0.5}, {"step": 2, "acc": 0.75})
    assert _ok("p.json", json.dumps(list(rows)), PL).rows == rows
    assert _ok("p.yaml", "- step: 1\n  acc: 0.5\n- step: 2\n  acc: 0.75\n", PL).rows == rows
    assert _ok("p.json", json.dumps({"train": list(rows)}), PL).rows == rows


def test_plots_lists_in_a_mapping_merge_row_by_row_as_dvc() -> None:
    """DVC's ``get_datapoints`` merges every list of rows in the file, at any depth."""
    data = {"train": [{"loss": 1}, {"loss": 2}], "val": {"inner": [{"vloss": 3}, {"vloss": 4}]}}
    read = _ok("p.json", json.dumps(data), PL)
    assert read.rows == ({"loss": 1, "vloss": 3}, {"loss": 2, "vloss": 4})


def test_plots_that_are_not_rows_are_malformed() -> None:
    for name, text in [("p.json", '{"a": 1}'), ("p.json", "[1, 2]"), ("p.yaml", "x\n")]:
        read = parse(name, text.encode(), PL)
        assert read.status == FileStatus.MALFORMED and read.error, (name, text)
    assert _ok("p.json", "[]", PL).rows == ()


# --- sources: which files a revision declares ---------------------------------------------


def _declared(
    yamls: dict[str, str | None],
    present: tuple[str, ...] = (),
    settings: ReportSettings | None = None,
) -> Declared:
    raw = {k: (v.encode() if v is not None else None) for k, v in yamls.items()}
    return sources.declared_at(settings, raw, set(present).__contains__)


DVC_YAML = """\
metrics:
  - metrics.json
  - eval/scores.yaml
params:
  - hp.toml
plots:
  - plots/loss.csv: {x: step, y: loss}
  - plots/plain.json
  - roc:
      x: fpr
      y:
        plots/roc_train.json: tpr
        plots/roc_val.json: [tpr, thr]
stages:
  train:
    cmd: python train.py
    params:
      - lr
      - model.depth
      - cfg/train.yaml:
          - batch
    metrics:
      - out/train.json:
          cache: false
      - out/extra.json
    plots:
      - out/curve.csv: {y: [acc, loss], title: Curve}
  eval:
    cmd: python eval.py
    wdir: evaluation
    metrics:
      - scores.json: {cache: false}
    params:
      - threshold
"""


def test_sub_project_paths_are_relative_to_its_folder() -> None:
    sub = "metrics: [m.json, ../shared.json, ../../outside.json]\nstages:\n  s:\n    cmd: x\n" \
          "    params: [lr]\n    plots: [p.csv]\n"  # fmt: skip
    d = _declared({"dvc.yaml": "metrics: [root.json]\n", "sub/dvc.yaml": sub})
    assert d.metrics == ("root.json", "sub/m.json", "shared.json")  # never above the root
    assert d.params == ("sub/params.yaml",)
    assert d.plots == (PlotSpec("sub/p.csv"),)
    assert d.source == "dvc.yaml, sub/dvc.yaml"


def test_defaults_without_dvc_yaml() -> None:
    d = _declared({"dvc.yaml": None}, present=("metrics.json", "params.yaml"))
    assert (d.metrics, d.params, d.source) == (("metrics.json",), ("params.yaml",), "default")
    d = _declared({"dvc.yaml": None}, present=())
    assert (d.metrics, d.params) == ((), ())


def test_root_params_yaml_is_read_whenever_present_as_dvc_does() -> None:
    """DVC's ``params show/diff`` always includes the root params.yaml (its default file);
    metrics.json is only a default when nothing is declared (DVC has no default metrics)."""
    yamls = {"dvc.yaml": "metrics: [m.json]\nparams: [hp.toml]\n"}
    d = _declared(yamls, present=("metrics.json", "params.yaml"))
    assert d.metrics == ("m.json",) and d.params == ("hp.toml", "params.yaml")
    d = _declared({"dvc.yaml": "params: [params.yaml, hp.toml]\n"}, present=("params.yaml",))
    assert d.params == ("params.yaml", "hp.toml")  # where it is declared, once


# --- read_snapshots: real repositories --------------------------------------------------------


def _snap_values(snapshot: Snapshot, path: str, kind: Kind = M) -> dict[str, object]:
    read = snapshot.file(path, kind)
    assert read is not None and read.status == FileStatus.OK, (path, read)
    return read.values


def test_files_changing_over_commits(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    dvc = "metrics: [metrics.json, eval/s.yaml]\nparams: [hp.toml]\nplots: [loss.csv]\n"
    a = repo.commit(files={
        "dvc.yaml": dvc,
        "metrics.json": '{"acc": 0.5, "train": {"loss": 0.3}}',
        "eval/s.yaml": "f1: 0.1\nflag: yes\n",
        "hp.toml": "lr = 0.1\n",
        "params.yaml": "seed: 1\n",
        "loss.csv": "step,loss\n1,0.5\n",
    })  # fmt: skip
    b = repo.commit(files={"metrics.json": '{"acc": 0.7, "train": {"loss": 0.2}, "new": 1}',
                           "loss.csv": "step,loss\n1,0.5\n2,0.4\n"})  # fmt: skip
    git(repo.path, "rm", "-q", "eval/s.yaml")
    c = repo.commit(files={"params.yaml": "seed: 2\n"})
    snaps = read_snapshots(repo.path, None, [("c", c), ("b", b), ("a", a)])
    assert [s.label for s in snaps] == ["c", "b", "a"] and [s.sha for s in snaps] == [c, b, a]
    sc, sb, sa = snaps
    assert _snap_values(sa, "metrics.json") == {"acc": 0.5, "train.loss": 0.3}
    assert _snap_values(sb, "metrics.json") == {"acc": 0.7, "train.loss": 0.2, "new": 1}
    assert _snap_values(sa, "eval/s.yaml") == {"f1": 0.1, "flag": "yes"}
    gone = sc.file("eval/s.yaml", M)
    assert gone is not None and gone.status == FileStatus.MISSING and gone.error
    assert _snap_values(sa, "params.yaml", P) == {"seed": 1}
    assert _snap_values(sc, "params.yaml", P) == {"seed": 2}
    assert _snap_values(sa, "hp.toml", P) == {"lr": 0.1}
    plots = sb.file("loss.csv", PL)
    assert plots is not None and plots.rows == ({"step": 1, "loss": 0.5}, {"step": 2, "loss": 0.4})
    # every file in declared order, each kind in turn
    assert [(f.path, f.kind) for f in sc.files] == [
        ("metrics.json", M),
        ("eval/s.yaml", M),
        ("hp.toml", P),
        ("params.yaml", P),
        ("loss.csv", PL),
    ]


def test_each_revision_own_dvc_yaml_decides(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    a = repo.commit(files={"dvc.yaml": "metrics: [old.json]\n", "old.json": '{"x": 1}',
                           "new.json": '{"y": 2}'})  # fmt: skip
    b = repo.commit(files={"dvc.yaml": "metrics: [new.json]\n"})
    sb, sa = read_snapshots(repo.path, None, [("b", b), ("a", a)])
    assert [f.path for f in sa.files] == ["old.json"]
    assert [f.path for f in sb.files] == ["new.json"]
    assert sa.declared is not None and sa.declared.metrics == ("old.json",)


def test_defaults_and_no_dvc_yaml(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    a = repo.commit(files={"metrics.json": '{"acc": 1}', "params.yaml": "lr: 0.1\n"})
    (s,) = read_snapshots(repo.path, None, [("a", a)])
    assert [(f.path, f.kind) for f in s.files] == [("metrics.json", M), ("params.yaml", P)]
    assert s.declared is not None and s.declared.source == "default"
    empty = repo.commit(files={"README": "x"})
    git(repo.path, "rm", "-q", "metrics.json", "params.yaml")
    empty = repo.commit()
    (s,) = read_snapshots(repo.path, None, [("e", empty)])
    assert s.files == ()


def test_sub_project_found_in_the_newest_revision(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    a = repo.commit(files={"dvc.yaml": "metrics: [m.json]\n", "m.json": '{"a": 1}',
                           "sub/dvc.yaml": "metrics: [s.json]\nstages:\n  t:\n    cmd: x\n"
                                           "    params: [lr]\n",
                           "sub/s.json": '{"b": 2}', "sub/params.yaml": "lr: 0.5\n"})  # fmt: skip
    b = repo.commit(files={"sub/s.json": '{"b": 3}'})
    sb, sa = read_snapshots(repo.path, None, [("b", b), ("a", a)])
    assert [f.path for f in sb.files] == ["m.json", "sub/s.json", "sub/params.yaml"]
    assert _snap_values(sa, "sub/s.json") == {"b": 2}
    assert _snap_values(sb, "sub/s.json") == {"b": 3}
    assert _snap_values(sb, "sub/params.yaml", P) == {"lr": 0.5}


def test_a_broken_dvc_yaml_in_a_revision_is_a_note(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    a = repo.commit(files={"dvc.yaml": "metrics: [m.json\n", "m.json": '{"a": 1}',
                           "params.yaml": "lr: 1\n"})  # fmt: skip
    (s,) = read_snapshots(repo.path, None, [("a", a)])
    assert s.declared is not None and s.declared.notes and "dvc.yaml" in s.declared.notes[0]
    assert [f.path for f in s.files] == ["params.yaml"]  # DVC's default file still read


def test_reports_settings_in_a_repo(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    a = repo.commit(files={"dvc.yaml": "metrics: [m.json]\n", "m.json": '{"a": 1}',
                           "other.json": '{"b": 2}'})  # fmt: skip
    (s,) = read_snapshots(repo.path, ReportSettings(metrics=["other.json"]), [("a", a)])
    assert [f.path for f in s.files] == ["other.json"]
    assert _snap_values(s, "other.json") == {"b": 2}


def test_a_folder_with_a_line_break_does_not_break_the_batch(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    sha = repo.commit(files={"dvc.yaml": "metrics: [m.json]\n", "m.json": '{"a": 1}',
                             "we\nird/dvc.yaml": "metrics: [x.json]\n",
                             "params.yaml": "lr: 1\n"})  # fmt: skip
    (s,) = read_snapshots(repo.path, None, [("s", sha)])
    assert [f.path for f in s.files] == ["m.json", "params.yaml"]  # no answer shifted
    assert _snap_values(s, "m.json") == {"a": 1}
    from gitops.report.probe import has_report_files

    assert has_report_files(repo.path, [sha])


def test_the_same_content_at_many_revisions_is_parsed_once(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    shas = [repo.commit(files={"metrics.json": '{"acc": 0.5}'})]
    shas += [repo.commit() for _ in range(5)]
    shas.append(repo.commit(files={"metrics.json": '{"acc": 0.6}'}))
    snaps = read_snapshots(repo.path, None, [(s[:7], s) for s in reversed(shas)])
    reads = [s.file("metrics.json", M) for s in snaps]
    assert reads[0] is not None and reads[0].values == {"acc": 0.6}
    assert all(r is reads[1] for r in reads[1:])  # one FileRead object: one parse
    assert reads[1] is not None and reads[1].values == {"acc": 0.5}
    # the same declaring files: one Declared for those revisions too
    assert all(s.declared is snaps[1].declared for s in snaps[1:])
    assert snaps[0].declared == snaps[1].declared


def test_duplicate_revisions_keep_their_labels(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    sha = repo.commit(files={"metrics.json": '{"acc": 0.5}'})
    snaps = read_snapshots(repo.path, None, [("main", sha), ("v1", sha)])
    assert [s.label for s in snaps] == ["main", "v1"] and snaps[0].files == snaps[1].files
    assert read_snapshots(repo.path, None, []) == []


def test_read_paths_at_names_each_object_and_reads_blobs(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    sha = repo.commit(files={"a b.json": "12345", "d/x": "y"})
    found = read_paths_at(repo.path, [f"{sha}:a b.json", f"{sha}:nope", f"{sha}:d"])
    first = found[f"{sha}:a b.json"]
    assert first is not None and (first.type, first.size, first.content) == ("blob", 5, b"12345")
    assert found[f"{sha}:nope"] is None
    folder = found[f"{sha}:d"]
    assert folder is not None and folder.type == "tree" and folder.content is None


def test_a_name_with_a_line_break_shifts_no_answer(tmp_path: Path) -> None:
    """git reads one name per line: such a name is answered None, the others in place."""
    repo = Repo(tmp_path / "r")
    sha = repo.commit(files={"a.json": "1", "b.json": "22"})
    names = [f"{sha}:a.json", f"{sha}:x\nb.json", f"{sha}:b.json"]
    found = read_paths_at(repo.path, names)
    assert found[names[1]] is None
    first, last = found[names[0]], found[names[2]]
    assert first is not None and last is not None
    assert (first.content, last.content) == (b"1", b"22")


# --- a constant number of git processes -----------------------------------------------------


def _git_processes(trace: Path) -> int:
    """git processes started, from git's own trace (a ``built-in`` line for each)."""
    if not trace.exists():
        return 0
    return sum(" trace: built-in: git " in line for line in trace.read_text().splitlines())


def _repo_with(tmp_path: Path, files: int, revisions: int) -> tuple[Repo, list[str]]:
    """``files`` metrics files declared in dvc.yaml (and a sub-project), each revision changing
    some of them."""
    repo = Repo(tmp_path / f"r{files}x{revisions}")
    names = [f"m/{i:03d}.json" for i in range(files)]
    shas = []
    for rev in range(revisions):
        for i, name in enumerate(names):
            if rev == 0 or i % revisions == rev % max(files, 1):
                target = repo.path / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(json.dumps({"acc": rev, "i": i}))
        if rev == 0:
            (repo.path / "dvc.yaml").write_text("metrics:\n" + "".join(f"  - {n}\n" for n in names))
            (repo.path / "sub").mkdir()
            (repo.path / "sub/dvc.yaml").write_text("plots: [p.csv]\n")
            (repo.path / "sub/p.csv").write_text("x,y\n1,2\n")
        git(repo.path, "add", "-A")
        shas.append(repo.commit())
    return repo, shas


@pytest.mark.parametrize(("files", "revisions"), [(2, 2), (200, 2), (2, 50), (200, 50)])
def test_git_processes_do_not_grow_with_files_or_revisions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: int, revisions: int
) -> None:
    repo, shas = _repo_with(tmp_path, files, revisions)
    trace = tmp_path / f"trace-{files}-{revisions}.log"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    snaps = read_snapshots(repo.path, None, [(s[:7], s) for s in reversed(shas)])
    monkeypatch.delenv("GIT_TRACE")
    # ls-tree; batch-check and batch of the dvc.yaml files; batch-check and batch of the rest
    assert _git_processes(trace) == 5
    assert len(snaps) == revisions and all(len(s.files) == files + 1 for s in snaps)
    assert _snap_values(snaps[0], "m/000.json")["i"] == 0
    assert snaps[-1].file("sub/p.csv", PL) is not None


def test_git_processes_of_a_whole_gitops_report_run(tmp_path: Path) -> None:
    """The same count seen from outside: ``gitops report`` as a process, GIT_TRACE in its
    environment; 2 files vs 200 files cost the same number of git processes."""
    counts = []
    for files in (2, 200):
        repo, shas = _repo_with(tmp_path, files, 3)
        trace = tmp_path / f"cli-{files}.log"
        proc = subprocess.run(
            [
                _python(),
                "-m",
                "gitops",
                "report",
                "--base",
                shas[0],
                "--head",
                shas[-1],
                "--format",
                "json",
            ],
            cwd=repo.path,
            capture_output=True,
            text=True,
            env={**_env(), "GIT_TRACE": str(trace)},
            timeout=120,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        assert str(files - 1) in proc.stdout or "m/" in proc.stdout
        counts.append(_git_processes(trace))
    print("git processes of gitops report, 2 vs 200 files:", counts)
    assert counts[0] == counts[1] and counts[0] > 0


def _python() -> str:
    import sys

    return sys.executable


def _env() -> dict[str, str]:
    import os

    from tests.gitutil import BASE_ENV

    root = str(Path(__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, **BASE_ENV, "PYTHONPATH": root + (os.pathsep + path if path else "")}
