"""``gitops audit``: one story per stage change, joined from a real repository's tags, its
promotion request files (a merge commit brings one in) and the state store's deploy records."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from gitutil import Repo, git

from gitops.config import load_config
from gitops.deploy.apply import RunInfo, apply
from gitops.deploy.store import FileStore
from gitops.promote import audit
from gitops.promote.request import PromotionRequest
from gitops.registry.reader import load_registry

T = 1_767_225_600  # 2026-01-01
PR_URL = "https://github.com/acme/models/pull/12"


def config(deployments: Path) -> str:
    check = json.dumps(
        [sys.executable, "-c", "import os,sys; sys.exit('bad' in os.environ['GITOPS_VERSION'])"]
    )
    local = f"{{driver: local, dir: {json.dumps(str(deployments))}}}"
    return (
        "environments:\n"
        f"  prod: {{stage: prod, deploy: {local}, health: {{command: {check}, retries: 0}},"
        " on_failure: rollback}\n"
    )


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """churn v1.0.0 in prod by hand; v1.1.0 promoted through a merged request; v1.2.0-bad
    pushed by hand, deployed, unhealthy, rolled back."""
    r = Repo(tmp_path / "r")
    files = {
        "gitops.yaml": config(tmp_path / "deploy"),
        ".gitignore": ".gitops/state/\n",
        "artifacts.yaml": "churn:\n  type: model\n  path: model.pkl\n",
        "model.pkl": "1",
    }
    r.commit(files=files, epoch=T)
    r.tag("churn@v1.0.0", epoch=T + 10)
    r.tag("churn#prod#1", epoch=T + 20, tagger=("Ops", "ops@example.com"))
    _deploy(r, "first sync")
    v11 = r.commit(files={"model.pkl": "2"}, epoch=T + 100)
    r.tag("churn@v1.1.0", epoch=T + 110)
    request = PromotionRequest("churn", "v1.1.0", "prod", v11, "alice", "better recall",
                               "2026-01-01T00:02:00Z")  # fmt: skip
    git(r.path, "checkout", "-q", "-b", "gitops/promote/prod/churn")
    r.commit(files={request.path: request.to_yaml()}, epoch=T + 120, author=("alice", "a@x"))
    git(r.path, "checkout", "-q", "main")
    when = f"{T + 130} +0000"
    env = {"GIT_COMMITTER_NAME": "Bob Merger", "GIT_COMMITTER_EMAIL": "bob@x",
           "GIT_AUTHOR_NAME": "Bob Merger", "GIT_AUTHOR_EMAIL": "bob@x",
           "GIT_COMMITTER_DATE": when, "GIT_AUTHOR_DATE": when}  # fmt: skip
    git(
        r.path,
        "merge",
        "-q",
        "--no-ff",
        "-m",
        "Merge pull request #12",
        "gitops/promote/prod/churn",
        env=env,
    )
    r.tag("churn#prod#2", ref=v11, epoch=T + 140, tagger=("Bob Merger", "bob@x"),
          message=f"Promote churn v1.1.0 to prod\n\nPR: {PR_URL}")  # fmt: skip
    _deploy(r, "tag churn#prod#2")
    bad = r.commit(files={"model.pkl": "3"}, epoch=T + 200)
    r.tag("churn@v1.2.0-bad", epoch=T + 210)
    r.tag("churn#prod#3", ref=bad, epoch=T + 220, tagger=("Mallory", "m@x"))
    _deploy(r, "tag churn#prod#3")
    return r


def _deploy(r: Repo, why: str) -> None:
    cfg = load_config(r.path)
    assert cfg is not None
    apply(load_registry(r.path), cfg, FileStore(r.path / ".gitops" / "state"),
          RunInfo(actor="ci", why=why, run_url="https://ci/run/1"), log=lambda _: None)  # fmt: skip


def test_each_stage_change_tells_who_asked_merged_tagged_and_what_ran(repo: Repo) -> None:
    argv = [sys.executable, "-m", "gitops", "audit", "churn", "--json", "-r", str(repo.path)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    stories = {s["tag"]: s for s in json.loads(done.stdout)}
    assert list(stories) == ["churn#prod#3", "churn#prod#2", "churn#prod#1"]  # newest first
    promoted = stories["churn#prod#2"]
    assert (promoted["requested_by"], promoted["reason"]) == ("alice", "better recall")
    assert promoted["merged_by"] == "Bob Merger" and promoted["tagged_by"] == "Bob Merger"
    assert promoted["pr_url"] == PR_URL
    assert [(d["environment"], d["status"]) for d in promoted["deploys"]] == [("prod", "deployed")]
    bad = stories["churn#prod#3"]
    assert bad["tagged_by"] == "Mallory" and bad["requested_by"] == "" and bad["merged_by"] == ""
    assert [d["status"] for d in bad["deploys"]] == ["rolled-back"] and bad["rolled_back"]
    first = stories["churn#prod#1"]
    assert [d["status"] for d in first["deploys"]] == ["deployed"]


def test_the_text_and_the_markdown_say_the_same(repo: Repo) -> None:
    from test_report_render import check_markdown

    changes = audit.stories(load_registry(repo.path), load_config(repo.path),
                            FileStore(repo.path / ".gitops" / "state").read(["prod"])[0],
                            audit.request_history(repo.path))  # fmt: skip
    text = audit.table(changes)
    assert "requested by alice" in text and "merged by Bob Merger (" + PR_URL + ")" in text
    assert "prod: rolled-back" in text
    md = audit.markdown(changes, "https://github.com/acme/models")
    check_markdown(md)
    assert f"[PR]({PR_URL})" in md
    assert f"`{PR_URL}`" in audit.markdown(changes)  # not the repository's: text, no link


def test_a_hostile_request_stays_text(tmp_path: Path) -> None:
    r = Repo(tmp_path / "r")
    sha = r.commit(files={"m": "1"})
    r.tag("churn@v1.0.0")
    reason = "| broken | `row`\n::error::x"
    req = PromotionRequest("churn", "v1.0.0", "prod", sha, "@team <b>x</b>", reason,
                           "2026-01-01T00:00:00Z")  # fmt: skip
    r.commit(files={req.path: req.to_yaml()})
    r.tag(
        "churn#prod#1", ref=sha, message="see javascript:alert(1) and https://ok.example/pull/1)x"
    )
    changes = audit.stories(load_registry(r.path), None, None, audit.request_history(r.path))
    [c] = changes
    assert c.requested_by == "@team <b>x</b>" and c.pr_url == "https://ok.example/pull/1"
    from test_report_render import check_markdown

    check_markdown(audit.markdown(changes))
    assert "\n::error" not in audit.table(changes)
