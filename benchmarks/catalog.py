"""Benchmark ``gitops catalog --out DIR`` as whole processes on large generated registries.

Registries: ``registry.build_registry``'s (the same cached 1k/10k/100k-tag GTO registries as
benchmarks/registry.py: 200 artifacts, dev/staging/prod), each cloned with ``--shared`` into a
folder of its own (the cached registry stays untouched) and given what a deploying repository
has: a gitops.yaml with three environments (dev, staging, prod; the ``local`` driver, whose
plan looks at the disk) and a file state store where each environment runs what its stage holds,
with a history of five deploys per model, some failed and rolled back. Plus report.py's shape B
(one model, 50 versions with ~200 metrics each): the metrics-and-charts path.

Per registry: ``gitops catalog`` with that gitops.yaml, and without one (registry only). The
issue's targets, on the median: 10k tags under 2 s, 100k under 10 s; exit 1 when one is missed.
Also printed: pages written, the site's size and its largest page (pages stay small).

    PYTHONPATH=$PWD .venv/bin/python benchmarks/catalog.py [--sizes 10000,100000]
        [--repeat 5] [--keep DIR] [--rebuild] [--seed N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from registry import DEFAULT_SEED, Result, build_registry, measure, pycache_env

TARGETS = {10_000: 2.0, 100_000: 10.0}  # seconds, median of whole processes (the issue's)
ENVIRONMENTS = ("dev", "staging", "prod")
GITOPS_YAML = """\
environments:
  dev: {stage: dev, deploy: {driver: local, dir: .deployments}}
  staging: {stage: staging, after: [dev], deploy: {driver: local, dir: .deployments}}
  prod: {stage: prod, after: [staging], deploy: {driver: local, dir: .deployments}}
"""


def gitops_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "gitops", *args]


def deploying_clone(source: Path, base: Path, rebuild: bool, seed: int) -> Path:
    """``source`` cloned (objects shared) with gitops.yaml and a state store beside it."""
    clone = base / f"catalog-{source.name}"
    done = clone / ".git" / "catalog-bench.json"
    if done.exists() and not rebuild:
        return clone
    shutil.rmtree(clone, ignore_errors=True)
    subprocess.run(["git", "clone", "-q", "--shared", str(source), str(clone)], check=True)
    (clone / "gitops.yaml").write_text(GITOPS_YAML)
    _write_state(clone, seed)
    done.write_text(json.dumps({"source": str(source)}))
    return clone


def _write_state(repo: Path, seed: int) -> None:
    """What each environment runs: its stage's version, mostly healthy; five past deploys."""
    from gitops.registry.moves import stage_holders
    from gitops.registry.reader import load_registry

    rng = random.Random(seed)
    registry = load_registry(repo)
    held = stage_holders(registry)
    folder = repo / ".gitops" / "state"
    folder.mkdir(parents=True, exist_ok=True)
    for n, env in enumerate(ENVIRONMENTS):
        deployed, history = {}, {}
        for (artifact, stage), holder in sorted(held.items()):
            if stage != env:
                continue
            at = f"2026-01-{1 + n:02d}T{rng.randrange(24):02d}:00:00+00:00"
            roll = rng.random()
            status = "deployed" if roll < 0.9 else ("rolled-back" if roll < 0.96 else "failed")
            deployed[artifact] = {"version": holder.version, "commit": holder.commit,
                                  "status": status, "at": at, "by": "ci-bot",
                                  "why": f"{artifact}#{stage}",
                                  "run_url": "https://ci.example/runs/1"}  # fmt: skip
            history[artifact] = [
                {"version": f"v0.{i}.0", "status": "deployed", "at": f"2025-12-{10 + i}T00:00Z"}
                for i in range(5)
            ]
        doc = {"schema_version": 1, "deployed": deployed, "history": history}
        (folder / f"{env}.json").write_text(json.dumps(doc))


def site_facts(out: Path) -> str:
    pages = list(out.rglob("*.html"))
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    largest = max(pages, key=lambda p: p.stat().st_size)
    return (
        f"{len(pages)} pages, {total / 1e6:.1f} MB in all, largest page "
        f"{largest.stat().st_size / 1e3:.0f} kB ({largest.relative_to(out)})"
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--sizes", default="10000,100000", help="comma-separated tag counts")
    p.add_argument("--repeat", type=int, default=5, help="timed runs per command (after 1 warmup)")
    p.add_argument("--keep", type=Path, help="cache registries here (default: a temp dir)")
    p.add_argument("--rebuild", action="store_true", help="rebuild cached registries")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--no-report-repo", action="store_true", help="skip report.py's shape B")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    base = args.keep or Path(tempfile.gettempdir()) / "gitops-bench"
    base.mkdir(parents=True, exist_ok=True)
    env = pycache_env(base / "pycache")
    worktree = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (worktree, env.get("PYTHONPATH")) if p)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load}")
    print("(the machine is shared: other processes inflate wall times)")
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})

    repos: list[tuple[str, int | None, Path]] = []
    for size in sizes:
        source, meta = build_registry(base, size, args.seed, args.rebuild)
        clone = deploying_clone(source, base, args.rebuild, args.seed)
        print(f"{size:>7,} tags: {meta['commits']} commits; clone {clone}")
        repos.append(("registry", size, clone))
    if not args.no_report_repo:
        from report import build_registry_repo

        reg, reg_meta = build_registry_repo(base, args.seed, args.rebuild, False)
        print(f"report shape B: {reg_meta['versions']} versions x {reg_meta['metrics']} metrics")
        repos.append(("metrics", None, reg))

    # `python -m gitops` puts the current folder first on sys.path: not the source tree
    os.chdir(base)
    print("\ntiming (median of whole processes, peak RSS):")
    results: list[tuple[str, int | None, str, Result, str]] = []
    out_root = Path(tempfile.mkdtemp(prefix="catalog-bench-"))
    try:
        for shape, size, repo in repos:
            configs = [("with gitops.yaml", "gitops.yaml")]
            if shape == "registry":
                configs.append(("registry only", "no-such.yaml"))
            for label, config in configs:
                out = out_root / f"{shape}-{size}-{config}"
                argv = gitops_argv("catalog", "-r", str(repo), "-c", config, "-o", str(out))
                result = measure((shape, size), f"gitops catalog ({label})", argv,
                                 args.repeat, env=env)  # fmt: skip
                facts = site_facts(out) if result.failed is None else "failed"
                print(f"      {facts}")
                results.append((shape, size, label, result, facts))
    finally:
        shutil.rmtree(out_root, ignore_errors=True)

    print("\nresults (seconds, whole processes):")
    print(f"  {'registry':<10} {'tags':>8}  {'':<18} {'best':>6} {'median':>7} {'MB':>5}  site")
    bad = False
    verdicts = []
    for shape, size, label, result, facts in results:
        shown = f"{size:,}" if size else "-"
        print(f"  {shape:<10} {shown:>8}  {label:<18} {result.best:6.2f} {result.median:7.2f} "
              f"{result.rss_mb:5.0f}  {facts}")  # fmt: skip
        if result.failed is not None:
            bad = True
        limit = TARGETS.get(size or 0)
        if limit is not None:
            ok = result.failed is None and result.median < limit
            bad |= not ok
            verdicts.append(f"  {size:>7,} tags, {label:<18} median {result.median:5.2f} s "
                            f"< {limit:g} s: {'ok' if ok else 'FAIL'}")  # fmt: skip
    print("\ntargets:")
    print("\n".join(verdicts))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
