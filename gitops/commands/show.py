"""``gitops show [NAME]``: the registry, or the versions of one artifact (GTO's ``show``)."""

from __future__ import annotations

import argparse

from gitops.commands._common import json_arg, print_json, print_warnings, repo_arg, retain


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("show", help="registry state, or the versions of one artifact")
    p.add_argument("name", nargs="?", help="artifact, or NAME#stage, NAME@latest, NAME@vX.Y.Z")
    repo_arg(p)
    json_arg(p)
    p.add_argument(
        "-d",
        "--all",
        "--deprecated",
        dest="deprecated",
        action="store_true",
        help="include deprecated artifacts and versions",
    )
    p.add_argument(
        "--ro",
        "--registered-only",
        dest="registered_only",
        action="store_true",
        help="only registered versions (no bare commits)",
    )
    p.add_argument(
        "--sort",
        default="timestamp",
        choices=["timestamp", "semver"],
        help="which version a stage shows: latest assigned or highest SemVer",
    )
    p.add_argument(
        "--vs",
        "--versions-per-stage",
        dest="vs",
        type=int,
        default=1,
        help="versions shown per stage (-1: all)",
    )
    p.add_argument(
        "--av",
        "--assignments-per-version",
        dest="av",
        type=int,
        default=-1,
        help="stages shown per version (-1: all)",
    )


def run(args: argparse.Namespace) -> int:
    from gitops.registry import reader, views
    from gitops.registry.tags import parse_shortcut

    name = parse_shortcut(args.name).name if args.name else None
    registry = reader.load_registry(args.repo, args.lightweight, only=name)
    retain(registry)
    print_warnings(registry, name)
    opts = views.ShowOptions(args.registered_only, args.deprecated, args.av, args.vs, args.sort)
    if args.name:
        versions = views.show_versions(registry, args.name, opts)
        if args.json:
            print_json(versions)
        else:
            from gitops.registry.render import versions_table

            print(versions_table(registry, args.name, versions))
        return 0
    state = views.show_registry(registry, opts)
    if args.json:
        print_json(state)
    else:
        from gitops.registry.render import registry_table

        print(registry_table(registry, state))
    return 0
