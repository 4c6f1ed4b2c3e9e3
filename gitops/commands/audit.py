"""``gitops audit [NAME] [--json]``: one story per stage change, from the tags, the promotion
requests and the state store."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "audit",
        help="who requested, merged, tagged and deployed each stage change",
        description="One story per stage change: requested by, merged by (and the PR), the "
        "tag and its tagger, and what each environment of the stage did with the version "
        "(run, result, rollbacks). Read from the tags, the promotion request files and the "
        "state store.",
    )
    p.add_argument("name", nargs="?", help="only this artifact")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("-r", "--repo", default=".", type=Path, help="repository (default: .)")
    p.add_argument("-c", "--config", default="gitops.yaml", help="config file (in the repo)")


def run(args: argparse.Namespace) -> int:
    from gitops.promote import audit
    from gitops.registry.reader import load_registry
    from gitops.registry.views import find_artifact

    registry = load_registry(args.repo, only=args.name)
    if args.name is not None:
        find_artifact(registry, args.name)  # a clear error for an unknown name
    config = state = None
    if (registry.root / args.config).is_file():
        from gitops.config import load_config
        from gitops.deploy.store import open_store

        config = load_config(registry.root, args.config)
        if config is not None:
            in_ci = (
                os.environ.get("GITHUB_ACTIONS") == "true" or os.environ.get("GITLAB_CI") == "true"
            )
            store = open_store(config.state, registry.root, in_ci)
            state, _ = store.read(list(config.environments))
    changes = audit.stories(registry, config, state, audit.request_history(registry.root),
                            args.name)  # fmt: skip
    if args.json:
        print(json.dumps([c.to_json() for c in changes], indent=2))
    else:
        sys.stdout.write(audit.table(changes) + "\n")
    return 0
