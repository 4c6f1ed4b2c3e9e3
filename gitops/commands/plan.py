"""``gitops plan``: what ``apply`` would change, per environment."""

from __future__ import annotations

import argparse
import sys

from gitops.commands._common import deploy_args, print_json
from gitops.errors import GitopsError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plan", help="what apply would change, per environment")
    deploy_args(p)
    p.add_argument("--json", action="store_true", help="the plan as JSON")
    p.add_argument("--markdown", action="store_true", help="the plan as Markdown")
    p.add_argument("--all", action="store_true", help="also list what is in sync")
    p.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 0 when in sync, 1 when there are changes, 2 on errors",
    )


def run(args: argparse.Namespace) -> int:
    from gitops.commands._deploy import deploy_inputs
    from gitops.deploy.plan import plan_now, with_upstreams
    from gitops.deploy.render import plan_markdown, plan_table
    from gitops.deploy.sources import attach

    try:
        registry, config, store = deploy_inputs(args)
        state, _ = store.read(with_upstreams(config, args.envs))
        plan = attach(plan_now(registry, config, state, args.envs), registry.root)
    except GitopsError as exc:
        if not args.detailed_exitcode:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print_json(plan.to_json())
    elif args.markdown:
        print(plan_markdown(plan), end="")
    else:
        print(plan_table(plan, show_in_sync=args.all))
    for conflict in plan.conflicts:
        print(f"error: {conflict} Held where it is: nothing is changed for it.", file=sys.stderr)
    if plan.conflicts:
        return 2 if args.detailed_exitcode else 1
    if args.detailed_exitcode:
        return 1 if plan.changes else 0
    return 0
