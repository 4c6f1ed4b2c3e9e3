"""Benchmark planning and applying at scale: 50 environments x 200 artifacts on a 10k-tag registry.

Builds (or reuses) the registry of benchmarks/registry.py, writes a gitops.yaml with 50
environments over its three stages (every artifact served everywhere: the registry declares no
types), then times:

- ``gitops plan --json`` as a whole process, against empty state and against state in sync;
- the plan in-process (load registry, read state, observe, plan), best of N;
- ``apply`` with the ``noop`` driver (a fixed delay per deploy) at several parallelism limits,
  against empty file-store state each time, showing how it scales.

    /work/venv/bin/python benchmarks/plan.py [--size 10000] [--envs 50] [--delay 0.002]
        [--parallelism 1,4,16] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from registry import DEFAULT_SEED, STAGES, build_registry  # noqa: E402

from gitops.config import load_config  # noqa: E402
from gitops.deploy.apply import Applier, RunInfo  # noqa: E402
from gitops.deploy.plan import make_plan, plan_now  # noqa: E402
from gitops.deploy.store import FileStore  # noqa: E402
from gitops.registry.reader import load_registry  # noqa: E402


def write_config(repo: Path, envs: int, delay: float, parallelism: int) -> None:
    lines = [f"parallelism: {parallelism}", "state: {store: file, forge_records: false}"]
    lines.append("environments:")
    for i in range(envs):
        stage = STAGES[i % len(STAGES)]
        lines.append(f"  env-{i:02d}: {{stage: {stage}, deploy: {{driver: noop, delay: {delay}}}}}")
    (repo / "gitops.yaml").write_text("\n".join(lines) + "\n")


def timed(fn, repeat: int) -> tuple[float, float, object]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


def cli_plan(repo: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "gitops", "plan", "--json", "-r", str(repo)],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--envs", type=int, default=50)
    parser.add_argument("--delay", type=float, default=0.002, help="noop deploy seconds")
    parser.add_argument("--parallelism", default="1,4,16")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()

    base = args.keep or Path(tempfile.gettempdir()) / "gitops-bench"
    base.mkdir(parents=True, exist_ok=True)
    repo, meta = build_registry(base, args.size, DEFAULT_SEED, rebuild=False)
    print(f"registry: {repo} ({args.size} tags, {'cached' if meta['cached'] else 'built'})")
    write_config(repo, args.envs, args.delay, 4)
    state_dir = repo / ".gitops" / "state"
    shutil.rmtree(state_dir, ignore_errors=True)

    registry = load_registry(repo)
    config = load_config(repo)
    assert config is not None
    store = FileStore(state_dir)
    names = list(config.environments)

    def plan_in_process():  # type: ignore[no-untyped-def]
        reg = load_registry(repo)
        state, _ = store.read(names)
        return plan_now(reg, config, state)

    best, median, plan = timed(plan_in_process, args.repeat)
    changes = len(plan.changes)  # type: ignore[union-attr]
    print(f"\nplan: {args.envs} environments, {changes} changes ({len(plan.actions)} entries)")  # type: ignore[union-attr]
    print(f"  in-process (read registry + state + plan): best {best:.3f} s, median {median:.3f} s")
    cli = [cli_plan(repo) for _ in range(args.repeat)]
    print(
        f"  `gitops plan --json` process, empty state: best {min(cli):.3f} s, "
        f"median {statistics.median(cli):.3f} s"
    )

    print(f"\napply with the noop driver ({args.delay * 1000:g} ms per deploy), file store:")
    baseline = None
    for parallelism in [int(p) for p in args.parallelism.split(",")]:
        shutil.rmtree(state_dir, ignore_errors=True)
        config.parallelism = parallelism
        state, _ = store.read(names)
        plan = make_plan(registry, config, state)
        applier = Applier(registry, config, store, RunInfo(actor="bench"), log=lambda _: None)
        start = time.perf_counter()
        results = applier.apply(plan)
        seconds = time.perf_counter() - start
        baseline = baseline or seconds
        ok = sum(r.status == "deployed" for r in results)
        print(
            f"  parallelism {parallelism:>3}: {seconds:7.2f} s for {ok} deploys "
            f"({ok / seconds:7.0f}/s, speed-up {baseline / seconds:4.1f}x)"
        )

    cli = [cli_plan(repo) for _ in range(args.repeat)]
    print(
        f"\n`gitops plan --json` process, state in sync: best {min(cli):.3f} s, "
        f"median {statistics.median(cli):.3f} s"
    )
    sizes = sum(f.stat().st_size for f in state_dir.glob("*.json"))
    print(f"state: {len(list(state_dir.glob('*.json')))} documents, {sizes / 1e6:.1f} MB")
    print(
        json.dumps(
            {
                "target": "plan < 1 s at 50 x 200 on 10k tags",
                "in_process_best": round(best, 3),
                "cli_best": round(min(cli), 3),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
