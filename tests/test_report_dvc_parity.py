"""Our reads against real DVC: for the same two revisions, every old/new value we read equals
what ``dvc metrics diff --json --all A B`` and ``dvc params diff --json --all A B`` print.

DVC runs here, in the test (``python -m dvc``, a test-only dependency; skipped only when it
cannot be imported), on real DVC repositories (``dvc init`` in a git repository).

Intended differences (asserted below, not papered over):

- lists and nulls: DVC's metrics drop them silently; its params show a list as the text
  ``"[1, 2]"`` and a null as ``null``. We list both under ``skipped`` (the report says so).
- a top-level that is not a mapping (``[1, 2]``, ``"text"``, a ``.csv`` metrics file): DVC shows
  an empty-named metric or nothing; we call the file MALFORMED with the reason.
- a broken or missing file: DVC leaves it out of ``--json`` (exit code 0, a stderr line); we
  keep it with its status (MISSING, MALFORMED, UNREADABLE) and error.
- booleans: DVC subtracts them (``true -> false`` gives ``diff: -1``); we read the same values
  and the diff step does not subtract them (gitops/report/diff.py).
- order: DVC's file order varies between runs and its rows are sorted by name; ours is the
  declared file order and each file's own key order.
- a JSON or YAML file with a byte-order mark: DVC fails on JSON; we read it.
- an empty JSON file: DVC calls it corrupted; we read it as having no values.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from gitutil import BASE_ENV, Repo, git

from gitops.report.metrics import read_snapshots
from gitops.report.model import FileStatus, Kind, Snapshot

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("dvc") is None, reason="dvc is not installed (a test dependency)"
)


def dvc(repo: Path, tmp: Path, *args: str) -> str:
    env = {
        **os.environ,
        **BASE_ENV,
        "DVC_NO_ANALYTICS": "1",
        "DVC_SITE_CACHE_DIR": str(tmp / "dvc-site"),
        "DVC_GLOBAL_CONFIG_DIR": str(tmp / "dvc-global"),
        "DVC_SYSTEM_CONFIG_DIR": str(tmp / "dvc-system"),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "dvc", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def write(repo: Repo, files: dict[str, str | None]) -> str:
    """One commit: each file written, or removed when None."""
    for name, content in files.items():
        target = repo.path / name
        if content is None:
            git(repo.path, "rm", "-q", name)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    git(repo.path, "add", "-A")
    return repo.commit(files={".rev": str(sorted(files))})


@pytest.fixture
def dvc_repo(repo: Repo, tmp_path: Path) -> Repo:
    dvc(repo.path, tmp_path, "init", "-q")
    git(repo.path, "add", "-A")
    repo.commit("dvc init")
    return repo


DVC_YAML_A = """\
metrics:
  - metrics.json
  - eval/scores.yaml
  - gone.json
params:
  - hyper.yaml
stages:
  train:
    cmd: python train.py
    params:
      - lr
      - model.depth
      - custom.toml:
          - opt.beta
          - opt.sched
      - whole.json:
    metrics:
      - out/train.json:
          cache: false
"""
DVC_YAML_B = DVC_YAML_A.replace("  - gone.json\n", "  - gone.json\n  - added.toml\n")

REV_A: dict[str, str | None] = {
    "dvc.yaml": DVC_YAML_A,
    "metrics.json": json.dumps(
        {
            "accuracy": 0.8512345,
            "train": {"loss": 0.3, "auc": 0.91},
            "label": "cat",
            "converged": True,
            "per_class": [0.1, 0.2],
            "note": None,
            "removed_metric": 1.5,
            "epochs": 10,
        }
    ),
    "eval/scores.yaml": "f1: 0.77\nnested:\n  deep:\n    x: 1\nopt: yes\nsci: 1e3\n",
    "gone.json": '{"old_only": 4}',
    "out/train.json": '{"steps": 100, "time": {"total": 12.5}}',
    "params.yaml": "lr: 0.01\nmodel:\n  depth: 3\n  act: relu\nlayers: [64, 32]\nseed: null\n",
    "hyper.yaml": "batch: 32\nwarmup: 0.1\n",
    "custom.toml": '[opt]\nbeta = 0.9\nsched = "cos"\ngamma = 0.5\n[data]\nsplit = 0.2\n',
    "whole.json": '{"a": {"b": 1}, "c": "x"}',
    "sub/dvc.yaml": "metrics: [m.json]\nparams: [p.yaml]\n",
    "sub/m.json": '{"x": 1, "y": 2}',
    "sub/p.yaml": "k: 1\n",
}
REV_B: dict[str, str | None] = {
    "dvc.yaml": DVC_YAML_B,
    "metrics.json": json.dumps(
        {
            "accuracy": 0.8734567891,
            "train": {"loss": 0.25, "auc": 0.93},
            "label": "dog",
            "converged": False,
            "per_class": [0.3],
            "note": None,
            "new_metric": 42,
            "epochs": 12,
        }
    ),
    "eval/scores.yaml": "f1: 0.8\nnested:\n  deep:\n    x: 2\nopt: no\nsci: 2e3\n",
    "gone.json": None,
    "added.toml": "[eval]\nmae = 0.25\nname = 'b'\n",
    "out/train.json": '{"steps": 120, "time": {"total": 11}}',
    "params.yaml": "lr: 0.02\nmodel:\n  depth: 4\n  act: gelu\nlayers: [64, 32, 16]\nseed: null\n",
    "hyper.yaml": "batch: 64\nwarmup: 0.1\nnew_param: true\n",
    "custom.toml": '[opt]\nbeta = 0.95\nsched = "cos"\ngamma = 0.7\n[data]\nsplit = 0.3\n',
    "whole.json": '{"a": {"b": 2}, "c": "x", "d": 1.5}',
    "sub/m.json": '{"x": 1.5}',
    "sub/p.yaml": "k: 2\n",
}


def ours(snapshot: Snapshot, kind: Kind) -> dict[str, dict[str, Any]]:
    return {f.path: f.values for f in snapshot.files if f.kind is kind}


def compare(
    dvc_out: dict[str, dict[str, dict[str, Any]]],
    old: Snapshot,
    new: Snapshot,
    kind: Kind,
) -> list[tuple[str, str]]:
    """Assert every value DVC shows equals ours; return the (path, key) pairs DVC shows."""
    old_values, new_values = ours(old, kind), ours(new, kind)
    shown = []
    for path, keys in dvc_out.items():
        for key, change in keys.items():
            shown.append((path, key))
            for side, values, snap in (("old", old_values, old), ("new", new_values, new)):
                theirs = change.get(side)
                mine = values.get(path, {}).get(key)
                read = snap.file(path, kind)
                listed = isinstance(theirs, str) and theirs.startswith("[")
                if listed or (theirs is None and read is not None and key in read.skipped):
                    # a params list (DVC: its text) or null: skipped here, on purpose
                    assert read is not None and key in read.skipped, (path, key, side)
                    assert mine is None
                    continue
                assert mine == theirs, (path, key, side, mine, theirs)
                assert type(mine) is type(theirs) or theirs is None, (path, key, side)
    return shown


def test_metrics_and_params_equal_dvcs(dvc_repo: Repo, tmp_path: Path) -> None:
    a = write(dvc_repo, REV_A)
    b = write(dvc_repo, REV_B)
    metrics_out = json.loads(
        dvc(dvc_repo.path, tmp_path, "metrics", "diff", "--json", "--all", a, b)
    )
    params_out = json.loads(dvc(dvc_repo.path, tmp_path, "params", "diff", "--json", "--all", a, b))
    old, new = read_snapshots(dvc_repo.path, None, [("A", a), ("B", b)])

    shown = compare(metrics_out, old, new, Kind.METRICS)
    # ...and DVC shows every value we read, no more, no less
    ours_metrics = {
        (f.path, k) for s in (old, new) for f in s.files if f.kind is Kind.METRICS for k in f.values
    }
    assert set(shown) == ours_metrics
    assert ("metrics.json", "train.loss") in shown and ("sub/m.json", "y") in shown
    assert ("added.toml", "eval.mae") in shown and ("gone.json", "old_only") in shown

    shown_params = compare(params_out, old, new, Kind.PARAMS)
    ours_params = {
        (f.path, k)
        for s in (old, new)
        for f in s.files
        if f.kind is Kind.PARAMS
        for k in (*f.values, *f.skipped)
    }
    assert set(shown_params) == ours_params
    # keys a stage tracks: only those, as DVC shows them
    assert ("custom.toml", "opt.beta") in shown_params
    assert ("custom.toml", "opt.gamma") not in shown_params
    assert ("custom.toml", "data.split") not in shown_params

    # intended differences, asserted
    assert new.file("gone.json", Kind.METRICS).status is FileStatus.MISSING  # type: ignore[union-attr]
    assert old.file("added.toml", Kind.METRICS) is None  # A's dvc.yaml does not declare it
    m_new = new.file("metrics.json", Kind.METRICS)
    assert m_new is not None and m_new.skipped == ("per_class", "note")
    assert ("metrics.json", "per_class") not in shown
    assert new.file("params.yaml", Kind.PARAMS).skipped == ("layers", "seed")  # type: ignore[union-attr]
    assert metrics_out["metrics.json"]["converged"] == {"old": True, "new": False, "diff": -1}
    assert metrics_out["eval/scores.yaml"]["opt"] == {"old": "yes", "new": "no"}


def test_broken_and_odd_files_against_dvc(dvc_repo: Repo, tmp_path: Path) -> None:
    """A file DVC cannot read shows no values in DVC; we keep it with a status and a reason."""
    dvc_yaml = "metrics: [a.json, b.yaml, c.csv, d.json, e.yaml]\n"
    a = write(
        dvc_repo,
        {
            "dvc.yaml": dvc_yaml,
            "a.json": '{"v": 1}',
            "b.yaml": "v: 1\n",
            "c.csv": "acc,loss\n0.7,0.3\n",
            "d.json": "[1, 2]",
            "e.yaml": "x:\n  y: 0x1F\n  z: 0o17\n  w: .inf\n",
        },
    )
    b = write(dvc_repo, {"a.json": '{"v": ', "b.yaml": "v: [1\n", "e.yaml": "x:\n  y: 2\n"})
    out = json.loads(dvc(dvc_repo.path, tmp_path, "metrics", "diff", "--json", "--all", a, b))
    old, new = read_snapshots(dvc_repo.path, None, [("A", a), ("B", b)])
    assert out["a.json"] == {"v": {"old": 1, "new": None}}
    assert out["b.yaml"] == {"v": {"old": 1, "new": None}}
    for path in ("a.json", "b.yaml"):
        assert old.file(path, Kind.METRICS).values == {"v": 1}  # type: ignore[union-attr]
        assert new.file(path, Kind.METRICS).status is FileStatus.MALFORMED  # type: ignore[union-attr]
    # a .csv metrics file is YAML to DVC: one text metric with an empty name; here MALFORMED
    assert out["c.csv"] == {"": {"old": "acc,loss 0.7,0.3", "new": "acc,loss 0.7,0.3"}}
    assert old.file("c.csv", Kind.METRICS).status is FileStatus.MALFORMED  # type: ignore[union-attr]
    assert "d.json" not in out
    assert old.file("d.json", Kind.METRICS).status is FileStatus.MALFORMED  # type: ignore[union-attr]
    # YAML 1.2 numbers as DVC's ruamel reads them
    assert out["e.yaml"]["x.y"] == {"old": 31, "new": 2, "diff": -29}
    assert old.file("e.yaml", Kind.METRICS).values == {"x.y": 31, "x.z": 15, "x.w": float("inf")}  # type: ignore[union-attr]
    assert out["e.yaml"]["x.z"] == {"old": 15, "new": None}
