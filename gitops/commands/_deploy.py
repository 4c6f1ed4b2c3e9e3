"""What ``plan``, ``apply`` and ``reconcile`` share: the registry, gitops.yaml and the state
store of the repository they run on."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from gitops.errors import UsageError

if TYPE_CHECKING:
    from gitops.config import GitopsConfig
    from gitops.deploy.store import StateStore
    from gitops.registry.reader import Registry


def deploy_inputs(args: argparse.Namespace) -> tuple[Registry, GitopsConfig, StateStore]:
    from gitops.commands._common import in_ci
    from gitops.config import load_config
    from gitops.deploy.names import check_names
    from gitops.deploy.store import open_store
    from gitops.registry import reader

    registry = reader.load_registry(args.repo, args.lightweight)
    for warning in registry.warnings:  # conflicts are errors of the plan (held, exit 1)
        print(f"warning: {warning}", file=sys.stderr)
    config = load_config(registry.root, args.config)
    if config is None:
        raise UsageError(
            f"no {args.config} in {registry.root}: nothing to deploy "
            "(see the README's gitops.yaml section)"
        )
    for env in args.envs or []:
        if env not in config.environments:
            known = ", ".join(config.environments) or "none"
            raise UsageError(f"unknown environment {env!r} (configured: {known})")
    for warning in check_names(config, registry, args.allow_unknown_stage):
        print(f"warning: {warning}", file=sys.stderr)
    return registry, config, open_store(config.state, registry.root, in_ci())
