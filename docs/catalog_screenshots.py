"""Refresh the README's catalog screenshots (docs/catalog-overview.png, docs/catalog-model.png):
the demo's registry and deploy loop (``gitops demo``), its catalog built, and two pages shot in
headless Chromium (Debian's /usr/bin/chromium, through tests/catalog_cdp.py).

    PYTHONPATH=$PWD .venv/bin/python docs/catalog_screenshots.py
"""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from catalog_cdp import Browser  # noqa: E402

from gitops.catalog.build import build_catalog  # noqa: E402
from gitops.catalog.links import Links  # noqa: E402
from gitops.demo import build_sample, deploy_loop  # noqa: E402


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="catalog-shots-") as tmp:
        repo = Path(tmp) / "registry"
        build_sample(repo)
        with contextlib.redirect_stdout(io.StringIO()):
            deploy_loop(repo, Path(tmp) / "deployments")
        site = Path(tmp) / "site"
        build_catalog(repo, site, links=Links.make("https://github.com/acme/models"))
        browser = Browser()
        try:
            page = browser.page(width=1100, height=1250)
            for rel, name, full in (("index.html", "catalog-overview.png", True),
                                    ("models/churn.html", "catalog-model.png", False)):  # fmt: skip
                page.goto((site / rel).as_uri())
                if page.problems:
                    print(f"{rel}: {page.problems}", file=sys.stderr)
                    return 1
                page.screenshot(ROOT / "docs" / name, full_page=full)
                print(f"wrote docs/{name}")
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
