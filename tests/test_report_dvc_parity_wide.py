"""Our old/new values equal real DVC's, per file and key, on a wider DVC repository than
``test_report_dvc_parity.py`` (YAML 1.2 quirks with CRLF, NaN, infinities, huge ints, dotted
keys, a stage tracking some keys of a params file).

The repository (``dvc init`` in a git repo, two commits) has a ``dvc.yaml`` with top-level and
stage metrics and params, a sub-project ``sub/dvc.yaml``, JSON, YAML and TOML files, nested
keys, a string, a boolean, a list, a null, NaN, a file deleted and a file added (declared only
by the newer ``dvc.yaml``). DVC 3.x itself runs here, as a subprocess (``python -m dvc``, the
test-only dependency): ``dvc metrics diff --json --all A B`` and ``dvc params diff --json --all
A B``. Our side is ``metrics.read_snapshots`` + ``diff.diff``. Skipped only when ``dvc`` cannot
be imported.

Intended differences (asserted as such, not ignored):

- Lists and nulls: DVC drops them from metrics silently and shows them in params (a list as
  its ``str()``, ``"[1, 2]"``; a null as ``null`` on both sides). We show neither as a value:
  their keys are listed in ``FileRead.skipped`` and the report says they were skipped.
- Booleans are not numbers here: DVC subtracts them (``true`` -> ``false`` gives ``diff: -1``);
  we keep both values and give no delta (verdict CHANGED).
- NaN and infinities: DVC's ``diff`` is NaN (``inf - inf``); we give no delta (NaN to NaN and
  inf to inf are SAME).
- No float noise: DVC's ``diff`` is the float subtraction (``0.9 - 0.8`` =
  ``0.09999999999999998``); our ``delta`` is the decimal difference of the values as written
  (``0.1``). Numerically they agree within 1e-12.
- Files in declared order (DVC's order varies between runs), keys in file order (DVC sorts).
- A file that cannot be read: DVC leaves it out of ``--json`` (a line on stderr, exit code 0);
  we keep the file with its status (MISSING, MALFORMED...) and its error.
- A declared folder: DVC reads every file in it; we report it as "a folder, not a file".
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from gitops.report.diff import diff
from gitops.report.direction import Directions
from gitops.report.metrics import read_snapshots
from gitops.report.model import Change, FileStatus, Kind, Snapshot, Verdict
from tests.gitutil import Repo, git

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("dvc") is None, reason="dvc is not installed (test-only dependency)"
)

DVC_YAML_A = """\
metrics:
  - metrics.json
  - eval/scores.yaml
  - gone.json
  - eval/edge.yaml
  - eval/dots.json
params:
  - hp.toml
stages:
  train:
    cmd: python train.py
    params:
      - lr
      - model.depth
      - cfg.yaml:
          - a
    metrics:
      - out/train.json:
          cache: false
"""
DVC_YAML_B = DVC_YAML_A.replace("  - gone.json\n", "  - added.toml\n")


def _edge(n: int) -> str:
    """YAML 1.2 as ruamel reads it (``yes`` a string, ``0o17`` octal, ``1e3`` a float), CRLF."""
    lines = [
        f"yes_: {'yes' if n == 1 else 'no'}",
        f"octal: 0o1{n}",
        f"exp: {n}e3",
        f"hex: 0x1{n}",
        f"huge: 12345678901234567890123456789{n}",
        "inf: .inf",
        f"clock: 12:3{n}:00",
        f"quoted: '{n}'",
        f"date: 2020-01-0{n}",
        "deep:",
        f"  x: {n}.5",
    ]
    return "\r\n".join(lines) + "\r\n"


FILES_A = {
    "dvc.yaml": DVC_YAML_A,
    "metrics.json": json.dumps(
        {
            "acc": 0.8,
            "loss": 0.3,
            "name": "baseline",
            "ok": True,
            "per_class": [0.1, 0.2],
            "none": None,
            "same": 7,
            "nan": float("nan"),
            "train": {"auc": 0.9, "deep": {"x": 1}},
            "removed_metric": 1.5,
        }
    ),
    "eval/scores.yaml": "f1: 0.77\nflag: yes\nnested:\n  deep:\n    x: 1\n",
    "gone.json": '{"g": 1}',
    "eval/edge.yaml": _edge(1),
    "eval/dots.json": '{"a.b": 1,\r\n "c": {"d.e": 2, "x/y": 3}}\r\n',
    "hp.toml": 'lr = 0.1\nname = "adam"\n[opt]\nmom = 0.9\nbetas = [0.9, 0.99]\n',
    "params.yaml": "lr: 0.01\nmodel:\n  depth: 3\n  act: relu\nlayers: [1, 2]\nnothing: null\n"
    "big: 123456789012345678901234567890\n",
    "cfg.yaml": "a: 1\nb: 2\n",
    "out/train.json": '{"epochs": 10, "time": 1.25}',
    "sub/dvc.yaml": "metrics: [m.json]\nparams: [p.yaml]\n",
    "sub/m.json": '{"sub_acc": 0.5}',
    "sub/p.yaml": "depth: 2\n",
}
FILES_B = {
    "dvc.yaml": DVC_YAML_B,
    "metrics.json": json.dumps(
        {
            "acc": 0.9,
            "loss": 0.1,
            "name": "candidate",
            "ok": False,
            "per_class": [0.3, 0.4],
            "none": None,
            "same": 7,
            "nan": float("nan"),
            "train": {"auc": 0.93, "deep": {"x": 2}},
            "new_metric": 42,
        }
    ),
    "eval/scores.yaml": "f1: 0.8\nflag: yes\nnested:\n  deep:\n    x: 2\n",
    "added.toml": "rmse = 0.25\n[inner]\nk = 3\nwhen = 1979-05-27\n",
    "eval/edge.yaml": _edge(2),
    "eval/dots.json": '{"a.b": 2, "c": {"d.e": 2, "x/y": 4}}',
    "hp.toml": 'lr = 0.2\nname = "adamw"\n[opt]\nmom = 0.95\nbetas = [0.9, 0.999]\n',
    "params.yaml": "lr: 0.02\nmodel:\n  depth: 4\n  act: relu\nlayers: [1, 2, 3]\nnothing: null\n"
    "big: 123456789012345678901234567891\n",
    "cfg.yaml": "a: 2\nb: 3\n",
    "sub/m.json": '{"sub_acc": 0.75}',
    "sub/p.yaml": "depth: 3\n",
}
DELETED_IN_B = ("gone.json", "out/train.json")
KEY_FILTERED: dict[str, set[str]] = {}  # keys we show and DVC does not: none (a stage's keys)


@dataclass(frozen=True)
class Scenario:
    repo: Path
    a: str
    b: str
    old: Snapshot
    new: Snapshot


def _env(home: Path) -> dict[str, str]:
    from tests.gitutil import BASE_ENV

    return {
        **os.environ,
        **BASE_ENV,
        "DVC_NO_ANALYTICS": "1",
        "DVC_SITE_CACHE_DIR": str(home / "dvc-site-cache"),
        "DVC_GLOBAL_CONFIG_DIR": str(home / "dvc-global"),
        "DVC_SYSTEM_CONFIG_DIR": str(home / "dvc-system"),
        "GIT_AUTHOR_NAME": "Test User",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test User",
        "GIT_COMMITTER_EMAIL": "test@example.com",
    }


def _dvc(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "dvc", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env=_env(repo.parent),
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, f"dvc {' '.join(args)}: {proc.stderr}"
    return proc


def _commit(repo: Repo, files: dict[str, str], deleted: tuple[str, ...] = ()) -> str:
    for name, text in files.items():
        target = repo.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    for name in deleted:
        (repo.path / name).unlink()
    git(repo.path, "add", "-A")
    return repo.commit()


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    repo = Repo(tmp_path_factory.mktemp("dvc") / "repo")
    _dvc(repo.path, "init", "-q")
    _commit(repo, {})
    a = _commit(repo, FILES_A)
    b = _commit(repo, FILES_B, deleted=DELETED_IN_B)
    new, old = read_snapshots(repo.path, None, [("B", b), ("A", a)])
    return Scenario(repo.path, a, b, old, new)


def _ours(s: Scenario, kind: Kind) -> dict[str, dict[str, Change]]:
    d = diff(s.old, s.new, kind, Directions(None))
    return {f.path: {c.key: c for c in f.changes} for f in d.files if f.changes}


def _dvc_diff(s: Scenario, what: str) -> dict[str, dict[str, dict[str, object]]]:
    proc = _dvc(s.repo, what, "diff", "--json", "--all", s.a, s.b)
    return json.loads(proc.stdout)


def _same(ours: object, theirs: object) -> bool:
    """Equal values of the same type (DVC's ``true`` is not our ``1``); NaN equals NaN."""
    if isinstance(ours, float) and isinstance(theirs, float) and math.isnan(ours):
        return math.isnan(theirs)
    return type(ours) is type(theirs) and ours == theirs


def _skipped(s: Scenario, path: str, kind: Kind) -> set[str]:
    names: set[str] = set()
    for snap in (s.old, s.new):
        read = snap.file(path, kind)
        if read is not None:
            names.update(read.skipped)
    return names


def _check_parity(s: Scenario, kind: Kind, theirs: dict[str, dict[str, dict[str, object]]]) -> int:
    """Every DVC value equals ours but for the intended differences; returns the number of
    values compared."""
    ours = _ours(s, kind)
    assert set(theirs) == set(ours), (sorted(theirs), sorted(ours))
    compared = 0
    for path, keys in theirs.items():
        skipped = _skipped(s, path, kind)
        shown = {k: v for k, v in keys.items() if k not in skipped}
        # lists and nulls: DVC shows them (params) or drops them (metrics); we name them
        for key in set(keys) - set(shown):
            value = keys[key]
            assert value["old"] is None or isinstance(value["old"], str), (path, key)
        mine = ours[path]
        extra = set(mine) - set(shown)
        assert extra == KEY_FILTERED.get(path, set()), (path, extra)
        for key, value in shown.items():
            change = mine[key]
            assert _same(change.old, value["old"]), (path, key, change.old, value["old"])
            assert _same(change.new, value["new"]), (path, key, change.new, value["new"])
            compared += 1
            numbers = all(
                isinstance(v, int | float) and not isinstance(v, bool)
                for v in (change.old, change.new)
            )
            if change.delta is not None:
                assert "diff" in value, (path, key)
                assert math.isclose(change.delta, value["diff"], rel_tol=0, abs_tol=1e-12), (
                    path,
                    key,
                )
            elif "diff" in value:  # DVC subtracts what we do not: booleans, NaN, infinities
                assert (
                    isinstance(change.old, bool)
                    or not numbers
                    or any(
                        isinstance(v, float) and not math.isfinite(v)
                        for v in (change.old, change.new)
                    )
                ), (path, key, value)
    return compared


def test_metrics_diff_equals_dvc_metrics_diff(scenario: Scenario) -> None:
    theirs = _dvc_diff(scenario, "metrics")
    assert _check_parity(scenario, Kind.METRICS, theirs) >= 30
    # a few values spelled out, so a shared mistake on both sides cannot pass
    assert theirs["metrics.json"]["acc"]["old"] == 0.8
    assert theirs["sub/m.json"]["sub_acc"] == {"old": 0.5, "new": 0.75, "diff": 0.25}
    assert theirs["added.toml"]["inner.k"] == {"old": None, "new": 3}
    assert theirs["out/train.json"]["epochs"] == {"old": 10, "new": None}
    edge = theirs["eval/edge.yaml"]
    assert edge["yes_"] == {"old": "yes", "new": "no"} and edge["octal"]["new"] == 10
    assert edge["exp"]["new"] == 2000.0 and edge["quoted"] == {"old": "1", "new": "2"}
    assert "date" not in edge and "when" not in theirs["added.toml"]
    assert set(theirs["eval/dots.json"]) == {"a.b", "c.d.e", "c.x/y"}


def test_params_diff_equals_dvc_params_diff(scenario: Scenario) -> None:
    theirs = _dvc_diff(scenario, "params")
    assert _check_parity(scenario, Kind.PARAMS, theirs) >= 8
    assert theirs["params.yaml"]["layers"] == {"old": "[1, 2]", "new": "[1, 2, 3]"}
    assert theirs["params.yaml"]["nothing"] == {"old": None, "new": None}
    assert set(theirs["cfg.yaml"]) == {"a"}
    big = theirs["params.yaml"]["big"]
    assert big["diff"] == 1 and big["old"] == 123456789012345678901234567890


def test_intended_differences(scenario: Scenario) -> None:
    """What we do on purpose otherwise than DVC, each shown on the same repository."""
    metrics = _ours(scenario, Kind.METRICS)
    theirs = _dvc_diff(scenario, "metrics")
    # no float noise: DVC 0.09999999999999998, ours 0.1
    assert theirs["metrics.json"]["acc"]["diff"] != 0.1
    assert metrics["metrics.json"]["acc"].delta == 0.1
    # booleans shown, not subtracted
    assert theirs["metrics.json"]["ok"]["diff"] == -1
    ok = metrics["metrics.json"]["ok"]
    assert (ok.old, ok.new, ok.delta, ok.verdict) == (True, False, None, Verdict.CHANGED)
    # NaN to NaN: DVC's diff is NaN, ours is no delta and SAME
    assert math.isnan(theirs["metrics.json"]["nan"]["diff"])  # type: ignore[arg-type]
    assert metrics["metrics.json"]["nan"].verdict == Verdict.SAME
    edge = metrics["eval/edge.yaml"]
    assert math.isnan(theirs["eval/edge.yaml"]["inf"]["diff"])  # type: ignore[arg-type]
    assert (edge["inf"].delta, edge["inf"].verdict) == (None, Verdict.SAME)
    # lists and nulls: dropped by DVC, named here
    assert "per_class" not in theirs["metrics.json"] and "none" not in theirs["metrics.json"]
    read = scenario.new.file("metrics.json", Kind.METRICS)
    assert read is not None and read.skipped == ("per_class", "none")
    params = scenario.new.file("params.yaml", Kind.PARAMS)
    assert params is not None and params.skipped == ("layers", "nothing")
    # files in declared order; keys in file order
    assert list(metrics) == [
        "metrics.json",
        "eval/scores.yaml",
        "added.toml",
        "eval/edge.yaml",
        "eval/dots.json",
        "out/train.json",
        "sub/m.json",
        "gone.json",
    ]
    assert list(metrics["metrics.json"])[:4] == ["acc", "loss", "name", "ok"]
    # a deleted file: DVC leaves only its old values; ours says it is missing
    d = diff(scenario.old, scenario.new, Kind.METRICS, Directions(None))
    train = next(f for f in d.files if f.path == "out/train.json")
    assert train.new_status == FileStatus.MISSING and train.old_status == FileStatus.OK
    # a file only the old dvc.yaml declares: "not declared" now, its keys removed
    gone = next(f for f in d.files if f.path == "gone.json")
    assert gone.new_status == FileStatus.MISSING
    assert [c.verdict for c in gone.changes] == [Verdict.REMOVED]
    # the stage's key filter: as DVC, cfg.yaml's `a` only (the stage tracks no other key)
    assert set(_ours(scenario, Kind.PARAMS)["cfg.yaml"]) == {"a"}
