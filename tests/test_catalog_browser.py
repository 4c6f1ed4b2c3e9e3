"""The catalog in a real headless Chromium (Debian's /usr/bin/chromium, driven over its DevTools
protocol: tests/catalog_cdp.py says why), over the site served by http.server on 127.0.0.1 and
from file://: every page loads with no console error, no CSP refusal and no failed request, and
asks no other host for anything; every internal link resolves; the filter boxes filter; hostile
strings stay text; the charts draw; pages fit a phone's width; dark mode applies.

Without Chromium these tests are skipped, loudly; in CI (``CI=true``) they fail instead: .ci/run
installs it. ``GITOPS_CATALOG_SCREENSHOTS=DIR`` writes the README's screenshots to DIR.
"""

from __future__ import annotations

import functools
import os
import threading
import warnings
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from catalog_cdp import Browser, Page, available
from catalog_sample import HOSTILE, HOSTILE_METRIC, make_sample

from gitops.cli import main

REPO_URL = "https://github.com/acme/models"

if not available():
    message = (
        "CHROMIUM IS NOT INSTALLED: the catalog's browser tests did not run. "
        "Install Debian's chromium (apt-get install -y chromium) to run them."
    )
    if os.environ.get("CI") == "true":
        raise RuntimeError(message + " CI must install it (.ci/run does).")
    warnings.warn(message, stacklevel=1)
    pytest.skip(message, allow_module_level=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = make_sample(tmp_path_factory.mktemp("catalog-browser") / "repo")
    out = tmp_path_factory.mktemp("site") / "site"
    assert main(["catalog", "-r", str(repo), "-o", str(out), "--repo-url", REPO_URL]) == 0
    return out


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
        pass


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(site))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    b = Browser()
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    p = browser.page()
    try:
        yield p
    finally:
        p.close()


def _pages(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))


@pytest.fixture(params=["http", "file"])
def base(request: pytest.FixtureRequest, site: Path) -> str:
    if request.param == "http":
        return request.getfixturevalue("server")
    return site.resolve().as_uri() + "/"


def test_every_page_loads_cleanly_and_every_link_resolves(
    base: str, site: Path, page: Page
) -> None:
    files = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
    pages = _pages(site)
    assert len(pages) == 6
    origin = urlsplit(base)
    checked = 0
    for rel in pages:
        page.problems.clear()
        page.requests.clear()
        page.goto(base + rel)
        assert page.problems == [], f"{rel}: {page.problems}"
        for url in page.requests:  # nothing from any other host
            parts = urlsplit(url)
            same = (parts.scheme, parts.netloc) == (origin.scheme, origin.netloc)
            assert same or parts.scheme == "data", f"{rel} asked for {url}"
        ids = set(page.js("Array.from(document.querySelectorAll('[id]')).map(e => e.id)"))
        for href in page.js("Array.from(document.links).map(a => a.href)"):
            parts = urlsplit(href)
            if (parts.scheme, parts.netloc) != (origin.scheme, origin.netloc):
                assert href.startswith(REPO_URL + "/") or href.startswith("https://ci.example/")
                continue
            path = parts.path[len(origin.path) :]
            assert path in files, f"{rel}: link to {href} does not resolve"
            if parts.fragment and path == rel:
                assert parts.fragment in ids, f"{rel}: no anchor #{parts.fragment}"
            checked += 1
    assert checked > 20


def test_the_checks_see_a_script_the_policy_refuses(tmp_path: Path, page: Page) -> None:
    """The harness can fail: an inline script and handler are refused and reported."""
    bad = tmp_path / "bad.html"
    csp = "default-src 'none'; script-src 'self'"
    bad.write_text(
        f'<!doctype html><meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<script>window.ran = 1</script><img src="data:," onerror="window.ran = 2">'
        '<script src="missing.js"></script>'
    )
    page.goto(bad.as_uri())
    assert page.js("window.ran === undefined")
    assert any("Content Security Policy" in p for p in page.problems), page.problems
    assert any("failed request" in p for p in page.problems), page.problems


def _filter(page: Page, box: str, text: str) -> tuple[int, str]:
    page.js(
        f"(() => {{ const i = document.getElementById({box!r}); i.value = {text!r};"
        " i.dispatchEvent(new Event('input', {bubbles: true})); })()"
    )
    table = page.js(f"document.getElementById({box!r}).getAttribute('data-filter')")
    shown = page.js(
        f"Array.from(document.getElementById({table!r}).tBodies[0].rows)"
        ".filter(r => !r.hidden && r.offsetParent !== null).length"
    )
    status = page.js(f"document.getElementById({box + '-count'!r}).textContent")
    return shown, status


def test_the_filter_boxes_filter(server: str, page: Page) -> None:
    page.goto(server + "index.html")
    assert _filter(page, "filter-models", "") == (3, "")
    assert _filter(page, "filter-models", "FRAUD") == (1, "1 of 3 shown")
    assert page.js(
        "Array.from(document.querySelectorAll('#models-table tbody tr'))"
        ".filter(r => !r.hidden).map(r => r.querySelector('th a').textContent)"
    ) == ["fraud"]
    assert _filter(page, "filter-models", "tabular v1.2") == (1, "1 of 3 shown")  # every word
    assert _filter(page, "filter-models", "no such model") == (0, "0 of 3 shown")
    assert _filter(page, "filter-models", " ") == (3, "")
    page.goto(server + "models/churn.html")
    assert _filter(page, "filter-versions", "v1.1") == (1, "1 of 4 shown")  # + HEAD's commit
    assert _filter(page, "filter-versions", "staging") == (1, "1 of 4 shown")


@pytest.mark.parametrize("rel", ["index.html", "models/churn.html", "environments/staging.html"])
def test_hostile_strings_stay_text(server: str, page: Page, rel: str) -> None:
    page.goto(server + rel)
    assert page.problems == []
    assert page.js("window.__pwned === undefined")
    assert page.js("document.title") != "pwned"
    assert page.js("document.querySelectorAll('img, svg, iframe, object').length") == 0
    assert page.js("document.querySelectorAll('script').length") == (
        3 if rel.startswith("models/") else 1
    )
    text = page.js("document.body.textContent")
    assert HOSTILE in text
    if rel.startswith("models/"):
        assert HOSTILE_METRIC in text


def test_the_charts_draw(server: str, page: Page) -> None:
    page.goto(server + "models/churn.html")
    assert page.problems == []
    charts = page.js("document.querySelectorAll('.chart[data-chart]').length")
    assert charts == 5
    painted = page.js(
        """Array.from(document.querySelectorAll('.chart canvas')).map(c => {
             const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
             let n = 0;
             for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
             return n;
           })"""
    )
    assert len(painted) == charts
    assert all(n > 500 for n in painted), painted  # axes, grid, the line and its points
    # each chart is an image with a name and a description for screen readers
    labels = page.js(
        """Array.from(document.querySelectorAll('.chart')).map(c => [
             c.getAttribute('role'),
             document.getElementById(c.getAttribute('aria-labelledby')).textContent,
             document.getElementById(c.getAttribute('aria-describedby')).textContent])"""
    )
    assert labels[0][0] == "img"
    assert "eval.accuracy" in labels[0][1]
    assert labels[0][2].startswith("3 values from v1.0.0 (0.861) to v1.2.0 (0.889)")


def test_pages_fit_a_phone_and_follow_dark_mode(server: str, site: Path, browser: Browser) -> None:
    phone = browser.page(width=375, height=800)
    dark = browser.page(dark=True)
    try:
        for rel in _pages(site):
            phone.goto(server + rel)
            assert phone.problems == []
            width = phone.js("document.documentElement.scrollWidth")
            assert width <= 375, f"{rel} is {width}px wide on a 375px phone"
        phone.goto(server + "index.html")
        light_bg = phone.js("getComputedStyle(document.body).backgroundColor")
        dark.goto(server + "index.html")
        assert dark.problems == []
        assert light_bg == "rgb(255, 255, 255)"
        assert dark.js("getComputedStyle(document.body).backgroundColor") == "rgb(13, 17, 23)"
        dark.goto(server + "models/churn.html")
        assert dark.js("document.querySelectorAll('.chart canvas').length") == 5
    finally:
        phone.close()
        dark.close()


def test_screenshots(server: str, browser: Browser, tmp_path: Path) -> None:
    """The README's pictures (``GITOPS_CATALOG_SCREENSHOTS=docs``); else a PNG is made."""
    folder = Path(os.environ.get("GITOPS_CATALOG_SCREENSHOTS") or tmp_path)
    shot = browser.page(width=1100, height=900)
    try:
        for rel, name in (("index.html", "catalog-overview.png"),
                          ("models/churn.html", "catalog-model.png")):  # fmt: skip
            shot.goto(server + rel)
            shot.screenshot(folder / name, full_page=rel == "index.html")
            assert (folder / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        shot.close()


CONTRAST = """(() => {
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = c => {
    const [r, g, b] = c.slice(0, 3).map(v => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = e => {
    for (; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || c[3] > 0) return c;
    }
    return [255, 255, 255];
  };
  const worst = {};
  for (const e of document.querySelectorAll(
      'body, h1, h2, th, td, a, code, .lead, .desc, .small, .badge, .filter-count, footer p')) {
    if (!e.textContent.trim() || e.offsetParent === null) continue;
    const [l1, l2] = [lum(rgb(getComputedStyle(e).color)), lum(background(e))];
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const key = e.tagName + (e.className ? '.' + e.className.split(' ')[0] : '');
    worst[key] = Math.min(worst[key] || 99, ratio);
  }
  return worst;
})()"""


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_text_contrast_is_wcag_aa(server: str, site: Path, browser: Browser, dark: bool) -> None:
    """Every kind of text on every page, against its real background: at least 4.5:1."""
    tab = browser.page(dark=dark)
    try:
        for rel in _pages(site):
            tab.goto(server + rel)
            ratios = tab.js(CONTRAST)
            assert ratios, rel
            low = {k: round(v, 2) for k, v in ratios.items() if v < 4.5}
            assert not low, f"{rel}: {low}"
    finally:
        tab.close()
