"""``gitops catalog --out DIR``: the model catalog, a static site of the registry, its
environments, the audit trail and the metrics of each version."""

from __future__ import annotations

import argparse
from pathlib import Path

from gitops.commands._common import repo_arg


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "catalog",
        help="build the model catalog: a static site of the registry",
        description="Build a static site (works offline and from file://): an overview of the "
        "models by stage and what each environment runs, a page per model (versions, stage "
        "timeline, metrics across versions as charts, promotions and deploys) and a page per "
        "environment (what runs since when, deploys and rollbacks, drift).",
    )
    p.add_argument("-o", "--out", required=True, type=Path, help="folder to write the site to")
    repo_arg(p)
    p.add_argument("-c", "--config", default="gitops.yaml", help="config file (in the repo)")
    p.add_argument(
        "--repo-url",
        default="",
        help="the repository's web URL (https://github.com/OWNER/REPO): links to tags, "
        "commits and PRs. In CI: the run's repository",
    )
    p.add_argument(
        "--forge",
        choices=("github", "gitlab"),
        default=None,
        help="how --repo-url's links are made (default: gitlab when the host says so)",
    )
    p.add_argument(
        "--history",
        type=int,
        default=50,
        metavar="N",
        help="versions per model whose metrics are charted (default 50; 0: no charts)",
    )


def run(args: argparse.Namespace) -> int:
    import os
    import sys

    from gitops.catalog.build import build_catalog
    from gitops.catalog.links import Links
    from gitops.commands._common import in_ci

    repo_url, forge = args.repo_url, args.forge
    if not repo_url and in_ci():
        from gitops.ci.context import Platform
        from gitops.ci.detect import detect

        ctx = detect(os.environ)
        repo_url = ctx.repo_url
        forge = forge or ("gitlab" if ctx.platform == Platform.GITLAB else "github")
    links = Links.make(repo_url, forge)
    built = build_catalog(
        args.repo, args.out, args.config, links, in_ci(), args.history, args.lightweight
    )
    for warning in built.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(
        f"Wrote the catalog to {built.out}: {len(built.pages)} pages, "
        f"{built.models} models, {built.environments} environments. "
        f"Open {built.out / 'index.html'}"
    )
    return 0
