"""The action's ``command: catalog`` as the runners run it: a tag-less depth-1 checkout (GitHub)
or a one-tag clone (GitLab), the registry completed from origin, the site built into
``.gitops/catalog`` and named by the output ``catalog``, links to the run's repository."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cienv import Origin, checkout_like_github, checkout_like_gitlab, run_github, run_gitlab

T0 = 1_760_000_000


@pytest.fixture
def origin(tmp_path: Path) -> Origin:
    o = Origin(tmp_path)
    d = o.dev
    c1 = d.commit(files={"metrics.json": '{"acc": 0.8}'}, epoch=T0)
    d.tag("churn@v1.0.0", c1, epoch=T0 + 10)
    c2 = d.commit(files={"metrics.json": '{"acc": 0.9}'}, epoch=T0 + 100)
    d.tag("churn@v1.1.0", c2, epoch=T0 + 110)
    d.tag("churn#prod#1", c2, epoch=T0 + 200)
    o.publish()
    return o


def test_github_builds_the_site_and_names_its_folder(tmp_path: Path, origin: Origin) -> None:
    ws = checkout_like_github(origin, tmp_path / "ws", None)
    payload = {"schedule": "17 5 * * *"}
    run = run_github(tmp_path, ws, "schedule", payload, "refs/heads/main",
                     origin.dev.rev(), {"command": "catalog"})  # fmt: skip
    assert run.code == 0, run.stderr
    assert run.outputs["catalog"] == ".gitops/catalog"
    assert run.outputs["error"] == ""
    site = ws / ".gitops" / "catalog"
    overview = json.loads((site / "catalog.json").read_text())
    # the checkout had no tag: every one was fetched from origin first
    assert [(m["name"], m["stages"]) for m in overview["models"]] == [("churn", {"prod": "v1.1.0"})]
    assert overview["repo_url"] == "https://github.com/acme/models"
    page = (site / "models" / "churn.html").read_text()
    assert 'href="https://github.com/acme/models/releases/tag/churn%23prod%231"' in page
    assert (site / "static" / "vendor" / "uplot" / "uPlot.iife.min.js").is_file()


def test_gitlab_links_to_the_project(tmp_path: Path, origin: Origin) -> None:
    ws = checkout_like_gitlab(origin, tmp_path / "ws", "churn#prod#1")
    sha = origin.dev.rev("churn#prod#1")
    variables = {"CI_PIPELINE_SOURCE": "schedule", "CI_COMMIT_SHA": sha,
                 "CI_COMMIT_REF_NAME": "main", "CI_COMMIT_BRANCH": "main",
                 "CI_DEFAULT_BRANCH": "main"}  # fmt: skip
    run = run_gitlab(tmp_path, ws, variables, {"command": "catalog"})
    assert run.code == 0, run.stderr
    assert run.outputs["GITOPS_CATALOG"] == ".gitops/catalog"
    page = (ws / ".gitops" / "catalog" / "models" / "churn.html").read_text()
    assert 'href="https://gitlab.example.com/acme/models/-/tags/churn%23prod%231"' in page
    assert 'href="https://gitlab.example.com/acme/models/-/commit/' in page


def test_the_pages_workflow_has_the_minimal_grants_and_triggers() -> None:
    import yaml

    root = Path(__file__).resolve().parent.parent
    doc = yaml.safe_load((root / "workflows" / "catalog-pages.yml").read_text())
    triggers = doc[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["push"] == {"tags": ["**"]} and triggers["schedule"]
    assert doc["permissions"] == {"contents": "read"}
    build, deploy = doc["jobs"]["build"], doc["jobs"]["deploy"]
    assert build["permissions"] == {"contents": "read"}
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    [gitops] = [s for s in build["steps"] if s.get("id") == "gitops"]
    assert gitops["with"] == {"command": "catalog"}
    [upload] = [s for s in build["steps"] if "upload-pages-artifact" in s.get("uses", "")]
    assert upload["with"]["path"] == "${{ steps.gitops.outputs.catalog }}"
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/deploy-pages"]
