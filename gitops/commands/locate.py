"""``gitops locate NAME@VERSION | NAME#STAGE``: where a version's bytes are (Git, or a DVC
remote), how big, which DVC file declares them, and with ``--files`` every file's hash and
object URL: what a deploy of that version fetches, told without fetching it."""

from __future__ import annotations

import argparse

from gitops.commands._common import print_json, repo_arg
from gitops.errors import UsageError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("locate", help="where a version's bytes are: Git or a DVC remote")
    p.add_argument("name", help="NAME@vX.Y.Z, NAME@latest or NAME#stage")
    repo_arg(p)
    p.add_argument("--files", action="store_true", help="every file, its hash and object URL")
    p.add_argument("--json", action="store_true", help="as JSON")


def run(args: argparse.Namespace) -> int:
    from gitops.artifacts.resolve import resolve
    from gitops.deploy.plan import artifact_info, version_path
    from gitops.registry import reader, views
    from gitops.registry.tags import parse_shortcut

    shortcut = parse_shortcut(args.name)
    if not (shortcut.version or shortcut.stage or shortcut.latest):
        raise UsageError(f"{args.name}: say which version: NAME@vX.Y.Z, NAME@latest or NAME#stage")
    registry = reader.load_registry(args.repo, args.lightweight, only=shortcut.name)
    found = views.show_versions(registry, args.name, views.ShowOptions())
    if not found:
        raise UsageError(f"{args.name}: no such version in the registry")
    version, commit = found[0]["version"], found[0]["commit_hexsha"]
    default = artifact_info(registry).get(shortcut.name)
    path = version_path(registry, shortcut.name, version, default.path if default else None)
    source = resolve(registry.root, shortcut.name, path, commit)
    files = None
    if args.files:
        from gitops.artifacts.fetch import list_files

        files = list_files(registry.root, source)
    if args.json:
        data = {"artifact": shortcut.name, "version": version} | source.to_json()
        if files is not None:
            data["files"] = [f.to_json() for f in files]
        print_json(data)
        return 0
    from gitops.markdown import strip_control as clean

    lines = [
        f"{clean(shortcut.name)} {clean(version)} (commit {commit[:12]})",
        f"path:    {clean(source.path) or '(the whole tree)'}",
        f"bytes:   {clean(source.describe())}",
    ]
    if source.tracked_by:
        lines.append(f"tracked: {clean(source.tracked_by)} (md5 {clean(source.md5)})")
    if source.url:
        lines.append(f"object:  {clean(source.url)}")
    print("\n".join(lines))
    for entry in files or ():
        size = "-" if entry.size is None else str(entry.size)
        print(f"  {clean(entry.path) or '.'}  {size}  {entry.hash}  {clean(entry.url)}".rstrip())
    return 0
