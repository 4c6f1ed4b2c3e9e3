"""``gitops moves TAG... [--deleted TAG]``: which stages the given tags moved."""

from __future__ import annotations

import argparse
import json
import sys

from gitops.commands._common import repo_arg


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("moves", help="which stages the given tags moved")
    p.add_argument("tags", nargs="*", metavar="TAG", help="pushed tags (present now)")
    p.add_argument(
        "--deleted", action="append", default=[], metavar="TAG", help="a deleted tag (repeatable)"
    )
    repo_arg(p)
    p.add_argument("--json", action="store_true", help="tags and moves as JSON")


def run(args: argparse.Namespace) -> int:
    from gitops.ci.summary import text_table
    from gitops.registry.moves import compute_changes
    from gitops.registry.reader import RegistrySource

    source = RegistrySource.read(args.repo, args.lightweight)
    changes = compute_changes(source, args.tags, args.deleted)
    for warning in changes.registry.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.json:
        print(
            json.dumps(
                {
                    "tags": [t.to_json() for t in changes.tags],
                    "moves": [m.to_json() for m in changes.moves],
                    "conflicts": changes.conflict_errors(),
                },
                indent=2,
            )
        )
    else:
        print(text_table(changes))
    for error in changes.conflict_errors():
        print(f"error: {error}", file=sys.stderr)
    return 1 if changes.conflicts else 0
