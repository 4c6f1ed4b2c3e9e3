"""Benchmark deploying a DVC-tracked model: gitops against ``dvc pull`` of the same path.

The registry: a git + DVC repository with a local-folder remote, one folder output of
``--size-mb`` (1024) MB in ``--files`` (10,000) files of random bytes spread over 100
subfolders, ``dvc add``-ed, ``dvc push``-ed, registered ``big@v1.0.0`` and assigned to prod
(``big#prod#1``), with a gitops.yaml whose one environment uses the ``local`` driver. Built once,
cached under ``$TMPDIR/gitops-bench-dvc-<size>-<files>`` (``--keep DIR``; ``--rebuild``).

Each repeat works in FRESH clones (empty DVC cache, as CI has), timed as whole processes with
registry.py's launcher (wall time, peak RSS of the process and its children):

1. ``dvc pull models/big`` (the floor: DVC's own CLI);
2. ``gitops apply``: resolve, fetch through DVC, check every md5, copy into the environment,
   swap it in; the deployed tree is compared with what dvc pull gave (exit 1 if it differs);
3. ``fetch()`` alone (resolve + fetch + md5 checks, no environment), in a small process;
4. ``gitops apply`` in the clone dvc pull filled: DVC's cache has every object.

Then "memory flat in file size": ``fetch()`` of a one-file artifact of 10 MB and of
``--big-file-mb`` (512) MB; their peak RSS should be about the same.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/dvc.py [--size-mb 1024] [--files 10000]
        [--repeat 3] [--big-file-mb 512] [--keep DIR] [--rebuild]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from registry import Run, run_once

BIN = Path(sys.executable).parent
DVC = BIN / "dvc"
ENV = {**os.environ, "DVC_NO_ANALYTICS": "1", "DVC_NO_UPDATE_CHECK": "1"}
FETCH = """
import sys
from pathlib import Path
from gitops.artifacts.fetch import fetch
from gitops.artifacts.resolve import resolve
repo, artifact, path, ref, out = sys.argv[1:]
git = ["git", "-C", repo, "rev-parse", ref + "^{commit}"]
commit = __import__("subprocess").check_output(git, text=True).strip()
fetched = fetch(Path(repo), resolve(Path(repo), artifact, path, commit), Path(out))
print(fetched.files, fetched.bytes, fetched.origin)
"""


def sh(cwd: Path, *argv: str) -> None:
    subprocess.run(argv, cwd=cwd, env=ENV, check=True, capture_output=True, timeout=3600)


def build(base: Path, size_mb: int, files: int, big_file_mb: int) -> Path:
    """The repository (``base/repo``) and its remote (``base/remote``)."""
    repo, remote = base / "repo", base / "remote"
    shutil.rmtree(base, ignore_errors=True)
    repo.mkdir(parents=True)
    sh(repo, "git", "init", "-q", "-b", "main")
    sh(repo, "git", "config", "user.name", "Bench")
    sh(repo, "git", "config", "user.email", "bench@example.com")
    sh(repo, str(DVC), "init", "-q")
    sh(repo, str(DVC), "remote", "add", "-d", "store", str(remote))
    each = size_mb * 2**20 // files
    for i in range(files):
        folder = repo / "models" / "big" / f"p{i % 100:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{i}.bin").write_bytes(os.urandom(each))
    for name, mb in (("small.bin", 10), ("large.bin", big_file_mb)):
        with open(repo / "models" / name, "wb") as f:
            for _ in range(mb):
                f.write(os.urandom(2**20))
    sh(repo, str(DVC), "add", "-q", "models/big", "models/small.bin", "models/large.bin")
    sh(repo, str(DVC), "push", "-q")
    (repo / "artifacts.yaml").write_text(
        "big: {type: model, path: models/big}\n"
        "small: {type: model, path: models/small.bin}\n"
        "large: {type: model, path: models/large.bin}\n"
    )
    (repo / "gitops.yaml").write_text(
        "state: {store: file}\n"
        "environments:\n  prod: {stage: prod, deploy: {driver: local, dir: .deployed}}\n"
    )
    (repo / ".gitignore").write_text(".gitops/\n.deployed/\n")
    sh(repo, "git", "add", "-A")
    sh(repo, "git", "commit", "-q", "-m", "models")
    for tag in ("big@v1.0.0", "big#prod#1", "small@v1.0.0", "large@v1.0.0"):
        sh(repo, "git", "tag", "-a", tag, "-m", tag)
    return repo


def clone(repo: Path, dest: Path) -> Path:
    shutil.rmtree(dest, ignore_errors=True)
    sh(repo.parent, "git", "clone", "-q", str(repo), str(dest))
    return dest


def tree_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        with open(path, "rb") as f:
            digest.update(hashlib.file_digest(f, "sha256").digest())
    return digest.hexdigest()


def timed(label: str, runs: list[Run], rows: list[tuple[str, list[Run]]]) -> None:
    rows.append((label, runs))
    failed = [r for r in runs if r.returncode != 0]
    if failed:
        raise SystemExit(f"{label} failed: {failed[0].stderr.decode(errors='replace')[-800:]}")


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size-mb", type=int, default=1024)
    p.add_argument("--files", type=int, default=10_000)
    p.add_argument("--big-file-mb", type=int, default=512)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--keep", type=Path)
    p.add_argument("--rebuild", action="store_true")
    args = p.parse_args(argv)

    name = f"gitops-bench-dvc-{args.size_mb}-{args.files}-{args.big_file_mb}"
    base = args.keep or Path(tempfile.gettempdir()) / name
    repo = base / "repo"
    if args.rebuild or not (repo / "gitops.yaml").exists():
        print(f"building {args.size_mb} MB in {args.files:,} files under {base} ...", flush=True)
        build(base, args.size_mb, args.files, args.big_file_mb)
    work = base / "work"
    work.mkdir(exist_ok=True)
    gitops = [sys.executable, "-m", "gitops"]
    env = {**ENV, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    rows: list[tuple[str, list[Run]]] = []
    pulls, applies, fetches, warm = [], [], [], []
    for i in range(args.repeat):
        a = clone(repo, work / f"pull{i}")
        pulls.append(run_once([str(DVC), "--cd", str(a), "pull", "-q", "models/big"], env))
        expected = tree_hash(a / "models" / "big")
        b = clone(repo, work / f"apply{i}")
        applies.append(run_once([*gitops, "apply", "-r", str(b)], env))
        deployed = b / ".deployed" / "prod" / "big" / "models" / "big"
        if tree_hash(deployed) != expected:
            raise SystemExit("the deployed files differ from what dvc pull gave")
        c = clone(repo, work / f"fetch{i}")
        out = work / f"fetched{i}"
        shutil.rmtree(out, ignore_errors=True)
        argv = [sys.executable, "-c", FETCH, str(c), "big", "models/big", "big@v1.0.0", str(out)]
        fetches.append(run_once(argv, env))
        warm.append(run_once([*gitops, "apply", "-r", str(a)], env))  # a's cache is full
        for folder in (a, b, c, out):
            shutil.rmtree(folder, ignore_errors=True)
    timed("`dvc pull models/big` (fresh clone)", pulls, rows)
    timed("`gitops apply`, local driver (fresh clone)", applies, rows)
    timed("`fetch()` alone (fresh clone)", fetches, rows)
    timed("`gitops apply` (DVC cache full)", warm, rows)

    memory = []
    for artifact, mb in (("small", 10), ("large", args.big_file_mb)):
        c = clone(repo, work / f"mem-{artifact}")
        out = work / f"mem-out-{artifact}"
        shutil.rmtree(out, ignore_errors=True)
        path = f"models/{artifact}.bin"
        run = run_once(
            [sys.executable, "-c", FETCH, str(c), artifact, path, f"{artifact}@v1.0.0", str(out)],
            env,
        )
        if run.returncode != 0:
            raise SystemExit(run.stderr.decode(errors="replace")[-800:])
        memory.append((mb, run))
        shutil.rmtree(c, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)

    floor = statistics.median(r.seconds for r in pulls)
    print()
    print(f"{args.size_mb} MB in {args.files:,} files, local remote, medians of {args.repeat}")
    print()
    print("| case | seconds | vs dvc pull | peak RSS |")
    print("|---|---:|---:|---:|")
    for label, runs in rows:
        median = statistics.median(r.seconds for r in runs)
        rss = max(r.maxrss_kb for r in runs) / 1024
        print(f"| {label} | {median:.1f} | {median / floor:.2f}x | {rss:.0f} MB |")
    print()
    print("| one file of | `fetch()` seconds | peak RSS |")
    print("|---:|---:|---:|")
    for mb, run in memory:
        print(f"| {mb} MB | {run.seconds:.1f} | {run.maxrss_kb / 1024:.0f} MB |")
    print()
    print(f"(2 CPUs shared with other work; {os.cpu_count()} CPUs seen.)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
