"""The action's ``command: catalog``: the checkout completed (every registry tag, as for every
command), the site built into ``.gitops/catalog`` in the repository, and its path (relative to
the workspace, as the runner's later steps see it) as the output ``catalog``: the folder to
publish (``workflows/catalog-pages.yml``; GitLab's ``pages`` job)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from gitops.ci.context import Context, Platform

if TYPE_CHECKING:
    from gitops.ci.action import Inputs, RunRecord
    from gitops.ci.reporter import Reporter

CATALOG_DIR = ".gitops/catalog"  # in the repository, beside the report's folder


def checkout_and_run(
    ctx: Context,
    inputs: Inputs,
    repo: Path,
    reporter: Reporter,
    record: RunRecord,
    env: Mapping[str, str],
) -> None:
    from gitops.catalog.build import build_catalog
    from gitops.catalog.links import Links
    from gitops.ci import checkout

    checkout.prepare(ctx, repo, reporter, "catalog")
    links = Links.make(ctx.repo_url, "gitlab" if ctx.platform == Platform.GITLAB else "github")
    out = repo / CATALOG_DIR
    in_ci = ctx.platform != Platform.LOCAL
    built = build_catalog(repo, out, inputs.config, links, in_ci)
    for warning in built.warnings:
        reporter.warning(warning)
    record.catalog = os.path.relpath(out.resolve(), ctx.workspace.resolve())
    reporter.log(
        f"catalog: {record.catalog} ({len(built.pages)} pages, {built.models} models, "
        f"{built.environments} environments)"
    )
