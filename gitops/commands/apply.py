"""``gitops apply`` and ``gitops reconcile``: deploy what the plan says (plan, deploy, health
check, rollback, record)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gitops.commands._common import deploy_args, print_json
from gitops.errors import GitopsError

HELP = {
    "apply": "deploy what the plan says (plan, deploy, health check, rollback, record)",
    "reconcile": "bring every environment to the registry's state (plan + apply)",
}


def add_parser(sub: argparse._SubParsersAction, name: str = "apply") -> None:
    p = sub.add_parser(name, help=HELP[name])
    deploy_args(p)
    p.add_argument("--dry-run", action="store_true", help="show what would be done, do nothing")
    p.add_argument("--json", action="store_true", help="plan and results as JSON")
    p.add_argument(
        "--retry-failed",
        action="store_true",
        help="retry versions that failed in an environment before",
    )
    p.add_argument(
        "--ignore-after",
        action="store_true",
        help="deploy versions that have not run healthy in the environments of `after:` "
        "yet (a first sync of an adopted registry, an emergency); the record says so",
    )


def run(args: argparse.Namespace) -> int:
    import getpass
    import os
    from collections.abc import Iterator
    from contextlib import contextmanager

    from gitops.commands._deploy import deploy_inputs
    from gitops.deploy.apply import Applier, RunInfo
    from gitops.deploy.plan import plan_now, with_upstreams
    from gitops.deploy.render import plan_table, results_table
    from gitops.deploy.sources import attach
    from gitops.secrets import Masker

    registry, config, store = deploy_inputs(args)
    why = f"gitops {args.command}"
    if args.ignore_after:
        why += " (order check skipped: --ignore-after)"
    info = RunInfo(actor=getpass.getuser(), why=why)
    out = sys.stderr if args.json else sys.stdout  # with --json, stdout is the JSON only

    def log(line: str) -> None:
        print(line, file=out, flush=True)

    @contextmanager
    def group(title: str) -> Iterator[None]:
        log(f"== {title}")
        yield

    mask = Masker.from_environment(os.environ).mask
    state, _ = store.read(with_upstreams(config, args.envs))
    plan = attach(plan_now(registry, config, state, args.envs), registry.root)
    applier = Applier(
        registry,
        config,
        store,
        info,
        dry_run=args.dry_run,
        log=log,
        group=group,
        mask=mask,
        retry_failed=args.retry_failed,
        ignore_order=args.ignore_after,
    )
    try:
        results = applier.apply(plan, args.envs)
    except GitopsError:
        if applier.results:  # what was done before the failure is not lost
            print(results_table(applier.results), file=sys.stderr)
        raise
    if args.json:  # plan --json's shape and format, plus the results
        print_json({**plan.to_json(), "results": [r.to_json() for r in results]})
    else:
        print(plan_table(plan))
        print()
        print(results_table(results))
    for conflict in plan.conflicts:
        print(f"error: {conflict} Held where it is: nothing is changed for it.", file=sys.stderr)
    if not args.dry_run:
        _hint_untracked_state(registry.root)
    return 1 if plan.conflicts or any(r.failed for r in results) else 0


def _hint_untracked_state(root: Path) -> None:
    """Local runs write live state (and the local driver's files) under ``.gitops/``: say how
    to keep them out of ``git status`` once, instead of leaving a surprise there."""
    from gitops.registry.git import run_git

    if not (root / ".gitops").is_dir():
        return
    try:
        untracked = run_git(root, "status", "--porcelain", "--", ".gitops").strip()
    except GitopsError:
        return
    if untracked:
        print(
            "hint: .gitops/ holds this machine's live state and local deployments and is not "
            "ignored by git: add `.gitops/` to .gitignore",
            file=sys.stderr,
        )
