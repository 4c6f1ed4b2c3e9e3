"""``gitops deprecate NAME [VERSION [STAGE]]``: deprecate an artifact, deregister a version or
unassign a stage, as GTO does."""

from __future__ import annotations

import argparse

from gitops.commands._common import push_args, repo_arg, report_written


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "deprecate",
        help="deprecate an artifact, deregister a version, or unassign a stage",
    )
    p.add_argument("name", help="artifact name; alone: deprecate it (NAME@deprecated)")
    p.add_argument("version", nargs="?", help="deregister this version (NAME@vX.Y.Z!)")
    p.add_argument("stage", nargs="?", help="with VERSION: unassign this stage (NAME#stage!#N)")
    repo_arg(p)
    p.add_argument("--ref", help="the commit to deprecate the artifact on (default: its latest)")
    p.add_argument("--force", action="store_true", help="write the tag even if it changes nothing")
    p.add_argument(
        "--delete",
        action="store_true",
        help="delete the tags instead of writing one (of the artifact, the version, or the "
        "version's stage); with --push, on the remote too",
    )
    push_args(p)


def run(args: argparse.Namespace) -> int:
    from gitops.errors import UsageError
    from gitops.registry import write

    if args.ref is not None and (args.version or args.delete):
        raise UsageError("--ref goes with deprecating a whole artifact (no VERSION, no --delete)")
    if args.delete:
        tags = write.tags_of(args.repo, args.name, args.version, args.stage)
        write.delete_tags(args.repo, tags)
        return report_written(args, tags, deleted=True)
    if args.stage:
        result = write.unassign(args.repo, args.name, args.version, args.stage, force=args.force,
                                message=args.message, simple=args.simple)  # fmt: skip
    elif args.version:
        result = write.deregister(args.repo, args.name, args.version, force=args.force,
                                  message=args.message, simple=args.simple)  # fmt: skip
    else:
        result = write.deprecate(args.repo, args.name, force=args.force, message=args.message,
                                 simple=args.simple, ref=args.ref)  # fmt: skip
    return report_written(args, result)
