"""What several commands share: their common options, printing JSON as GTO does, registry
warnings, and keeping a read command's data alive until the process ends."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gitops.registry.reader import Registry


def repo_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-r", "--repo", default=".", type=Path, help="repository path (default: current dir)"
    )
    p.add_argument(
        "--lightweight",
        action="store_true",
        help="also read lightweight tags, dated by their commit (GTO ignores them)",
    )


def deploy_args(p: argparse.ArgumentParser) -> None:
    repo_arg(p)
    p.add_argument("-c", "--config", default="gitops.yaml", help="config file (in the repo)")
    p.add_argument(
        "-e", "--env", action="append", dest="envs", metavar="ENV", help="only this environment"
    )
    p.add_argument(
        "--allow-unknown-stage",
        action="store_true",
        help="accept stages no tag has used yet (a warning each; .gto's list still applies)",
    )


def json_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON exactly as GTO 1.10.1 does")


def output_args(p: argparse.ArgumentParser) -> argparse._MutuallyExclusiveGroup:
    """GTO's output forms of a table command, one at a time: ``--json`` or ``--plain`` (more
    can be added to the group returned)."""
    shown = p.add_mutually_exclusive_group()
    shown.add_argument("--json", action="store_true", help="print JSON exactly as GTO does")
    shown.add_argument("--plain", action="store_true", help="the table without its frame")
    return shown


def push_args(p: argparse.ArgumentParser) -> None:
    """What every write command takes, as GTO does (``--simple``, ``--push``, ``-m``), and
    ``--remote`` (GTO pushes to origin only)."""
    p.add_argument("--push", action="store_true", help="push the new tag(s) to the remote")
    p.add_argument("--remote", default="origin", help="the remote --push uses (default origin)")
    p.add_argument("-m", "--message", help="tag message (default: GTO's message)")
    p.add_argument(
        "--simple",
        default=None,
        type=_simple,
        metavar="{auto,true,false}",
        help="tag form: true `rf#prod`, false `rf#prod#7`, auto (default) as GTO does per event",
    )


def _simple(value: str) -> bool | None:
    """GTO's ``--simple true|false|auto``."""
    forms = {"auto": None, "true": True, "false": False}
    if value not in forms:
        raise argparse.ArgumentTypeError(f"{value!r}: use auto, true or false")
    return forms[value]


def print_json(value: Any) -> None:
    """As GTO prints: ``json.dumps(indent=4)``, byte for byte (``gitops.jsonout``)."""
    from gitops.jsonout import write_json
    from gitops.registry.gto_json import json_default  # refuses what GTO cannot print

    write_json(value, sys.stdout.write, default=json_default)


def print_warnings(registry: Registry, artifact: str | None = None) -> None:
    """Tag warnings and conflicts on stderr, except ``artifact``'s own conflict: a command about
    that artifact fails with it as its error, and saying it twice is noise."""
    for warning in registry.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for name, conflict in registry.state.conflicts.items():
        if name != artifact:
            print(f"warning: {conflict}", file=sys.stderr)


# Set by gitops.cli.run(): what a read command built, kept alive to the end (os._exit), so
# that nothing is freed on the way out. None when main() runs in-process (tests).
RETAINED: list[Any] | None = None


def retain(value: Any) -> None:
    if RETAINED is not None:
        RETAINED.append(value)


def in_ci() -> bool:
    import os

    return os.environ.get("GITHUB_ACTIONS") == "true" or os.environ.get("GITLAB_CI") == "true"


def report_written(args: argparse.Namespace, tags: list[str], deleted: bool = False) -> int:
    """What GTO says per tag: ``Created git tag 'X' that registers version`` (or ``Deleted git
    tag 'X'``), then how to push it, or that it was pushed (``--push``)."""
    import shlex

    from gitops.registry import write

    if args.push and tags:
        try:
            write.push_tags(args.repo, tags, args.remote, delete=deleted)
        except Exception:
            for tag in tags:  # what was done here stays said, whatever the remote did
                print(f"{'Deleted' if deleted else 'Created'} git tag '{tag}'")
            raise
    from gitops.registry.gto_text import wrap

    def say(line: str) -> None:  # GTO's console wraps what it says
        sys.stdout.write(wrap(line) + "\n")

    how = " --delete " if deleted else " "
    for tag in tags:
        if deleted:
            say(f"Deleted git tag '{tag}'")
        else:
            says = getattr(tag, "says", "")
            say(f"Created git tag '{tag}'" + (f" {says}" if says else ""))
        if args.push:
            say(f"Running `git push{how}{args.remote} {tag}`")
            done = "deleted" if deleted else "pushed"
            say(f"Successfully {done} git tag {tag} on remote.")
        else:
            say("To push the changes upstream, run:")
            say(f"    git push{how}{args.remote} {shlex.quote(tag)}")
    return 0
