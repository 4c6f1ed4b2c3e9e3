"""``gitops register NAME [REF]``: register a version (``NAME@vX.Y.Z``), as GTO does."""

from __future__ import annotations

import argparse

from gitops.commands._common import push_args, repo_arg, report_written


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("register", help="register a version (writes NAME@vX.Y.Z)")
    p.add_argument("name", help="artifact name, e.g. churn")
    p.add_argument("ref", nargs="?", default="HEAD", help="commit to register (default HEAD)")
    repo_arg(p)
    bump = p.add_mutually_exclusive_group()
    bump.add_argument("--version", "--ver", help="version to register, e.g. v1.2.0")
    bumps = {"major": "", "minor": "", "patch": " (the default)"}
    for part, note in bumps.items():
        help_text = f"next {part} version after the latest{note}"
        bump.add_argument(
            f"--bump-{part}", action="store_const", dest="bump", const=part, help=help_text
        )
    p.add_argument(
        "--force",
        action="store_true",
        help="register even if the commit already has an active version",
    )
    push_args(p)


def run(args: argparse.Namespace) -> int:
    from gitops.registry import write

    result = write.register(
        args.repo,
        args.name,
        args.ref,
        version=args.version,
        bump=args.bump,
        force=args.force,
        message=args.message,
        simple=args.simple,
    )
    return report_written(args, result)
