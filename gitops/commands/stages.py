"""``gitops stages [--allowed | --used] [--json]``: the registry's stages, as GTO lists them:
``.gto``'s list when it has one, else every stage a version is in."""

from __future__ import annotations

import argparse

from gitops.commands._common import print_json, repo_arg


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("stages", help="the stages of the registry (.gto's, else those in use)")
    repo_arg(p)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--allowed", action="store_true", help="only the stages .gto allows")
    which.add_argument("--used", action="store_true", help="only the stages tags have used")
    p.add_argument("--json", action="store_true", help="print JSON exactly as GTO does")


def run(args: argparse.Namespace) -> int:
    from gitops.registry import reader

    registry = reader.load_registry(args.repo, args.lightweight)
    allowed = registry.config.stages
    used = registry.state.used_stages()
    if args.allowed:
        stages = None if allowed is None else list(allowed)
    elif args.used:
        stages = used
    else:
        stages = list(allowed) if allowed is not None else used
    if args.json:
        print_json(stages)
    else:
        for stage in stages or []:
            print(stage)
    return 0
