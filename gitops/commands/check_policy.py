"""``gitops check-policy NAME VERSION STAGE``: may this version enter this stage now? Each
broken rule and how to meet it; exit 0 allowed, 1 refused, 2 a usage or config error."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gitops.errors import UsageError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check-policy",
        help="whether a version may enter a stage under gitops.yaml's policies",
        description="Check the stage's policy (policies: in gitops.yaml) for a version: order "
        "and soak (from the state store), actors, approvals, freeze windows, metric gates and "
        "the stage tag's signature. Exit 0 allowed, 1 refused, 2 usage or config error.",
    )
    p.add_argument("name", help="the artifact")
    p.add_argument("version", help="the registered version (vX.Y.Z)")
    p.add_argument("stage", help="the stage it would enter")
    p.add_argument("--actor", default=None, help="who promotes (default: git's user.name)")
    p.add_argument("--tag", help="the stage tag whose signature to check")
    p.add_argument(
        "--approvals",
        action="append",
        metavar="USER",
        help="an approver of the promotion PR (repeat); without it: not a PR",
    )
    p.add_argument("--label", action="append", default=[], help="a label of the PR (repeat)")
    p.add_argument("--now", help="check at this time (ISO 8601; default: now)")
    p.add_argument("-r", "--repo", default=".", type=Path, help="repository (default: .)")
    p.add_argument("-c", "--config", default="gitops.yaml", help="config file (in the repo)")


def run(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from gitops.config import load_config
    from gitops.deploy.store import open_store
    from gitops.promote.decision import Candidate
    from gitops.promote.policy import check
    from gitops.registry.git import run_git
    from gitops.registry.reader import load_registry
    from gitops.report import compare

    now = datetime.now(UTC)
    if args.now:
        try:
            now = datetime.fromisoformat(args.now)
        except ValueError:
            raise UsageError(f"--now {args.now!r}: not an ISO 8601 time") from None
        now = now if now.tzinfo else now.replace(tzinfo=UTC)
    registry = load_registry(args.repo, only=args.name)
    config = load_config(registry.root, args.config)
    if config is None:
        raise UsageError(f"no {args.config} in {registry.root}: no policies to check")
    side = compare.candidate(registry, args.name, args.stage, args.version).head
    actor = args.actor
    if actor is None:
        try:
            actor = run_git(registry.root, "config", "user.name").decode().strip()
        except Exception:  # noqa: BLE001 - no name configured: unknown actor
            actor = ""
    state, _ = open_store(config.state, registry.root, in_ci=False).read(list(config.environments))
    candidate = Candidate(
        args.name, args.version, side.sha, args.stage, actor, now, args.tag,
        tuple(args.approvals) if args.approvals is not None else None, tuple(args.label),
    )  # fmt: skip
    decision = check(candidate, config, state=state, repo=registry.root, gates=None)
    if decision.allowed:
        print(f"allowed: {args.name} {args.version} may enter {args.stage}")
    for v in decision.violations:
        print(f"refused ({v.rule}): {v.message}\n  fix: {v.fix}")
    for note in decision.notes:
        print(f"note: {note}")
    sys.stdout.flush()
    return 0 if decision.allowed else 1
