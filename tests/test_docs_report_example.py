"""The README's report example is what ``gitops report`` prints today (docs/report_example.py
makes it for real), and it is valid Markdown as GitHub reads it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from test_report_render import check_markdown

ROOT = Path(__file__).resolve().parent.parent


def _example_module():  # noqa: ANN202 - a module
    spec = importlib.util.spec_from_file_location(
        "report_example", ROOT / "docs" / "report_example.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_shows_the_report_the_product_makes() -> None:
    example = _example_module()
    markdown = example.example()
    check_markdown(markdown)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert example.readme_block(markdown) in readme, (
        "README's report example is stale: run `python docs/report_example.py --update`"
    )
