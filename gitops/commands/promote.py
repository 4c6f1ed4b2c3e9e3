"""``gitops promote``: ask for a stage change as a reviewed PR/MR (the text of ``--help``)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from gitops.errors import UsageError

if TYPE_CHECKING:
    from gitops.forge.base import Forge

DESCRIPTION = """Open (or update) the promotion pull/merge request of NAME VERSION into STAGE:
a branch gitops/promote/STAGE/NAME adding .gitops/promotions/STAGE/NAME.yaml, with the metric
report of VERSION against what STAGE holds and the plan for STAGE's environments as its body.
Merging it creates the stage tag and deploys. The same NAME and STAGE again update that PR/MR.

On a laptop the forge is origin's (github.com and gitlab.com are known; other hosts need
--forge) and the token is GITOPS_TOKEN, else GITHUB_TOKEN / GITLAB_TOKEN. In CI, the run's.
To write the stage tag directly instead, use `gitops assign`.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "promote",
        help="open (or update) the promotion PR/MR of a version into a stage",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("name", help="artifact name, e.g. churn")
    p.add_argument("version", help="its registered version, e.g. v1.3.0")
    p.add_argument("stage", help="the stage to promote it to, e.g. prod")
    p.add_argument("--reason", default="", help="why, for the reviewers (kept in the request)")
    p.add_argument("-r", "--repo", default=".", type=Path, help="repository (default: .)")
    p.add_argument("-c", "--config", default="gitops.yaml", help="config file (in the repo)")
    p.add_argument("--base", help="the branch the PR/MR targets (default: origin's default)")
    p.add_argument(
        "--forge", choices=("github", "gitlab"), help="origin's forge, for hosts gitops cannot tell"
    )
    p.add_argument("--api-url", help="the forge's API (default: from origin's host)")


def run(args: argparse.Namespace) -> int:
    from gitops.ci.context import Platform
    from gitops.ci.detect import detect
    from gitops.promote.open import check_candidate, promote
    from gitops.registry.git import repo_root
    from gitops.registry.reader import load_registry

    root = repo_root(args.repo)
    registry = load_registry(root)
    for warning in registry.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    config = None
    if (root / args.config).is_file():
        from gitops.config import load_config

        config = load_config(root, args.config)
    check_candidate(registry, config, args.name, args.version, args.stage)  # before any request

    def log(line: str) -> None:
        print(line, file=sys.stderr)

    ctx = detect(os.environ, root)
    from gitops.report.compare import no_links

    start = None
    links = no_links
    if ctx.platform != Platform.LOCAL:
        from gitops.ci.promote_step import default_branch
        from gitops.ci.report_step import _links
        from gitops.forge import forge_for

        forge = forge_for(ctx, log=log)
        if forge is None:
            raise UsageError("no token for the forge API: set GITOPS_TOKEN")
        requester = ctx.actor or forge.whoami()
        base = args.base or default_branch(ctx, os.environ)
        if ctx.sha and ctx.ref == f"refs/heads/{base}":
            start = ctx.sha
        links = _links(ctx)
    else:
        forge = _laptop_forge(root, args, log)
        requester = forge.whoami()
        base = args.base or _origin_default(root)
    from gitops.promote import times

    pr = promote(
        root,
        forge,
        config,
        args.name,
        args.version,
        args.stage,
        args.reason,
        requester,
        times.now(),
        base,
        registry=registry,
        start=start,
        run_url=ctx.run_url,
        in_ci=ctx.platform != Platform.LOCAL,
        links=links,
        log=log,
    )
    print(f"{forge.pr_name(pr.number)}: {pr.url}")
    return 0


def _laptop_forge(root: Path, args: argparse.Namespace, log: Callable[[str], None]) -> Forge:
    from gitops.promote.remote import origin_url, resolve_remote, token_for

    remote = resolve_remote(origin_url(root), args.forge, args.api_url)
    token = token_for(remote.platform, os.environ)
    if remote.platform == "github":
        from gitops.forge.github import GitHub

        return GitHub(remote.api_url, remote.repository, token, log=log)
    from gitops.forge.gitlab import GitLab

    return GitLab(remote.api_url, remote.repository, token, server_url=remote.server_url, log=log)


def _origin_default(root: Path) -> str:
    """origin's default branch as the clone knows it (``origin/HEAD``), else main or master
    when origin has one; else a UsageError asking for --base."""
    from gitops.errors import GitopsError
    from gitops.registry.git import run_git

    try:
        out = run_git(root, "symbolic-ref", "--quiet", "refs/remotes/origin/HEAD")
        return out.decode().strip().removeprefix("refs/remotes/origin/")
    except GitopsError:
        pass
    for name in ("main", "master"):
        try:
            run_git(root, "rev-parse", "--verify", "--quiet", f"refs/remotes/origin/{name}")
        except GitopsError:
            continue
        return name
    raise UsageError(
        "cannot tell origin's default branch: give --base BRANCH "
        "(or run `git remote set-head origin --auto`)"
    )
