"""``build_catalog``: gather, shape and write the site in one call (the command and the CI
action's ``command: catalog`` both use it)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

from gitops.catalog.links import Links

DEFAULT_HISTORY = 50  # versions per model whose metrics are charted


@dataclass
class BuiltCatalog:
    out: Path
    pages: list[Path]
    models: int
    environments: int
    warnings: list[str] = field(default_factory=list)


def generated_at() -> str:
    """The build time: ``SOURCE_DATE_EPOCH`` when set (reproducible builds), else now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    when = (
        dt.datetime.fromtimestamp(int(epoch), dt.UTC)
        if epoch.isdigit()
        else dt.datetime.now(dt.UTC).replace(microsecond=0)
    )
    return when.isoformat()


def build_catalog(
    repo: Path,
    out: Path,
    config_name: str = "gitops.yaml",
    links: Links | None = None,
    in_ci: bool = False,
    history: int = DEFAULT_HISTORY,
    lightweight: bool = False,
) -> BuiltCatalog:
    from gitops import __version__
    from gitops.catalog import data, gather, site

    links = links or Links()
    sources = gather.gather(repo, config_name, in_ci, history, lightweight)
    catalog = data.build(sources, links)
    head = sources.registry.state.head or ""
    common = {
        "gitops_version": __version__,
        "generated_at": generated_at(),
        "head": head,
        "head_url": links.commit(head),
    }
    pages = site.write_site(catalog, out, common)
    return BuiltCatalog(
        out=out,
        pages=pages,
        models=len(catalog["models"]),
        environments=len(catalog["environments"]),
        warnings=sources.warnings,
    )
