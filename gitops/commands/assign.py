"""``gitops assign NAME [REF] --stage S``: the direct way into a stage (``NAME#S#N``), as GTO
does; ``gitops promote`` is the reviewed way. Both are checked by the stage's policy."""

from __future__ import annotations

import argparse

from gitops.commands._common import push_args, repo_arg, report_written


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("assign", help="assign a stage (writes NAME#stage#N)")
    p.add_argument("name", help="artifact name")
    p.add_argument("ref", nargs="?", help="commit to assign (default HEAD unless --version)")
    repo_arg(p)
    p.add_argument("--version", help="existing version to assign; with REF: name the new one")
    p.add_argument("--stage", required=True, help="the stage to assign, e.g. prod")
    p.add_argument("--force", action="store_true", help="assign even if already in the stage")
    p.add_argument(
        "--skip-registration",
        "--sr",
        action="store_true",
        help="do not register an unregistered commit first",
    )
    push_args(p)


def run(args: argparse.Namespace) -> int:
    """The stage tag is signed when GITOPS_SIGNING_KEY is set (a ``signed_tags`` policy checks
    it when the tag is pushed, as for any hand-pushed tag)."""
    from gitops.registry import write
    from gitops.registry.signing import signing_from_env

    with signing_from_env() as signing:
        result = write.assign(
            args.repo,
            args.name,
            args.stage,
            ref=args.ref,
            version=args.version,
            force=args.force,
            skip_registration=args.skip_registration,
            message=args.message,
            signing=signing,
            simple=args.simple,
        )
    return report_written(args, result)
