"""``gitops show [NAME]``: the registry, or the versions of one artifact (GTO's ``show``)."""

from __future__ import annotations

import argparse

from gitops.commands._common import output_args, print_json, print_warnings, repo_arg, retain

COLUMNS = ("name", "version", "stage", "ref")  # GTO's one-column forms, a line per row


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("show", help="registry state, or the versions of one artifact")
    p.add_argument("name", nargs="?", help="artifact, or NAME#stage, NAME@latest, NAME@vX.Y.Z")
    repo_arg(p)
    shown = output_args(p)
    for field in COLUMNS:
        shown.add_argument(
            f"--{field}", dest=f"show_{field}", action="store_true", help=f"only the {field}s"
        )
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
            return 0
        from gitops.registry import gto_text

        artifact = registry.state.artifacts.get(name or "")
        registered = artifact is None or artifact.is_registered
        rows = gto_text.version_rows(versions, registered)
    else:
        state = views.show_registry(registry, opts)
        if args.json:
            print_json(state)
            return 0
        from gitops.registry import gto_text

        rows = gto_text.registry_rows(state, registry.stages)
    field = next((f for f in COLUMNS if getattr(args, f"show_{f}")), None)
    if field is not None:
        for line in gto_text.column(rows, field):
            print(line)
        return 0
    print(gto_text.table(rows, plain=args.plain))
    return 0
