"""Reading metrics, params and plots: formats as DVC reads them, which files a revision declares,
and every file at every revision from real git repositories in a constant number of git runs."""

from __future__ import annotations

import math
import os
import re
import statistics
import time
from pathlib import Path

import pytest
from gitutil import Repo, git

from gitops.registry.git import read_paths_at
from gitops.report.formats import MAX_BYTES, cell, parse, select_keys
from gitops.report.metrics import read_snapshots
from gitops.report.model import Declared, FileRead, FileStatus, Kind, PlotSpec, Snapshot
from gitops.report.settings import ReportSettings
from gitops.report.sources import declared_at

M, P, PL = Kind.METRICS, Kind.PARAMS, Kind.PLOTS


def ok(path: str, text: str | bytes, kind: Kind = M) -> FileRead:
    read = parse(path, text.encode() if isinstance(text, str) else text, kind)
    assert read.status is FileStatus.OK, read.error
    return read


def failed(path: str, text: str | bytes, status: FileStatus, kind: Kind = M) -> str:
    read = parse(path, text.encode() if isinstance(text, str) else text, kind)
    assert read.status is status, (read.status, read.values)
    assert read.values == {} and read.rows == ()
    assert read.error and "\n" not in read.error
    return read.error


# -- formats -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "text", "values", "skipped"),
    [
        (
            "m.json",
            '{"acc": 0.9, "train": {"loss": 0.25, "auc": 1}, "label": "foo", "ok": true}',
            {"acc": 0.9, "train.loss": 0.25, "train.auc": 1, "label": "foo", "ok": True},
            (),
        ),
        (
            "m.json",
            '{"lst": [1, 2], "s": null, "e": {}, "deep": {"x": {"y": {"z": -3}}}}',
            {"deep.x.y.z": -3},
            ("lst", "s", "e"),
        ),
        ("m.json", '{"n": NaN, "i": Infinity, "j": -Infinity}', None, ()),
        (
            "m.yaml",
            "acc: 0.9\nopt: yes\nsci: 1e3\noct: 0777\nt: 1:20\nnested:\n  k: on\n",
            {"acc": 0.9, "opt": "yes", "sci": 1000.0, "oct": 777, "t": "1:20", "nested.k": "on"},
            (),
        ),
        ("m.yml", "a: .nan\nb: -.inf\n", None, ()),
        ("eval/scores", "f1: 0.8\n", {"f1": 0.8}, ()),  # no extension: YAML, as DVC
        (
            "p.toml",
            '[model]\ndepth = 3\nact = "relu"\n[train]\nlr = 1e-3\nwhen = 2024-01-02\n',
            {"model.depth": 3, "model.act": "relu", "train.lr": 0.001},
            ("train.when",),
        ),
        (
            "p.toml",
            'name = "x"\n[[runs]]\nseed = 1\n[[runs]]\nseed = 2\n[opt]\nbetas = [0.9, 0.99]\n',
            {"name": "x"},
            ("runs", "opt.betas"),
        ),
        ("m.json", '{"x/y": {"z": 1}, "a b": {"c|d": 2}}', {"x/y.z": 1, "a b.c|d": 2}, ()),
        (
            "m.yaml",
            "1: one\n2.5: x\nfalse: no\nnested:\n  3: three\n",
            {"1": "one", "2.5": "x", "False": "no", "nested.3": "three"},
            (),
        ),
        ("m.yaml", "1: one\ntrue: yes\n", None, ()),  # 1 and true are one key in Python: below
        ("m.json", "", {}, ()),
        ("m.yaml", "# nothing yet\n", {}, ()),
        ("m.json", "null", {}, ()),
    ],
)
def test_values_flatten_as_dvc(
    path: str, text: str, values: dict[str, object] | None, skipped: tuple[str, ...]
) -> None:
    if text == "1: one\ntrue: yes\n":  # as ruamel (DVC) reads it: a duplicate key
        assert "duplicate key" in failed(path, text, FileStatus.MALFORMED)
        return
    read = ok(path, text)
    if values is None:  # NaN and infinities: compared by kind
        kinds = [
            ("nan" if math.isnan(v) else "inf" if v > 0 else "-inf") for v in read.values.values()
        ]  # type: ignore[arg-type]
        assert kinds == ["nan", "inf", "-inf"][: len(kinds)] or kinds == ["nan", "-inf"]
        assert all(isinstance(v, float) for v in read.values.values())
    else:
        assert read.values == values
    assert read.skipped == skipped


def test_key_order_is_the_files() -> None:
    text = '{"zeta": 1, "alpha": {"b": 2, "a": 3}, "mid": 4}'
    assert list(ok("m.json", text).values) == ["zeta", "alpha.b", "alpha.a", "mid"]
    yaml_text = "zeta: 1\nalpha:\n  b: 2\n  a: 3\nmid: 4\n"
    assert list(ok("m.yaml", yaml_text).values) == ["zeta", "alpha.b", "alpha.a", "mid"]
    toml_text = "zeta = 1\nmid = 4\n[alpha]\nb = 2\na = 3\n"
    assert list(ok("m.toml", toml_text).values) == ["zeta", "mid", "alpha.b", "alpha.a"]


def test_bool_stays_bool_and_int_stays_int() -> None:
    values = ok("m.json", '{"t": true, "f": false, "i": 3, "x": 3.0}').values
    assert values["t"] is True and values["f"] is False
    assert type(values["i"]) is int and type(values["x"]) is float


@pytest.mark.parametrize(
    ("path", "text", "needle"),
    [
        ("m.json", "[1, 2]", "a list"),
        ("m.json", '"just text"', "a string"),
        ("m.json", "0.5", "a number"),
        ("m.yaml", "- a\n- b\n", "a list"),
        ("m.csv", "acc,loss\n0.72,0.28\n", "a string"),  # DVC reads .csv metrics as YAML
        ("m.json", '{"acc": 0.9,}', "invalid JSON"),
        ("m.json", '{"acc": 0.9', "line 1"),
        ("m.yaml", "a: 1\na: 2\n", "duplicate key"),
        ("m.yaml", "a: [1, 2\n", "invalid YAML"),
        ("m.yaml", "a: 1\n  b: 2\n", "line 2"),
        ("m.toml", "a = \n", "invalid TOML"),
        ("m.toml", "a = 1\na = 2\n", "invalid TOML"),
        ("m.json", '{"a.b": 1, "a": {"b": 2}}', "'a.b' appears twice"),
        ("m.json", '{"big": ' + "9" * 5000 + "}", "invalid JSON"),
        ("m.json", "[" * 100_000, "nested too deeply"),
    ],
)
def test_malformed_files_say_why(path: str, text: str, needle: str) -> None:
    error = failed(path, text, FileStatus.MALFORMED)
    assert needle in error


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b'{"acc": "caf\xe9"}', "not UTF-8"),
        ("a: 1\n".encode("utf-16"), "binary"),
        (b"a: 1\n" + b"#" * MAX_BYTES, "too big"),
    ],
)
def test_unreadable_files(data: bytes, needle: str) -> None:
    assert needle in failed("m.yaml", data, FileStatus.UNREADABLE)


def test_bom_and_crlf_are_not_content() -> None:
    for path, text in [
        ("m.json", '{"acc": 0.5,\r\n "loss": 0.1}\r\n'),
        ("m.yaml", "acc: 0.5\r\nloss: 0.1\r\n"),
        ("m.toml", "acc = 0.5\r\nloss = 0.1\r\n"),
    ]:
        assert ok(path, "\ufeff" + text).values == {"acc": 0.5, "loss": 0.1}
        assert ok(path, text).values == {"acc": 0.5, "loss": 0.1}
    rows = ok("p.csv", "\ufeffstep,loss\r\n1,0.5\r\n2,0.25\r\n", PL).rows
    assert rows == ({"step": 1, "loss": 0.5}, {"step": 2, "loss": 0.25})


def test_huge_and_tiny_numbers() -> None:
    values = ok("m.json", '{"big": 123456789012345678901234567890, "f": 1e400, "t": 5e-324}').values
    assert values["big"] == 123456789012345678901234567890 and type(values["big"]) is int
    assert values["f"] == math.inf and values["t"] == 5e-324
    yaml_values = ok("m.yaml", "big: 123456789012345678901234567890\nf: 1.0e+400\n").values
    assert yaml_values == {"big": 123456789012345678901234567890, "f": math.inf}


def test_yaml_anchors_and_merges() -> None:
    text = "base: &b\n  lr: 0.1\n  depth: 3\nfast:\n  <<: *b\n  lr: 0.5\ncopy: *b\n"
    assert ok("p.yaml", text, P).values == {
        "base.lr": 0.1,
        "base.depth": 3,
        "fast.lr": 0.5,
        "fast.depth": 3,
        "copy.lr": 0.1,
        "copy.depth": 3,
    }


def test_json_duplicate_keys_keep_the_last_as_dvc() -> None:
    assert ok("m.json", '{"a": 1, "b": 2, "a": 3}').values == {"a": 3, "b": 2}


def test_select_keys_as_dvc_dpath() -> None:
    read = ok("p.yaml", "lr: 0.1\nmodel:\n  depth: 3\n  act: relu\n  l: [1]\ntrain:\n  ep: 5\n", P)
    assert select_keys(read, ("model",)).values == {"model.depth": 3, "model.act": "relu"}
    assert select_keys(read, ("model",)).skipped == ("model.l",)
    assert select_keys(read, ("lr", "train.ep")).values == {"lr": 0.1, "train.ep": 5}
    assert select_keys(read, ("*.depth",)).values == {"model.depth": 3}
    assert select_keys(read, ()).values == read.values
    assert select_keys(read, ("nope",)).values == {}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", 1),
        ("-2", -2),
        ("2.5", 2.5),
        ("1e-3", 0.001),
        (".5", 0.5),
        (" 3 ", 3),
        ("abc", "abc"),
        ("", ""),
        ("1,5", "1,5"),
        ("0x10", "0x10"),
    ],
)
def test_csv_cells(text: str, value: object) -> None:
    assert cell(text) == value and type(cell(text)) is type(value)


def test_csv_special_floats() -> None:
    assert math.isnan(cell("NaN")) and cell("inf") == math.inf and cell("-Inf") == -math.inf  # type: ignore[arg-type]


def test_plots_rows_in_every_format() -> None:
    want = ({"step": 1, "loss": 0.5}, {"step": 2, "loss": 0.25})
    assert ok("p.csv", "step,loss\n1,0.5\n2,0.25\n", PL).rows == want
    assert ok("p.tsv", "step\tloss\n1\t0.5\n2\t0.25\n", PL).rows == want
    assert ok("p.json", '[{"step": 1, "loss": 0.5}, {"step": 2, "loss": 0.25}]', PL).rows == want
    assert ok("p.yaml", "- {step: 1, loss: 0.5}\n- {step: 2, loss: 0.25}\n", PL).rows == want
    # DVC's get_datapoints: lists of rows found in a mapping, merged by index
    merged = '{"train": [{"step": 1}, {"step": 2}], "m": {"v": [{"loss": 0.5}, {"loss": 0.25}]}}'
    assert ok("p.json", merged, PL).rows == want
    assert ok("p.csv", "step,loss\n", PL).rows == ()
    assert ok("p.json", "[]", PL).rows == ()
    short = ok("p.csv", "a,b\n1\n2,3,4\n", PL).rows  # a short row, a long one: what is there
    assert short == ({"a": 1}, {"a": 2, "b": 3})
    assert "no rows" in failed("p.json", '{"a": 1}', FileStatus.MALFORMED, PL)
    assert "not a list of rows" in failed("p.json", "3", FileStatus.MALFORMED, PL)


def test_plots_csv_quoting() -> None:
    rows = ok("p.csv", 'name,"v, w"\n"a ""b""",1\n', PL).rows
    assert rows == ({"name": 'a "b"', "v, w": 1},)


# -- which files -------------------------------------------------------------------------------


def never(_: str) -> bool:
    return False


def always(_: str) -> bool:
    return True


DVC_YAML = b"""
metrics:
  - metrics.json
  - eval/scores.yaml
params:
  - params.yaml
plots:
  - plots/loss.csv: {x: step, y: loss}
  - plots/roc.json
  - images/confusion.png
stages:
  train:
    cmd: python train.py
    params:
      - lr
      - model.depth
      - custom.toml:
          - opt.beta
      - whole.yaml:
    metrics:
      - out/train.json: {cache: false}
      - metrics.json
    plots:
      - out/acc.tsv:
          x: epoch
          y: [acc, val_acc]
          title: Accuracy
  evaluate:
    cmd: python eval.py
    wdir: stage_dir
    metrics: [m.json]
    params: [{../custom.toml: [opt.gamma]}, threshold]
"""


def test_dvc_yaml_top_level_and_stages() -> None:
    d = declared_at(None, {"dvc.yaml": DVC_YAML}, always)
    assert d.metrics == ("metrics.json", "eval/scores.yaml", "out/train.json", "stage_dir/m.json")
    assert d.params == ("params.yaml", "custom.toml", "whole.yaml", "stage_dir/params.yaml")
    assert dict(d.param_keys) == {
        "custom.toml": ("opt.beta", "opt.gamma"),
        "stage_dir/params.yaml": ("threshold",),
    }
    assert d.plots == (
        PlotSpec("plots/loss.csv", "step", ("loss",)),
        PlotSpec("plots/roc.json"),
        PlotSpec("out/acc.tsv", "epoch", ("acc", "val_acc"), "Accuracy"),
    )
    assert d.source == "dvc.yaml"
    assert any("images/confusion.png is an image" in n for n in d.notes)
    # stage outputs DVC caches (no `cache: false`): not in git unless committed anyway
    assert d.dvc_cached == ("metrics.json", "out/acc.tsv", "stage_dir/m.json")


def test_bare_param_names_track_keys_when_params_yaml_is_absent() -> None:
    dvc = b"stages:\n  t:\n    cmd: x\n    params: [lr, model.depth]\n"
    d = declared_at(None, {"dvc.yaml": dvc}, never)
    assert d.params == ("params.yaml",)
    assert d.param_keys == (("params.yaml", ("lr", "model.depth")),)
    # the root params.yaml present: DVC reads it whole
    d = declared_at(None, {"dvc.yaml": dvc}, always)
    assert d.params == ("params.yaml",) and d.param_keys == ()


def test_sub_projects_are_relative_to_their_folder_root_first() -> None:
    yamls = {
        "zoo/dvc.yaml": b"metrics: [z.json]\n",
        "a/b/dvc.yaml": b"metrics: [m.json, ../shared.json]\nparams: [p.yaml]\n",
        "dvc.yaml": b"metrics: [root.json]\n",
    }
    d = declared_at(None, yamls, never)
    assert d.metrics == ("root.json", "a/b/m.json", "a/shared.json", "zoo/z.json")
    assert d.params == ("a/b/p.yaml",)
    assert d.source == "dvc.yaml, a/b/dvc.yaml, zoo/dvc.yaml"


def test_settings_win_per_kind() -> None:
    settings = ReportSettings.model_validate(
        {"metrics": ["eval/m.json", "./eval//m.json", "x.toml"], "plots": [{"p.csv": {"x": "s"}}]}
    )
    d = declared_at(settings, {"dvc.yaml": DVC_YAML}, always)
    assert d.metrics == ("eval/m.json", "x.toml")
    assert d.plots == (PlotSpec("p.csv", "s"),)
    assert d.params[0] == "params.yaml" and "custom.toml" in d.params  # from dvc.yaml
    assert d.source == "gitops.yaml, dvc.yaml"
    empty = ReportSettings.model_validate({"metrics": [], "params": [], "plots": []})
    assert declared_at(empty, {"dvc.yaml": DVC_YAML}, always) == Declared(source="gitops.yaml")


def test_defaults_when_nothing_declares() -> None:
    assert declared_at(None, {}, always) == Declared(("metrics.json",), ("params.yaml",))
    assert declared_at(None, {}, never) == Declared()
    only = declared_at(None, {}, lambda p: p == "params.yaml")
    assert only.metrics == () and only.params == ("params.yaml",)
    # a dvc.yaml with only stages and no metrics: metrics.json is still the default
    d = declared_at(None, {"dvc.yaml": b"stages:\n  t:\n    cmd: x\n"}, always)
    assert d.metrics == ("metrics.json",) and d.source == "default"


@pytest.mark.parametrize(
    ("content", "note"),
    [
        (b"metrics: [a.json\n", "dvc.yaml:"),
        (b"- a\n- b\n", "not a mapping"),
        (b"\xff\xfe", "not UTF-8"),
        (b"metrics: a.json\n", "not a list"),
        (b"metrics:\n  - 1\n  - ${x}.json\n", "templated"),
        (b"metrics: [../../up.json]\n", "outside the repository"),
        (
            b"stages:\n  s:\n    foreach: [a, b]\n    do:\n"
            b"      metrics:\n        - ${item}.json\n",
            "foreach",
        ),
        (b"stages:\n  s:\n    params: [{p.yaml: 3}]\n", "keys must be a list"),
        (b"stages: [a]\n", "stages: not a mapping"),
    ],
)
def test_a_bad_dvc_yaml_is_a_note_not_an_error(content: bytes, note: str) -> None:
    yamls = {"dvc.yaml": content, "sub/dvc.yaml": b"metrics: [fine.json]\n"}
    d = declared_at(None, yamls, never)
    assert "sub/fine.json" in d.metrics
    assert any(note in n for n in d.notes), d.notes
    assert all("\n" not in n for n in d.notes)


def test_multi_file_plots_read_each_file() -> None:
    dvc = b"""plots:
  - compare:
      x: step
      y:
        train.csv: loss
        val.csv: [loss, acc]
      title: Loss
  - cm:
      x: {a.json: actual}
      y: {a.json: predicted}
"""
    d = declared_at(None, {"dvc.yaml": dvc}, never)
    assert d.plots == (
        PlotSpec("train.csv", "step", ("loss",), "Loss"),
        PlotSpec("val.csv", "step", ("loss", "acc"), "Loss"),
        PlotSpec("a.json", "actual", ("predicted",), "cm"),
    )


# -- batch reads from git ----------------------------------------------------------------------


def commit_files(repo: Repo, files: dict[str, str], deleted: tuple[str, ...] = ()) -> str:
    """One commit with these files written (parents made) and these removed."""
    for name, content in files.items():
        target = repo.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode())
    for name in deleted:
        git(repo.path, "rm", "-q", "-r", name)
    git(repo.path, "add", "-A")
    return repo.commit(files={".keep": str(len(files)) + repr(deleted)})


def test_read_paths_at_names_every_object_kind(repo: Repo) -> None:
    sha = commit_files(repo, {"a.json": "{}", "dir/x.json": "1", "with space.yaml": "a: 1\n"})
    big = commit_files(repo, {"big.txt": "x" * 100})
    got = read_paths_at(
        repo.path,
        [f"{sha}:a.json", f"{sha}:dir", f"{sha}:nope", f"{sha}:with space.yaml",
         f"{big}:big.txt", f"{sha}:new\nline", f"{sha}:a.json"],
        max_size=50,
    )  # fmt: skip
    assert got[f"{sha}:a.json"] is not None and got[f"{sha}:a.json"].content == b"{}"
    assert got[f"{sha}:dir"] is not None and got[f"{sha}:dir"].type == "tree"
    assert got[f"{sha}:nope"] is None and got[f"{sha}:new\nline"] is None
    assert got[f"{sha}:with space.yaml"].content == b"a: 1\n"  # type: ignore[union-attr]
    too_big = got[f"{big}:big.txt"]
    assert too_big is not None and too_big.size == 100 and too_big.content is None
    assert len(got) == 6


def test_files_change_over_commits_each_revision_its_own_dvc_yaml(repo: Repo) -> None:
    v1 = commit_files(
        repo,
        {
            "dvc.yaml": "metrics: [metrics.json]\nparams: [params.yaml]\n",
            "metrics.json": '{"acc": 0.8, "loss": {"train": 0.3}}',
            "params.yaml": "lr: 0.1\n",
        },
    )
    v2 = commit_files(
        repo,
        {
            "dvc.yaml": "metrics: [metrics.json, eval/s.toml]\nparams: [params.yaml]\n",
            "metrics.json": '{"acc": 0.85, "loss": {"train": 0.25}, "tags": ["a"]}',
            "eval/s.toml": "f1 = 0.7\n",
        },
    )
    v3 = commit_files(repo, {"metrics.json": "{broken"}, deleted=("params.yaml",))
    old, mid, new = read_snapshots(repo.path, None, [("v1", v1), ("v2", v2), ("v3", v3)])
    assert (old.label, old.sha, new.label, new.sha) == ("v1", v1, "v3", v3)
    assert [f.path for f in old.files] == ["metrics.json", "params.yaml"]
    assert old.file("metrics.json", M) == FileRead(
        "metrics.json", M, FileStatus.OK, {"acc": 0.8, "loss.train": 0.3}
    )
    assert [f.path for f in mid.files] == ["metrics.json", "eval/s.toml", "params.yaml"]
    assert mid.file("metrics.json", M).skipped == ("tags",)  # type: ignore[union-attr]
    assert mid.file("eval/s.toml", M).values == {"f1": 0.7}  # type: ignore[union-attr]
    assert mid.declared.metrics == ("metrics.json", "eval/s.toml")
    broken, _, gone = new.files
    assert broken.status is FileStatus.MALFORMED and "invalid JSON" in broken.error
    assert gone == FileRead("params.yaml", P, FileStatus.MISSING, error="not in this revision")


def test_not_files_are_unreadable_with_a_reason(repo: Repo) -> None:
    sha = commit_files(
        repo,
        {"metrics.json": "{}", "dir/inner.json": "{}", "bin.yaml": "a\0b", "big.json": "{}"},
    )
    big = "{" + " " * (MAX_BYTES + 1) + "}"
    sha2 = commit_files(repo, {"big.json": big})
    settings = ReportSettings.model_validate(
        {"metrics": ["dir", "bin.yaml", "big.json", "nope.json"], "params": [], "plots": []}
    )
    (a, b) = read_snapshots(repo.path, settings, [("a", sha), ("b", sha2)])
    statuses = [(f.path, f.status, f.error) for f in b.files]
    assert statuses[0] == ("dir", FileStatus.UNREADABLE, "a directory, not a file")
    assert statuses[1][1] is FileStatus.UNREADABLE and "binary" in statuses[1][2]
    assert statuses[2][1] is FileStatus.UNREADABLE and "too big" in statuses[2][2]
    assert statuses[3][:2] == ("nope.json", FileStatus.MISSING)
    assert a.file("big.json", M).status is FileStatus.OK  # type: ignore[union-attr]


def test_submodule_is_unreadable(repo: Repo, tmp_path: Path) -> None:
    inner = Repo(tmp_path / "inner")
    inner_sha = inner.commit(files={"m.json": "{}"})
    git(repo.path, "update-index", "--add", "--cacheinfo", f"160000,{inner_sha},metrics.json")
    (repo.path / "dvc.yaml").write_text("metrics: [metrics.json]\n")
    git(repo.path, "add", "dvc.yaml")
    sha = repo.commit("a submodule at metrics.json")
    # git 2.39's cat-file cannot tell a submodule whose commit is not here from nothing
    (snap,) = read_snapshots(repo.path, None, [("s", sha)])
    assert snap.files[0].status is FileStatus.MISSING
    git(repo.path, "fetch", "-q", str(inner.path), "main")  # now the commit is here
    (snap,) = read_snapshots(repo.path, None, [("s", sha)])
    assert snap.files == (
        FileRead("metrics.json", M, FileStatus.UNREADABLE, error="a submodule, not a file"),
    )


def test_sub_project_found_in_the_newest_revision_and_read_at_every_one(repo: Repo) -> None:
    v1 = commit_files(repo, {"dvc.yaml": "metrics: [m.json]\n", "m.json": '{"a": 1}'})
    v2 = commit_files(
        repo,
        {
            "models/churn/dvc.yaml": "metrics: [eval/m.yaml]\nparams: [p.yaml]\n",
            "models/churn/eval/m.yaml": "auc: 0.9\n",
            "models/churn/p.yaml": "depth: 3\n",
        },
    )
    v3 = commit_files(repo, {"models/churn/eval/m.yaml": "auc: 0.92\n", "m.json": '{"a": 2}'})
    s1, s2, s3 = read_snapshots(repo.path, None, [("v1", v1), ("v2", v2), ("v3", v3)])
    assert [f.path for f in s1.files] == ["m.json"]  # no sub-project there yet
    assert [f.path for f in s3.files] == [
        "m.json",
        "models/churn/eval/m.yaml",
        "models/churn/p.yaml",
    ]
    assert s2.file("models/churn/eval/m.yaml", M).values == {"auc": 0.9}  # type: ignore[union-attr]
    assert s3.file("models/churn/eval/m.yaml", M).values == {"auc": 0.92}  # type: ignore[union-attr]
    assert s3.declared.source == "dvc.yaml, models/churn/dvc.yaml"


def test_params_keys_tracked_by_a_stage(repo: Repo) -> None:
    sha = commit_files(
        repo,
        {
            "dvc.yaml": "stages:\n  t:\n    cmd: x\n    params: [{cfg.toml: [opt.lr]}]\n",
            "cfg.toml": "[opt]\nlr = 0.1\nmomentum = 0.9\n[data]\nsplit = 0.2\n",
        },
    )
    (snap,) = read_snapshots(repo.path, None, [("s", sha)])
    assert snap.files == (FileRead("cfg.toml", P, FileStatus.OK, {"opt.lr": 0.1}),)


def test_reports_settings_override_dvc_yaml_and_plots(repo: Repo) -> None:
    sha = commit_files(
        repo,
        {
            "dvc.yaml": "metrics: [ignored.json]\n",
            "ignored.json": '{"x": 1}',
            "r/m.json": '{"acc": 1}',
            "loss.tsv": "step\tloss\n0\t1.5\n",
        },
    )
    settings = ReportSettings.model_validate(
        {"metrics": ["r/m.json"], "plots": ["loss.tsv", {"path": "loss.tsv", "y": "loss"}]}
    )
    (snap,) = read_snapshots(repo.path, settings, [("s", sha)])
    assert [(f.path, f.kind) for f in snap.files] == [("r/m.json", M), ("loss.tsv", PL)]
    assert snap.file("loss.tsv", PL).rows == ({"step": 0, "loss": 1.5},)  # type: ignore[union-attr]
    assert len(snap.declared.plots) == 2


def test_same_revision_twice_and_no_revisions(repo: Repo) -> None:
    sha = commit_files(repo, {"metrics.json": '{"a": 1}'})
    assert read_snapshots(repo.path, None, []) == []
    a, b = read_snapshots(repo.path, None, [("main", sha), ("v1", sha)])
    assert (a.label, b.label) == ("main", "v1") and a.files == b.files


def git_runs(trace: Path) -> list[str]:
    """Git processes started, from a GIT_TRACE file: one ``built-in`` line each."""
    lines = trace.read_text().splitlines() if trace.exists() else []
    return [m.group(1) for m in map(re.compile(r"trace: built-in: git (\S+)").search, lines) if m]


@pytest.mark.parametrize("count", [2, 200])
def test_git_processes_do_not_grow_with_files_or_revisions(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    shas = []
    for rev in range(3 if count == 2 else 30):
        files = {f"m/{i}.json": f'{{"v": {rev * i}}}' for i in range(count)}
        files["dvc.yaml"] = "metrics:\n" + "".join(f"  - m/{i}.json\n" for i in range(count))
        files["sub/dvc.yaml"] = "params: [p.yaml]\n"
        files["sub/p.yaml"] = f"lr: {rev}\n"
        shas.append(commit_files(repo, files))
    trace = tmp_path / f"trace{count}"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    snaps = read_snapshots(repo.path, None, [(f"r{i}", s) for i, s in enumerate(shas)])
    runs = git_runs(trace)
    assert runs == ["ls-tree", "cat-file", "cat-file", "cat-file", "cat-file"], runs
    assert len(snaps[-1].files) == count + 1
    assert snaps[-1].file(f"m/{count - 1}.json", M).values == {"v": (len(shas) - 1) * (count - 1)}  # type: ignore[union-attr]


def test_settings_naming_every_kind_read_no_dvc_yaml(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sha = commit_files(repo, {"dvc.yaml": "metrics: [x.json]\n", "m.json": "{}"})
    settings = ReportSettings.model_validate({"metrics": ["m.json"], "params": [], "plots": []})
    trace = tmp_path / "trace"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    (snap,) = read_snapshots(repo.path, settings, [("s", sha)])
    assert [f.path for f in snap.files] == ["m.json"]
    assert "ls-tree" not in git_runs(trace)


def test_unchanged_files_are_parsed_once(repo: Repo) -> None:
    sha1 = commit_files(repo, {"metrics.json": '{"a": 1}', "params.yaml": "lr: 1\n"})
    sha2 = commit_files(repo, {"params.yaml": "lr: 2\n"})
    s1, s2 = read_snapshots(repo.path, None, [("1", sha1), ("2", sha2)])
    assert s1.files[0] is s2.files[0]  # the same blob: one FileRead
    assert s1.files[1].values == {"lr": 1} and s2.files[1].values == {"lr": 2}


def test_reading_2000_metrics_at_50_revisions(repo: Repo) -> None:
    """Prints the time (not asserted: the machine is shared). Every revision changes every
    value, so every blob is distinct and parsed."""
    files_count, keys, revisions = 20, 100, 50
    shas = []
    for rev in range(revisions):
        files = {
            f"eval/m{f}.json": "{"
            + ", ".join(f'"k{k}": {{"v": {rev + k / 1000}}}' for k in range(keys))
            + "}"
            for f in range(files_count)
        }
        if rev == 0:
            files["dvc.yaml"] = "metrics:\n" + "".join(f"  - {p}\n" for p in files)
        shas.append(commit_files(repo, files))
    revs = [(f"r{i}", s) for i, s in enumerate(shas)]
    times = []
    for _ in range(3):
        start = time.perf_counter()
        snaps = read_snapshots(repo.path, None, revs)
        times.append(time.perf_counter() - start)
    assert sum(len(f.values) for f in snaps[-1].files) == files_count * keys
    assert snaps[7].file("eval/m3.json", M).values["k5.v"] == 7.005  # type: ignore[union-attr]
    print(
        f"\n2,000 metrics at {revisions} revisions: median {statistics.median(times):.3f} s "
        f"({', '.join(f'{t:.3f}' for t in times)}; {os.cpu_count()} CPUs, shared)"
    )


def test_snapshot_has_declared(repo: Repo) -> None:
    sha = commit_files(repo, {"metrics.json": "{}"})
    (snap,) = read_snapshots(repo.path, None, [("s", sha)])
    assert isinstance(snap, Snapshot) and snap.declared.metrics == ("metrics.json",)


def test_a_dvc_cached_stage_output_missing_from_git_says_so(repo: Repo) -> None:
    dvc = (
        "stages:\n  train:\n    cmd: x\n    metrics:\n      - cached.json\n"
        "      - kept.json: {cache: false}\n"
    )
    sha = commit_files(repo, {"dvc.yaml": dvc})
    (snap,) = read_snapshots(repo.path, None, [("s", sha)])
    cached, kept = snap.files
    assert cached.status is kept.status is FileStatus.MISSING
    assert "DVC caches this stage output" in cached.error
    assert kept.error == "not in this revision"


def test_dotted_keys_and_yaml_versions() -> None:
    assert ok("m.yaml", '"a.b": 1\nc:\n  "d.e": 2\n').values == {"a.b": 1, "c.d.e": 2}
    error = failed("m.yaml", '"a.b": 1\na:\n  b: 2\n', FileStatus.MALFORMED)
    assert "'a.b' appears twice" in error
    # a %YAML 1.1 file reads by 1.1's rules, as ruamel reads it
    assert ok("m.yaml", "%YAML 1.1\n---\nflag: yes\noct: 010\n").values == {"flag": True, "oct": 8}
    assert "invalid YAML" in failed("m.yaml", "a: 1\n---\nb: 2\n", FileStatus.MALFORMED)


def test_params_tracked_whole_somewhere_are_read_whole() -> None:
    yamls = {
        "dvc.yaml": b"stages:\n  t:\n    cmd: x\n    params: [{cfg.yaml: [lr]}]\n",
        "sub/dvc.yaml": b"params: [../cfg.yaml]\n",
    }
    d = declared_at(None, yamls, never)
    assert d.params == ("cfg.yaml",) and d.param_keys == ()
