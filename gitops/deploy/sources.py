"""Where the bytes of each version a plan deploys come from, for the people who read it."""

from __future__ import annotations

from pathlib import Path

from gitops.artifacts.resolve import Want, resolve_each
from gitops.deploy.plan import Plan


def attach(plan: Plan, repo: Path) -> Plan:
    """Fill ``plan.sources`` for every version it deploys: all resolved in one batch of git
    reads; one that cannot be resolved keeps its error (the deploy will fail with it)."""
    wants: dict[tuple[str, str], Want] = {}
    for action in plan.changes:
        # no path annotated: the version is its commit's whole tree, nothing worth a line
        if action.to_version is not None and action.to_commit is not None and action.path:
            key = (action.artifact, action.to_version)
            wants.setdefault(key, Want(action.artifact, action.path, action.to_commit))
    found = resolve_each(repo, wants.values()) if wants else {}
    plan.sources = {key: found[want] for key, want in wants.items()}
    return plan
