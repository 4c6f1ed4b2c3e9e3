"""``gitops demo``: the main job on the embedded sample registry."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="build a sample registry in a temp dir and show it")
    p.add_argument("--keep", action="store_true", help="keep the sample repository")


def run(args: argparse.Namespace) -> int:
    from gitops import demo

    return demo.run(keep=args.keep)
