"""``gitops catalog``: the data it generates for a fixed registry (golden files), the HTML's
safety rules checked statically (every page parsed), links, pagination, the output folder.

The browser checks are in test_catalog_browser.py. ``GITOPS_UPDATE_GOLDEN=1`` rewrites the
golden files (then read the diff before committing it).
"""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from catalog_sample import HOSTILE, HOSTILE_METRIC, make_sample
from gitutil import Repo

from gitops.catalog import data, site
from gitops.catalog.build import build_catalog
from gitops.catalog.gather import gather
from gitops.catalog.links import Links
from gitops.cli import main

GOLDEN = Path(__file__).parent / "golden" / "catalog"
REPO_URL = "https://github.com/acme/models"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'none'; base-uri 'none'; form-action 'none'"
)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sample(tmp_path_factory.mktemp("catalog") / "repo")


@pytest.fixture(scope="module")
def built(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    os.environ["SOURCE_DATE_EPOCH"] = "1767312000"
    try:
        assert main(["catalog", "-r", str(sample), "-o", str(out), "--repo-url", REPO_URL]) == 0
    finally:
        del os.environ["SOURCE_DATE_EPOCH"]
    return out


def _golden(name: str, value: object) -> None:
    path = GOLDEN / name
    text = json.dumps(value, indent=2, sort_keys=True) + "\n"
    if os.environ.get("GITOPS_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert json.loads(text) == json.loads(path.read_text()), f"{name} differs from its golden"


def _chart_json(page: Path) -> dict:
    html = page.read_text()
    found = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', html, re.S)
    assert found is not None
    return json.loads(found.group(1))


# ---------------------------------------------------------------------------------------------
# golden data


def test_overview_data_is_golden(built: Path) -> None:
    overview = json.loads((built / "catalog.json").read_text())
    assert overview["head"]  # a sha: fixed dates and identities make it the same everywhere
    _golden("overview.json", {**overview, "head": "<head>"})


def test_model_chart_data_is_golden(built: Path) -> None:
    chart = _chart_json(built / "models" / "churn.html")
    _golden("churn-charts.json", chart)
    assert chart["versions"] == ["v1.0.0", "v1.1.0", "v1.2.0"]
    by_label = {s["label"]: s for s in chart["series"]}
    assert by_label["metrics.json:eval.accuracy"]["values"] == [0.861, 0.874, 0.889]
    assert by_label["metrics.json:eval.loss"]["direction"] == "lower"
    # a metric with no direction (a count) comes after the ones with one
    assert chart["series"][-1]["label"] == "metrics.json:train.epochs"


def test_model_and_environment_pages_data_is_golden(sample: Path) -> None:
    catalog = data.build(gather(sample, "gitops.yaml", False, 50), Links.make(REPO_URL))
    churn = catalog["models"]["churn"]
    heads = {v["version"]: v["commit"] for v in churn["versions"]}
    text = json.dumps({"churn": churn, "environments": catalog["environments"]}, sort_keys=True)
    for version, sha in heads.items():  # shas differ with git's version? no: but keep readable
        text = text.replace(sha, f"<{version}>")
    value = json.loads(text)
    _golden("pages.json", value)
    staging = catalog["environments"]["staging"]
    assert staging["rollbacks"] == 1
    assert [r["at"] for r in staging["deploys"]] == sorted(
        (r["at"] for r in staging["deploys"]), reverse=True
    )
    prod = {a["artifact"]: a for a in catalog["environments"]["prod"]["plan"]}
    assert prod["retired-model"]["slug"] == ""  # no page: not in the registry any more
    assert prod["churn"]["drift"] and "missing" in prod["churn"]["drift_reason"]
    timeline = churn["timeline"]
    assert [s["version"] for s in timeline["staging"]] == ["v1.0.0", "v1.1.0", "v1.2.0"]
    assert timeline["staging"][-1]["to"] is None and timeline["staging"][0]["to"] is not None


def test_stage_timeline_hands_the_stage_back_on_unassignment(repo: Repo) -> None:
    a = repo.commit(epoch=1_700_000_000)
    b = repo.commit(epoch=1_700_000_100)
    repo.tag("m@v1.0.0", a, epoch=1_700_000_200)
    repo.tag("m@v1.1.0", b, epoch=1_700_000_300)
    repo.tag("m#prod#1", a, epoch=1_700_000_400)
    repo.tag("m#prod#2", b, epoch=1_700_000_500)
    repo.tag("m#prod!#3", b, epoch=1_700_000_600)  # v1.1.0 leaves: v1.0.0 holds prod again
    catalog = data.build(gather(repo.path, "gitops.yaml", False, 50), Links())
    spans = catalog["models"]["m"]["timeline"]["prod"]
    assert [(s["version"], s["to"] is None) for s in spans] == [
        ("v1.0.0", False),
        ("v1.1.0", False),
        ("v1.0.0", True),
    ]
    assert catalog["overview"]["models"][0]["stages"] == {"prod": "v1.0.0"}


# ---------------------------------------------------------------------------------------------
# the HTML, parsed


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.script_bodies: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        (self.script_bodies if self._in_script else self.text).append(data)


def _pages(site_dir: Path) -> list[Path]:
    return sorted(site_dir.rglob("*.html"))


def _parse(page: Path) -> _Page:
    parser = _Page()
    parser.feed(page.read_text())
    return parser


def test_every_page_is_safe_html(built: Path) -> None:
    pages = _pages(built)
    assert {p.relative_to(built).as_posix() for p in pages} == {
        "index.html",
        "models/churn.html",
        "models/fraud.html",
        "models/legacy_scorer-c03472fe.html",
        "environments/staging.html",
        "environments/prod.html",
    }
    for page in pages:
        parsed = _parse(page)
        names = [t for t, _ in parsed.tags]
        for landmark in ("header", "nav", "main", "footer"):
            assert landmark in names, f"{page}: no <{landmark}>"
        assert ("img" not in names) and ("svg" not in names), f"{page}: an element was injected"
        metas = [a for t, a in parsed.tags if t == "meta" and a.get("http-equiv")]
        assert metas and metas[0]["content"] == CSP
        for tag, attrs in parsed.tags:
            handlers = [k for k in attrs if k.startswith("on")]
            assert not handlers, f"{page}: <{tag} {handlers}>"
            for key in ("href", "src"):
                value = attrs.get(key)
                if value is None:
                    continue
                scheme = urlsplit(value).scheme
                assert scheme in ("", "https", "data"), f"{page}: {key}={value!r}"
                if scheme == "https":
                    # links only: the forge's pages, and the run the state store recorded
                    ours = value.startswith((REPO_URL + "/", "https://ci.example/runs/"))
                    assert tag == "a" and ours, value
            if tag == "script":
                assert attrs.get("src") or attrs.get("type") == "application/json"
        # the JSON data block cannot be closed early by a string from the repository
        for body in parsed.script_bodies:
            assert "</" not in body and "<" not in body
            json.loads(body)


def test_hostile_strings_are_shown_as_text(built: Path) -> None:
    churn = _parse(built / "models" / "churn.html")
    text = "".join(churn.text)
    assert HOSTILE in text  # shown, as typed
    assert HOSTILE_METRIC in text
    overview = "".join(_parse(built / "index.html").text)
    assert HOSTILE in overview
    staging = "".join(_parse(built / "environments" / "staging.html").text)
    assert f"health check failed {HOSTILE}" in staging


def test_forge_links_and_untrusted_urls(built: Path) -> None:
    churn = (built / "models" / "churn.html").read_text()
    assert f'href="{REPO_URL}/releases/tag/churn%23prod%234"' in churn
    assert f'href="{REPO_URL}/commit/' in churn
    assert "evil.example" in churn and 'href="https://evil.example' not in churn  # text only
    staging = (built / "environments" / "staging.html").read_text()
    assert 'href="https://ci.example/runs/7"' in staging  # a run URL the store recorded
    assert "javascript:" not in staging


def test_gitlab_links() -> None:
    links = Links.make("https://gitlab.example.com/group/project/")
    assert links.gitlab
    assert links.tag("a#b#1") == "https://gitlab.example.com/group/project/-/tags/a%23b%231"
    assert links.commit("abc") == "https://gitlab.example.com/group/project/-/commit/abc"
    assert links.pr("https://gitlab.example.com/group/project/-/merge_requests/3")
    assert links.pr("https://gitlab.example.com/other/-/merge_requests/3") == ""
    assert Links().tag("x@v1.0.0") == ""  # no URL known: shown as text


def _internal_links(site_dir: Path) -> list[tuple[Path, str]]:
    out = []
    for page in _pages(site_dir):
        for _tag, attrs in _parse(page).tags:
            for key in ("href", "src"):
                value = attrs.get(key)
                if value and not urlsplit(value).scheme:
                    out.append((page, value))
    return out


def _check_links(site_dir: Path) -> int:
    ids_of: dict[Path, set[str]] = {}
    links = _internal_links(site_dir)
    for page, value in links:
        parts = urlsplit(value)
        target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
        assert target.is_file(), f"{page.relative_to(site_dir)}: {value} does not resolve"
        assert site_dir.resolve() in target.parents, f"{value} leaves the site"
        if parts.fragment:
            if target not in ids_of:
                ids_of[target] = {a["id"] for _, a in _parse(target).tags if a.get("id")}
            assert parts.fragment in ids_of[target], f"{value}: no such anchor"
    return len(links)


def test_every_internal_link_resolves(built: Path) -> None:
    assert _check_links(built) > 20


def test_long_lists_are_paged(repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(site, "PAGE", 3)
    monkeypatch.setattr(site, "MODELS_PER_PAGE", 2)
    for i in range(7):
        sha = repo.commit(epoch=1_700_000_000 + i * 100)
        repo.tag(f"big@v1.{i}.0", sha, epoch=1_700_000_000 + i * 100 + 10)
    for name in ("a-model", "b-model"):
        repo.tag(f"{name}@v0.1.0", epoch=1_700_010_000)
    out = tmp_path / "site"
    build_catalog(repo.path, out)
    assert sorted(p.name for p in (out / "models").iterdir()) == [
        "a-model.html",
        "b-model.html",
        "big-versions-2.html",
        "big-versions-3.html",
        "big.html",
    ]
    assert (out / "index-2.html").is_file() and not (out / "index-3.html").exists()

    def listed(page: str) -> list[str]:
        html = (out / "models" / page).read_text()
        table = html[html.index('<table id="versions-table">') :]
        table = table[: table.index("</table>")]
        return re.findall(r'<th scope="row"><code>(v[0-9.]+)</code>', table)

    assert listed("big.html") == ["v1.6.0", "v1.5.0", "v1.4.0"]  # newest first, three a page
    assert listed("big-versions-3.html") == ["v1.0.0"]
    _check_links(out)


# ---------------------------------------------------------------------------------------------
# the command


def test_a_registry_without_gitops_yaml_builds(repo: Repo, tmp_path: Path) -> None:
    repo.tag("solo@v1.0.0", repo.commit())
    out = tmp_path / "site"
    assert main(["catalog", "-r", str(repo.path), "-o", str(out)]) == 0
    overview = json.loads((out / "catalog.json").read_text())
    assert [m["name"] for m in overview["models"]] == ["solo"]
    assert overview["environments"] == []
    assert not (out / "environments").exists()


def test_out_folder_of_something_else_is_refused(
    repo: Repo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.tag("solo@v1.0.0", repo.commit())
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    assert main(["catalog", "-r", str(repo.path), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "not a catalog built by gitops" in err and "Traceback" not in err
    assert (out / "notes.txt").read_text() == "keep me"
    # a catalog is replaced whole: no file of the old build stays behind
    site_dir = tmp_path / "site"
    build_catalog(repo.path, site_dir)
    (site_dir / "models" / "gone.html").write_text("old")
    build_catalog(repo.path, site_dir)
    assert not (site_dir / "models" / "gone.html").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".site")]


def test_bad_repo_url_is_a_usage_error(
    repo: Repo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.tag("solo@v1.0.0", repo.commit())
    argv = [
        "catalog",
        "-r",
        str(repo.path),
        "-o",
        str(tmp_path / "s"),
        "--repo-url",
        "javascript:x",
    ]
    assert main(argv) == 2
    assert "--repo-url must be an http(s) URL" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def test_the_vendored_chart_library_is_the_pinned_one() -> None:
    folder = Path(site.HERE) / "static" / "vendor" / "uplot"
    first = (folder / "uPlot.iife.min.js").read_text().splitlines()[0]
    pinned = re.search(r"version \*\*([0-9.]+)\*\*", (folder / "VENDOR.md").read_text())
    assert pinned is not None and f"(v{pinned.group(1)})" in first
    assert "MIT License" in (folder / "LICENSE").read_text()


def test_in_gitlab_ci_the_links_are_the_projects(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The `pages` job of the README: `gitops catalog --out public`, no --repo-url."""
    repo.tag("solo@v1.0.0", repo.commit())
    monkeypatch.setenv("GITLAB_CI", "true")
    monkeypatch.setenv("CI_SERVER_URL", "https://gitlab.example.com")
    monkeypatch.setenv("CI_PROJECT_PATH", "group/models")
    monkeypatch.setenv("CI_PROJECT_DIR", str(repo.path))
    out = tmp_path / "public"
    assert main(["catalog", "-r", str(repo.path), "-o", str(out)]) == 0
    page = (out / "models" / "solo.html").read_text()
    assert 'href="https://gitlab.example.com/group/models/-/tags/solo%40v1.0.0"' in page
