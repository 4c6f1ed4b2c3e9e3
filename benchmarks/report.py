"""Benchmark ``gitops report`` as whole processes against plain git and DVC on two generated
repositories (standard library only; seeded; cached under ``$TMPDIR/gitops-bench``).

- Shape A, an ML repository: ``dvc init``, a ``dvc.yaml`` with top-level ``metrics:`` and
  ``params:`` and a stage with metrics, 10,000 metrics in ``metrics.json`` and
  ``eval/scores.yaml`` (nested groups; floats, ints, a few strings and bools) and a params file,
  two revisions A and B where ~30% of the values change and a few keys come and go, a few
  hundred unrelated files and commits. Timed: ``gitops report --base A --head B`` (md, json),
  the git floor (one ``git cat-file --batch`` of the files at both revisions) and DVC
  (``dvc metrics diff A B --json --all`` / ``--md``, and ``dvc params diff`` beside them).
- Shape B, a GTO registry: 50 versions of ``churn`` (a commit each changing ``metrics.json``,
  ~200 metrics, a model file and ``artifacts.yaml``), each registered and assigned to ``prod``,
  a candidate ``v1.1.0`` registered after them, a few hundred noise tags, ``reports: {history:
  50}`` in gitops.yaml. Timed: ``gitops report churn --stage prod`` (the candidate against
  prod, with the 50-version history chart), ``gitops report churn@v1.0.49``, the git floor, and
  DVC's nearest work, ``dvc metrics show --json --all-tags`` (metrics at every tagged commit).

The issue's target: every ``gitops report`` row under 0.5 s (median) on this machine; exit 1
when one is not. Launcher and timing: ``registry.run_once`` / ``registry.measure``.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/report.py [--repeat 5] [--dvc-repeat 3]
        [--keep DIR] [--rebuild] [--seed N] [--no-dvc]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from registry import Result, measure, pycache_env

GEN_VERSION = 1  # bump when a generator changes: cached repositories are rebuilt
DEFAULT_SEED = 20_240_601
BASE_EPOCH = 1_700_000_000
LIMIT_SECONDS = 0.5  # the target, per gitops report row (median)
PEOPLE = (("Alice Example", "alice@example.com"), ("ci-bot", "ci-bot@users.noreply.github.com"))
GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "LC_ALL": "C"}
DVC_ENV = {"DVC_NO_ANALYTICS": "1"}

Tree = dict[str, Any]  # nested metrics: str -> scalar | Tree

# ---------------------------------------------------------------------------------------------
# git fast-import streams


class Stream:
    """A ``git fast-import`` stream on ``refs/heads/main``: commits (marks from 1), annotated
    and lightweight tags."""

    def __init__(self, parent: str | None = None) -> None:
        self.parts: list[bytes] = []
        self.marks = 0
        self.parent = parent  # the first commit's parent (an existing commit), if any

    @staticmethod
    def _data(text: bytes) -> bytes:
        return b"data %d\n%s\n" % (len(text), text)

    def commit(self, files: dict[str, bytes | None], message: str, when: int) -> int:
        self.marks += 1
        name, email = PEOPLE[self.marks % len(PEOPLE)]
        out = [f"commit refs/heads/main\nmark :{self.marks}\n".encode()]
        out.append(f"committer {name} <{email}> {when} +0000\n".encode())
        out.append(self._data(message.encode()))
        if self.marks == 1 and self.parent:
            out.append(f"from {self.parent}\n".encode())
        for path, content in files.items():
            if content is None:
                out.append(f"D {path}\n".encode())
            else:
                out.append(f"M 100644 inline {path}\n".encode() + self._data(content))
        self.parts.append(b"".join(out) + b"\n")
        return self.marks

    def tag(self, name: str, mark: int, when: int, message: str) -> None:
        who, email = PEOPLE[len(self.parts) % len(PEOPLE)]
        head = f"tag {name}\nfrom :{mark}\ntagger {who} <{email}> {when} +0000\n".encode()
        self.parts.append(head + self._data(message.encode()))

    def lightweight(self, name: str, mark: int) -> None:
        self.parts.append(f"reset refs/tags/{name}\nfrom :{mark}\n\n".encode())

    def bytes(self) -> bytes:
        return b"".join(self.parts)


def git(repo: Path, *args: str, stdin: bytes | None = None) -> str:
    proc = subprocess.run(
        ["git", "-C", str(repo), *args],
        input=stdin,
        capture_output=True,
        env={**os.environ, **GIT_ENV},
    )
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args[:3])} failed in {repo}: {proc.stderr.decode()}")
    return proc.stdout.decode().strip()


def dvc_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "dvc", *args]


def dvc_available() -> bool:
    proc = subprocess.run([sys.executable, "-c", "import dvc"], capture_output=True)
    return proc.returncode == 0


def init_repo(tmp: Path, with_dvc: bool) -> str:
    """A repository with one commit (``dvc init`` when DVC is importable, so DVC can read it);
    the commit's sha."""
    git(tmp, "init", "-q", "-b", "main")
    git(tmp, "config", "user.name", "Bench")
    git(tmp, "config", "user.email", "bench@example.com")
    if with_dvc:
        subprocess.run(dvc_argv("init", "-q"), cwd=tmp, check=True, env={**os.environ, **DVC_ENV})
        site = tmp.parent / "dvc-site-cache"
        for key, value in (("core.analytics", "false"), ("core.check_update", "false"),
                           ("core.site_cache_dir", str(site))):  # fmt: skip
            subprocess.run(dvc_argv("config", "--local", key, value), cwd=tmp, check=True)
    (tmp / "README.md").write_text("# benchmark repository\n")
    git(tmp, "add", "-A")
    git(tmp, "commit", "-q", "-m", "Initial commit")
    return git(tmp, "rev-parse", "HEAD")


def cached(base: Path, name: str, rebuild: bool) -> tuple[Path, dict | None]:
    repo = base / name
    meta_file = repo / ".git" / "benchmark.json"
    if repo.exists() and not rebuild and meta_file.exists():
        return repo, {**json.loads(meta_file.read_text()), "cached": True}
    return repo, None


def finish(repo: Path, tmp: Path, stream: Stream, meta: dict, start: float) -> dict:
    git(tmp, "-c", "core.fsync=none", "fast-import", "--quiet", stdin=stream.bytes())
    git(tmp, "-c", "core.fsync=none", "pack-refs", "--all")
    git(tmp, "reset", "-q", "--hard", "main")
    meta["build_seconds"] = round(time.perf_counter() - start, 2)
    (tmp / ".git" / "benchmark.json").write_text(json.dumps(meta, indent=2))
    shutil.rmtree(repo, ignore_errors=True)
    tmp.rename(repo)
    return {**meta, "cached": False}


# ---------------------------------------------------------------------------------------------
# Values and files


def count(tree: Tree) -> int:
    return sum(count(v) if isinstance(v, dict) else 1 for v in tree.values())


def to_json(tree: Tree) -> bytes:
    return (json.dumps(tree, indent=2) + "\n").encode()


def _yaml_scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))  # a double-quoted YAML string


def to_yaml(tree: Tree, indent: int = 0) -> bytes:
    """Block-style YAML of nested mappings of scalars (what DVC's ruamel and our reader read
    alike)."""
    lines: list[str] = []

    def walk(node: Tree, depth: int) -> None:
        for key, value in node.items():
            pad = "  " * depth
            if isinstance(value, dict):
                lines.append(f"{pad}{key}:")
                walk(value, depth + 1)
            else:
                lines.append(f"{pad}{key}: {_yaml_scalar(value)}")

    walk(tree, indent)
    return ("\n".join(lines) + "\n").encode()


def ml_metrics(rng: random.Random) -> tuple[Tree, Tree]:
    """metrics.json (6,000 values) and eval/scores.yaml (4,000): training curves, per-class
    scores, per-segment evaluation, a summary with strings and bools."""
    train: Tree = {
        f"epoch_{e:03d}": {
            "loss": round(2.5 * 0.97**e + rng.random() * 0.05, 6),
            "acc": round(min(0.99, 0.4 + e * 0.006 + rng.random() * 0.01), 6),
            "lr": round(0.001 * 0.98**e, 8),
            "grad_norm": round(rng.uniform(0.1, 5), 4),
            "step": e * 1000,
        }
        for e in range(100)
    }
    per_class: Tree = {
        f"class_{c:04d}": {
            "precision": round(rng.uniform(0.5, 1), 6),
            "recall": round(rng.uniform(0.5, 1), 6),
            "f1": round(rng.uniform(0.5, 1), 6),
            "support": rng.randrange(10, 5000),
            "threshold": round(rng.uniform(0.2, 0.8), 3),
        }
        for c in range(1098)
    }
    summary: Tree = {
        "accuracy": 0.912345,
        "auc": 0.95,
        "model": "xgboost-1.7",
        "converged": True,
        "n_params": 1_234_567,
        "early_stopped": False,
        "best_epoch": 87,
        "run_id": "r-20240601-abc",
        "train_seconds": 3600.5,
        "loss": 0.1234,
    }
    metrics = {"summary": summary, "train": train, "per_class": per_class}
    segments: Tree = {
        f"segment_{s:03d}": {
            "auc": round(rng.uniform(0.7, 1), 6),
            "logloss": round(rng.uniform(0.05, 0.7), 6),
            "latency_ms": round(rng.uniform(1, 50), 3),
            "n": rng.randrange(100, 100_000),
            "ece": round(rng.uniform(0, 0.1), 6),
            "precision_at_10": round(rng.uniform(0.3, 1), 6),
            "recall_at_10": round(rng.uniform(0.3, 1), 6),
            "drift": {"psi": round(rng.uniform(0, 0.3), 5), "alert": rng.random() < 0.05},
            "mape": round(rng.uniform(1, 30), 4),
        }
        for s in range(400)
    }
    scores = {"eval": {"segments": segments}}
    assert count(metrics) + count(scores) == 10_000, (count(metrics), count(scores))
    return metrics, scores


def mutate(rng: random.Random, tree: Tree, share: float, churn: int) -> Tree:
    """A copy with ~``share`` of the numbers moved, and ``churn`` leaf keys removed and added."""
    out = copy.deepcopy(tree)
    leaves: list[tuple[Tree, str]] = []

    def walk(node: Tree) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                walk(value)
            else:
                leaves.append((node, key))

    walk(out)
    for node, key in leaves:
        value = node[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if rng.random() < share:
            if isinstance(value, int):
                node[key] = value + rng.randrange(1, 50)
            else:
                node[key] = round(value * rng.uniform(0.9, 1.1), 6)
    for node, key in rng.sample(leaves, churn):
        if key in node:
            del node[key]
    for i, (node, _) in enumerate(rng.sample(leaves, churn)):
        node[f"new_metric_{i}"] = round(rng.random(), 6)
    return out


DVC_YAML_A = b"""stages:
  train:
    cmd: python src/train.py
    deps:
      - src/train.py
      - data/features.csv
    params:
      - lr
      - epochs
      - model.depth
    metrics:
      - metrics.json:
          cache: false
  evaluate:
    cmd: python src/evaluate.py
    deps:
      - src/evaluate.py
    metrics:
      - eval/scores.yaml:
          cache: false
metrics:
  - metrics.json
  - eval/scores.yaml
params:
  - params.yaml
"""


def ml_params(rng: random.Random, revision: int) -> bytes:
    tree: Tree = {
        "lr": 0.001 if revision == 0 else 0.0005,
        "epochs": 100,
        "seed": 42,
        "model": {"depth": 6 + revision, "name": "xgboost", "subsample": 0.8},
        "features": {
            f"f{i:02d}": {"enabled": True, "weight": round(rng.random(), 3)} for i in range(30)
        },
    }
    return to_yaml(tree)


def noise_files(rng: random.Random, commit: int) -> dict[str, bytes]:
    """One to three of the ~400 unrelated source, doc and data files, rewritten."""
    files = {}
    for _ in range(rng.randint(1, 3)):
        n = rng.randrange(400)
        folder = ("src", "docs", "data/raw", "notebooks", "tests")[n % 5]
        body = "".join(f"line {i} of file {n} at commit {commit}\n" for i in range(20 + n % 40))
        files[f"{folder}/file_{n:03d}.txt"] = body.encode()
    return files


def build_ml_repo(base: Path, seed: int, rebuild: bool, with_dvc: bool) -> tuple[Path, dict]:
    """Shape A; meta has the commits ``a`` and ``b``."""
    repo, meta = cached(base, f"report-ml-g{GEN_VERSION}-s{seed}", rebuild)
    if meta is not None:
        return repo, meta
    start = time.perf_counter()
    rng = random.Random(f"{seed}-ml")
    tmp = base / f"{repo.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    root = init_repo(tmp, with_dvc)
    stream = Stream(parent=root)
    when = BASE_EPOCH
    initial: dict[str, bytes | None] = {}
    for n in range(400):  # every noise file exists from the start
        folder = ("src", "docs", "data/raw", "notebooks", "tests")[n % 5]
        initial[f"{folder}/file_{n:03d}.txt"] = f"file {n}\n".encode()
    metrics, scores = ml_metrics(rng)
    old_metrics = mutate(rng, metrics, 0.3, 5)
    old_scores = mutate(rng, scores, 0.3, 5)
    initial.update(
        {
            "dvc.yaml": DVC_YAML_A,
            "params.yaml": ml_params(random.Random(seed), 0),
            "metrics.json": to_json(old_metrics),
            "eval/scores.yaml": to_yaml(old_scores),
            "src/train.py": b"print('train')\n",
            "src/evaluate.py": b"print('evaluate')\n",
        }
    )
    stream.commit(initial, "Add the pipeline", when)
    for i in range(150):
        when += 600
        stream.commit(noise_files(rng, i), f"Work {i}", when)
    when += 600
    a = stream.commit(
        {"metrics.json": to_json(metrics), "eval/scores.yaml": to_yaml(scores)},
        "Train: revision A",
        when,
    )
    for i in range(150, 300):
        when += 600
        stream.commit(noise_files(rng, i), f"Work {i}", when)
    new_metrics = mutate(rng, metrics, 0.3, 5)
    new_scores = mutate(rng, scores, 0.3, 5)
    when += 600
    b = stream.commit(
        {
            "metrics.json": to_json(new_metrics),
            "eval/scores.yaml": to_yaml(new_scores),
            "params.yaml": ml_params(random.Random(seed), 1),
        },
        "Train: revision B",
        when,
    )
    for i in range(300, 320):
        when += 600
        stream.commit(noise_files(rng, i), f"Work {i}", when)
    stream.lightweight("bench-a", a)
    stream.lightweight("bench-b", b)
    info = {
        "metrics": count(new_metrics) + count(new_scores),
        "commits": stream.marks + 1,
        "files": 400 + 7,
    }
    meta = finish(repo, tmp, stream, info, start)
    meta["a"] = git(repo, "rev-parse", "bench-a^{commit}")
    meta["b"] = git(repo, "rev-parse", "bench-b^{commit}")
    (repo / ".git" / "benchmark.json").write_text(json.dumps(meta, indent=2))
    return repo, meta


# ---------------------------------------------------------------------------------------------
# Shape B: a registry


VERSIONS = 50
CANDIDATE = "v1.1.0"


def churn_metrics(rng: random.Random, version: int) -> Tree:
    """~200 metrics, most drifting a little from version to version."""
    quality = 0.8 + 0.15 * (1 - 0.95**version)
    return {
        "auc": round(quality + rng.uniform(-0.01, 0.01), 6),
        "logloss": round(0.5 - quality / 3 + rng.uniform(-0.01, 0.01), 6),
        "latency_ms": round(rng.uniform(8, 12), 3),
        "model_size_bytes": 1_000_000 + version * 1000,
        "calibrated": version % 2 == 0,
        "by_month": {
            f"m{m:02d}": {
                "auc": round(quality - 0.01 * (m % 3) + rng.uniform(-0.02, 0.02), 6),
                "precision": round(rng.uniform(0.6, 0.9), 6),
                "recall": round(rng.uniform(0.6, 0.9), 6),
                "rows": rng.randrange(10_000, 50_000),
            }
            for m in range(24)
        },
        "by_region": {
            f"r{r:02d}": {
                "auc": round(quality + rng.uniform(-0.03, 0.03), 6),
                "rmse": round(rng.uniform(0.1, 0.4), 6),
                "n": rng.randrange(1000, 9000),
            }
            for r in range(32)
        },
    }


ARTIFACTS_YAML = b"""churn:
  type: model
  path: models/churn.pkl
  description: Churn model, version %d
  labels: [tabular, churn]
"""

DVC_YAML_B = b"""metrics:
  - metrics.json
"""


def build_registry_repo(base: Path, seed: int, rebuild: bool, with_dvc: bool) -> tuple[Path, dict]:
    """Shape B."""
    repo, meta = cached(base, f"report-registry-g{GEN_VERSION}-s{seed}", rebuild)
    if meta is not None:
        return repo, meta
    start = time.perf_counter()
    rng = random.Random(f"{seed}-registry")
    tmp = base / f"{repo.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    root = init_repo(tmp, with_dvc)
    stream = Stream(parent=root)
    when = BASE_EPOCH
    gitops_yaml = b"reports:\n  history: 50\n"
    setup = {"gitops.yaml": gitops_yaml, "dvc.yaml": DVC_YAML_B, "src/train.py": b"pass\n"}
    noise_commits = [stream.commit(setup, "Set up the project", when)]
    version_commits: list[int] = []
    for v in range(VERSIONS + 1):
        for i in range(4):  # unrelated work between trainings
            when += 300
            noise_commits.append(stream.commit(noise_files(rng, v * 4 + i), "Work", when))
        when += 300
        model = rng.randbytes(2048)
        files = {
            "metrics.json": to_json(churn_metrics(rng, v)),
            "models/churn.pkl": model,
            "artifacts.yaml": ARTIFACTS_YAML % v,
        }
        version_commits.append(stream.commit(files, f"Train churn {v}", when))
    tag_time = when + 3600
    names = [f"v1.0.{v}" for v in range(VERSIONS)] + [CANDIDATE]
    for v, (name, mark) in enumerate(zip(names, version_commits, strict=True)):
        tag_time += 60
        stream.tag(f"churn@{name}", mark, tag_time,
                   f"Registering artifact churn version {name}")  # fmt: skip
        if v < VERSIONS:
            tag_time += 60
            stream.tag(f"churn#prod#{v + 1}", mark, tag_time,
                       f"Assigning stage prod to artifact churn version {name}")  # fmt: skip
    noise = 0
    for i in range(300):  # builds, releases, other people's tags; a tenth lightweight
        mark = rng.choice(noise_commits + version_commits)
        name = rng.choice(("build-{}", "release/{}", "nightly-{}", "exp/run-{}")).format(i)
        if i % 10 == 0:
            stream.lightweight(name, mark)
        else:
            tag_time += 7
            stream.tag(name, mark, tag_time, f"{name}: not a registry tag")
        noise += 1
    info = {
        "versions": VERSIONS,
        "candidate": CANDIDATE,
        "metrics": count(churn_metrics(random.Random(0), 0)),
        "commits": stream.marks + 1,
        "gto_tags": 2 * VERSIONS + 1,
        "noise_tags": noise,
    }
    return repo, finish(repo, tmp, stream, info, start)


# ---------------------------------------------------------------------------------------------
# Timing


def gitops_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "gitops", *args]


def catfile_specs(repo: Path, shas: Sequence[str], paths: Sequence[str]) -> bytes:
    return "".join(f"{sha}:{path}\n" for sha in shas for path in paths).encode()


def fmt_ratio(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}x" if value < 100 else f"{value:.0f}x"


def print_table(rows: list[tuple[str, Result, str | None, str | None]]) -> None:
    """rows: (shape, result, its floor's label, the label of the gitops row DVC compares with)."""
    by_label = {(shape, r.label): r for shape, r, _, _ in rows}
    header = ("shape", "command", "best s", "median s", "cpu s", "MB", "/floor", "DVC/ours")
    table = [header]
    for shape, r, floor, ours in rows:
        base = by_label.get((shape, floor)) if floor else None
        mine = by_label.get((shape, ours)) if ours else None
        table.append(
            (
                shape,
                r.label + (f" (exit {r.failed.returncode})" if r.failed else ""),
                f"{r.best:.3f}",
                f"{r.median:.3f}",
                f"{r.cpu_median:.3f}",
                f"{r.rss_mb:.0f}",
                fmt_ratio(r.median / base.median if base and base is not r else None),
                fmt_ratio(r.median / mine.median if mine else None),
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for n, row in enumerate(table):
        pairs = enumerate(zip(row, widths, strict=True))
        cells = [c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in pairs]
        print("  ".join(cells))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=5, help="timed runs per command (after 1 warmup)")
    p.add_argument("--dvc-repeat", type=int, default=3, help="timed DVC runs (after 1 warmup)")
    p.add_argument("--no-dvc", action="store_true", help="do not time DVC")
    p.add_argument("--keep", type=Path, help="cache repositories here (default: a temp dir)")
    p.add_argument("--rebuild", action="store_true", help="rebuild cached repositories")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument(
        "--no-pycache",
        action="store_true",
        help="run gitops with the environment as is (default: bytecode cached in a private "
        "PYTHONPYCACHEPREFIX, as an installed package has it)",
    )
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    base = args.keep or Path(tempfile.gettempdir()) / "gitops-bench"
    base.mkdir(parents=True, exist_ok=True)
    with_dvc = not args.no_dvc and dvc_available()
    git_version = git(base, "--version")
    print(f"{git_version}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average {load}: the machine is shared, other processes inflate wall times")
    print(f"repositories under {base} (seed {args.seed}); DVC {'on' if with_dvc else 'off'}")

    env = os.environ.copy() if args.no_pycache else pycache_env(base / "pycache")
    env.update(GIT_ENV)
    worktree = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (worktree, env.get("PYTHONPATH")) if p)
    dvc_env = {**os.environ, **GIT_ENV, **DVC_ENV}

    ml, ml_meta = build_ml_repo(base, args.seed, args.rebuild, with_dvc)
    how = "cached" if ml_meta["cached"] else "built"
    print(
        f"A: {ml.name}: {how} ({ml_meta['build_seconds']} s); {ml_meta['metrics']:,} metrics "
        f"in 2 files + params.yaml, {ml_meta['commits']} commits, ~{ml_meta['files']} files"
    )
    reg, reg_meta = build_registry_repo(base, args.seed, args.rebuild, with_dvc)
    how = "cached" if reg_meta["cached"] else "built"
    print(f"B: {reg.name}: {how} ({reg_meta['build_seconds']} s); churn: {reg_meta['versions']} "
          f"versions in prod + candidate {reg_meta['candidate']}, {reg_meta['metrics']} metrics "
          f"each, {reg_meta['gto_tags']} GTO tags, {reg_meta['noise_tags']} noise tags, "
          f"{reg_meta['commits']} commits")  # fmt: skip

    rows: list[tuple[str, Result, str | None, str | None]] = []
    n = args.repeat

    def time_it(shape: str, label: str, argv: list[str], floor: str | None, ours: str | None,
                **kw: Any) -> Result:  # fmt: skip
        result = measure((shape, None), label, argv, n if "dvc" not in label else args.dvc_repeat,
                         **kw)  # fmt: skip
        rows.append((shape, result, floor, ours))
        return result

    print("\ntiming (medians as it goes):")
    time_it("-", "python -c pass", [sys.executable, "-c", "pass"], None, None, env=env)
    time_it("-", "gitops --help", gitops_argv("--help"), None, None, env=env)

    # Shape A
    print("A: the ML repository")
    a, b, r = ml_meta["a"], ml_meta["b"], str(ml)
    floor_a = "git cat-file --batch (floor)"
    files = ["dvc.yaml", "metrics.json", "eval/scores.yaml", "params.yaml"]
    time_it("A", floor_a, ["git", "-C", r, "cat-file", "--batch"], None, None,
            stdin=catfile_specs(ml, [a, b], files))  # fmt: skip
    md_a = "gitops report --base A --head B --format md"
    json_a = "gitops report --base A --head B --format json"
    report = ["report", "--base", a, "--head", b, "-r", r]
    ours_md = time_it("A", md_a, gitops_argv(*report, "--format", "md"), floor_a, None, env=env)
    time_it("A", json_a, gitops_argv(*report, "--format", "json"), floor_a, None, env=env)
    if with_dvc:
        dvc_diff = time_it("A", "dvc metrics diff A B --json --all",
                dvc_argv("--cd", r, "metrics", "diff", a, b, "--json", "--all"), floor_a, json_a,
                env=dvc_env)  # fmt: skip
        time_it("A", "dvc metrics diff A B --md --all",
                dvc_argv("--cd", r, "metrics", "diff", a, b, "--md", "--all"), floor_a, md_a,
                env=dvc_env)  # fmt: skip
        time_it("A", "dvc params diff A B --json --all",
                dvc_argv("--cd", r, "params", "diff", a, b, "--json", "--all"), floor_a, None,
                env=dvc_env)  # fmt: skip
    check_a = sanity_a(ours_md)
    if with_dvc:
        check_a.append(dvc_sanity_a(dvc_diff))

    # Shape B
    print("B: the registry")
    r = str(reg)
    floor_b = "git cat-file --batch (floor)"
    shas = git(reg, "rev-list", "--all", "--", "metrics.json").split()
    time_it("B", floor_b, ["git", "-C", r, "cat-file", "--batch"], None, None,
            stdin=catfile_specs(reg, shas, ["dvc.yaml", "metrics.json"]))  # fmt: skip
    stage_b = "gitops report churn --stage prod --format md"
    version_b = "gitops report churn@v1.0.49 --format md"
    stage = time_it("B", stage_b, gitops_argv("report", "churn", "--stage", "prod", "--format",
                    "md", "-r", r), floor_b, None, env=env)  # fmt: skip
    time_it("B", version_b, gitops_argv("report", "churn@v1.0.49", "--format", "md", "-r", r),
            floor_b, None, env=env)  # fmt: skip
    if with_dvc:
        dvc_show = time_it("B", "dvc metrics show --json --all-tags",
                dvc_argv("--cd", r, "metrics", "show", "--json", "--all-tags"), floor_b, stage_b,
                env=dvc_env)  # fmt: skip
    check_b = sanity_b(stage)
    if with_dvc:
        check_b.append(dvc_sanity_b(dvc_show))

    print("\nwall seconds of whole processes (best, median of the runs); cpu s: median user+system")
    print("incl. children; MB: peak RSS (max over runs, incl. children); /floor: median over")
    print("the git floor's; DVC/ours: DVC median over the gitops row doing the same work.")
    print(f"A: {ml_meta['metrics']:,} metrics diffed between two revisions (gitops: metrics and")
    print("   params; DVC: metrics diff, params diff on a row of its own). Floor: one")
    print("   git cat-file --batch of dvc.yaml, metrics.json, eval/scores.yaml, params.yaml")
    print("   at A and B.")
    print(f"B: gitops: candidate {reg_meta['candidate']} vs prod's v1.0.49 plus the history chart")
    print(f"   over the {reg_meta['versions']} versions prod held (51 revisions read);")
    print("   churn@v1.0.49: v1.0.49 vs v1.0.48. DVC: metrics show --all-tags, metrics.json at")
    print("   every tagged commit (its one command reading metrics over a registry's")
    print("   versions; no diff, no chart). Floor: one git cat-file --batch of dvc.yaml +")
    print("   metrics.json at the")
    print(f"   {len(shas)} commits that changed metrics.json.\n")
    print_table(rows)

    print("\nchecks:")
    for text, ok in (*check_a, *check_b):
        print(f"  {text:<64} {'OK' if ok else 'WRONG'}")
    print(f"\ntargets (the issue's: each gitops report < {LIMIT_SECONDS} s, median):")
    failed = False
    for shape, result, _, _ in rows:
        if not result.label.startswith("gitops report"):
            continue
        good = not result.failed and result.median < LIMIT_SECONDS
        failed |= not good
        verdict = "PASS" if good else "FAIL"
        print(f"  {shape} {result.label:<52} {verdict} ({result.median:.3f} s)")
    failed |= not all(ok for _, ok in (*check_a, *check_b))
    return 1 if failed else 0


def sanity_a(result: Result) -> list[tuple[str, bool]]:
    out = result.stdout.decode(errors="replace")
    return [
        ("A: the Markdown report names metrics.json and eval/scores.yaml",
         "metrics.json" in out and "eval/scores.yaml" in out),
        ("A: it shows added metrics (new_metric_*)", "new\\_metric" in out or "new_metric" in out),
    ]  # fmt: skip


def sanity_b(result: Result) -> list[tuple[str, bool]]:
    out = result.stdout.decode(errors="replace")
    return [
        ("B: the stage report draws a history chart (xychart-beta)", "xychart-beta" in out),
        # history: 50 = the last 49 versions prod held and the candidate, where it would land
        (
            "B: it covers v1.0.1 .. v1.0.49 and the candidate v1.1.0",
            "v1.0.1" in out and "v1.0.49" in out and "(candidate)" in out,
        ),
    ]


def _json(result: Result) -> Any:
    try:
        return json.loads(result.stdout or b"null")
    except json.JSONDecodeError:
        return None


def dvc_sanity_a(result: Result) -> tuple[str, bool]:
    """DVC read the same work: both files, every key (10,000 plus those removed)."""
    doc = _json(result)
    sizes = {k: len(v) for k, v in doc.items()} if isinstance(doc, dict) else {}
    shown = ", ".join(f"{k} {n:,}" for k, n in sizes.items())
    return (f"A: DVC diffed both files ({shown or 'nothing'})", len(sizes) == 2)


def dvc_sanity_b(result: Result) -> tuple[str, bool]:
    """DVC read every tagged commit (its keys: the tags of a commit, comma-joined)."""
    doc = _json(result)
    tags = {t.strip() for k in doc for t in k.split(",")} if isinstance(doc, dict) else set()
    found = "churn@v1.0.49" in tags
    revs = len(doc) - 1 if isinstance(doc, dict) else 0
    return (f"B: DVC read metrics at {revs} tagged commits (+ workspace)", found)


if __name__ == "__main__":
    sys.exit(main())
