"""``gitops history [NAME]``: registry events, newest first (GTO's ``history``)."""

from __future__ import annotations

import argparse

from gitops.commands._common import output_args, print_json, print_warnings, repo_arg, retain


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("history", help="registry events, newest first")
    p.add_argument("name", nargs="?", help="only this artifact")
    repo_arg(p)
    output_args(p)
    p.add_argument(
        "--asc", "--ascending", dest="ascending", action="store_true", help="oldest first"
    )


def run(args: argparse.Namespace) -> int:
    from gitops.registry import reader, views

    registry = reader.load_registry(args.repo, args.lightweight, only=args.name)
    retain(registry)
    print_warnings(registry, args.name)
    events = views.history(registry, args.name, args.ascending)
    retain(events)
    if args.json:
        print_json(events)
    else:
        from gitops.registry import gto_text

        print(gto_text.table(gto_text.history_rows(events), plain=args.plain))
    return 0
