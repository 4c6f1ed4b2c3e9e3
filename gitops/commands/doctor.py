"""``gitops doctor``: the version, the registry's ``.gto`` settings as read, and whether the
registry reads without problems (GTO's ``doctor``, saying what this repository has rather than
GTO's process-wide defaults)."""

from __future__ import annotations

import argparse

from gitops.commands._common import repo_arg

RULE = "-" * 33


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="the version, the registry's settings, and its problems")
    repo_arg(p)


def run(args: argparse.Namespace) -> int:
    from gitops import __version__
    from gitops.registry import reader
    from gitops.safetext import visible

    print(f"🪴  gitops {__version__} (reads and writes GTO 1.10.1's registry format)")
    print(RULE)
    registry = reader.load_registry(args.repo, args.lightweight)
    config = registry.config
    print("INDEX='artifacts.yaml'")
    print("CONFIG_FILE_NAME='.gto'")
    print(f"types={config.types!r}")
    print(f"stages={config.stages!r}")
    print(RULE)
    problems = [*registry.warnings, *(str(c) for c in registry.state.conflicts.values())]
    for problem in problems:
        print(f"❌ {visible(str(problem))}")
    if problems:
        return 1
    print("✅  No issues found")
    return 0
