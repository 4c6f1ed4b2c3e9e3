"""Write the catalog's pages: Jinja2 templates shipped in the package (autoescape on, every
string from the repository escaped), the stylesheet, the script and the vendored chart library
copied beside them, so the site works offline and from ``file://``.

Layout of the site (every link relative):

    index.html, index-2.html...       the overview, MODELS_PER_PAGE models a page
    models/<slug>.html                a model; models/<slug>-versions-<n>.html its older versions
    environments/<slug>.html          an environment
    static/                           catalog.css, catalog.js, vendor/uplot/
    catalog.json                      the overview's data (for other tools; the pages embed theirs)

The site is built in a folder beside ``out`` and moved into place at the end: a failed build
leaves the previous site as it was.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from gitops.catalog.data import PAGE
from gitops.errors import UsageError

MODELS_PER_PAGE = 500
NAV_ENVIRONMENTS = 12  # environments linked from every page's header
HERE = Path(__file__).parent
MARKER = "catalog.json"  # a folder holding it is a site we built: it may be replaced


def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every template is HTML
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
    )
    # Python helpers, not Jinja macros: a page calls them thousands of times on a big registry
    env.globals.update(link=link, code_link=code_link, badge=badge)
    env.filters["when"] = when
    return env


def link(url: str, text: str) -> Markup:
    """``text`` as a link to ``url``, or as text when there is no URL; both escaped."""
    if not url:
        return escape(text)
    return Markup(f'<a href="{escape(url)}">{escape(text)}</a>')


def code_link(url: str, text: str) -> Markup:
    if not url:
        return Markup(f"<code>{escape(text)}</code>")
    return Markup(f'<a href="{escape(url)}"><code>{escape(text)}</code></a>')


def badge(word: str) -> Markup:
    """A status word in a coloured pill; the word itself says it (never colour alone)."""
    kind = escape(word.replace(" ", "-"))
    return Markup(f'<span class="badge badge-{kind}">{escape(word)}</span>')


def when(iso: str) -> str:
    """An ISO time as people read it in a table: ``2026-01-01 06:00`` (the ``datetime``
    attribute keeps the whole value)."""
    return iso[:16].replace("T", " ")


def _pager(count: int, size: int, href: Callable[[int], str], current: int, label: str) -> dict:
    pages = max(1, -(-count // size))
    return {
        "label": label,
        "pages": [
            {"number": n, "href": href(n), "current": n == current} for n in range(1, pages + 1)
        ],  # fmt: skip
    }


def chart_summary(versions: list[str], values: list[float | None]) -> str:
    """What a screen reader hears for a chart: the range of versions and values."""
    points = [(v, x) for v, x in zip(versions, values, strict=True) if x is not None]
    if not points:
        return "No values."
    low = min(points, key=lambda p: p[1])
    high = max(points, key=lambda p: p[1])
    return (
        f"{len(points)} values from {points[0][0]} ({points[0][1]}) to {points[-1][0]} "
        f"({points[-1][1]}); lowest {low[1]} at {low[0]}, highest {high[1]} at {high[0]}."
    )


def write_site(catalog: dict[str, Any], out: Path, common: dict[str, Any]) -> list[Path]:
    """Render every page into ``out``; returns the pages written (relative paths)."""
    out = out.resolve()
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).exists())):
        raise UsageError(
            f"{out} exists and is not a catalog built by gitops (no {MARKER}): "
            "choose an empty or new folder"
        )
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        pages = _render_all(catalog, tmp, common)
        _copy_static(tmp / "static")
        (tmp / MARKER).write_text(json.dumps(catalog["overview"]) + "\n")  # C encoder: no indent
        if out.exists():
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return pages


def _copy_static(dest: Path) -> None:
    def ignore(folder: str, names: list[str]) -> list[str]:
        return [n for n in names if n.endswith(".md") or n == "__pycache__"]

    shutil.copytree(HERE / "static", dest, ignore=ignore)


def _render_all(catalog: dict[str, Any], out: Path, common: dict[str, Any]) -> list[Path]:
    env = _environment()
    overview = catalog["overview"]
    nav = [{"name": e["name"], "slug": e["slug"]} for e in overview["environments"]]
    if len(nav) > NAV_ENVIRONMENTS:
        nav = []  # too many for a header: the overview lists them all
    base = {**common, "nav_environments": nav}
    written: list[Path] = []

    def put(rel: str, template: str, **context: Any) -> None:
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        root = "../" * rel.count("/")
        html = env.get_template(template).render(**base, root=root, **context)
        path.write_text(html, encoding="utf-8")
        written.append(Path(rel))

    models = overview["models"]

    def index_name(n: int) -> str:
        return "index.html" if n == 1 else f"index-{n}.html"

    for start in range(0, max(len(models), 1), MODELS_PER_PAGE):
        number = start // MODELS_PER_PAGE + 1
        pager = _pager(len(models), MODELS_PER_PAGE, index_name, number, "Pages of models")
        put(index_name(number), "overview.html.j2",
            models=models[start : start + MODELS_PER_PAGE], total_models=len(models),
            stages=overview["stages"], environments=overview["environments"],
            conflicts=overview["conflicts"], pager=pager)  # fmt: skip

    for page in catalog["models"].values():
        model = page["model"]
        versions = page["versions"]  # newest first
        charts = page["charts"]
        for s in charts["series"]:
            s["summary"] = chart_summary(charts["versions"], s["values"])
        chart_json = {
            "versions": charts["versions"],
            "series": [
                {
                    "label": f"{s['path']}:{s['metric']}",
                    "direction": s["direction"],
                    "values": s["values"],
                }
                for s in charts["series"]
            ],  # fmt: skip
        }

        def vname(n: int, slug: str = model["slug"]) -> str:
            return f"{slug}.html" if n == 1 else f"{slug}-versions-{n}.html"

        for start in range(0, max(len(versions), 1), PAGE):
            number = start // PAGE + 1
            pager = _pager(len(versions), PAGE, vname, number, "Pages of versions")
            context = {
                "model": model,
                "versions": versions[start : start + PAGE],
                "total_versions": len(versions),
                "pager": pager,
            }
            if number == 1:
                put(f"models/{vname(1)}", "model.html.j2", **context, charts=charts,
                    chart_json=chart_json, timeline=page["timeline"], stories=page["stories"],
                    stories_total=page["stories_total"], events=page["events"],
                    events_total=page["events_total"])  # fmt: skip
            else:
                put(f"models/{vname(number)}", "versions.html.j2", **context, page_number=number,
                    first=start + 1, last=min(start + PAGE, len(versions)))  # fmt: skip

    for page in catalog["environments"].values():
        put(f"environments/{page['summary']['slug']}.html", "environment.html.j2", **page)
    return written
