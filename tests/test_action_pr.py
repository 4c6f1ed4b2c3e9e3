"""Pull/merge requests: the action plans and posts the plan as the sticky comment through the
forge API (the test forge), or, with a read-only token, writes it into the summary."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from cienv import TOKEN, Origin, checkout_like_github, checkout_like_gitlab, run_github, run_gitlab
from forge_fixtures import forge_fixture  # noqa: F401  (the `forge` fixture)
from forge_server import ACTIONS_BOT_LOGIN, ForgeServer

T0 = 1_760_000_000
CONFIG = (
    "state: {forge_records: false}\n"
    "environments:\n"
    f"  prod: {{stage: prod, deploy: {{driver: command, run: [{sys.executable}, -c, 'pass']}}}}\n"
)


@pytest.fixture
def origin(tmp_path: Path) -> Origin:
    o = Origin(tmp_path)
    c1 = o.dev.commit(files={"gitops.yaml": CONFIG}, epoch=T0)
    o.dev.tag("churn@v1.0.0", c1, epoch=T0 + 10)
    o.dev.tag("churn#prod#1", c1, epoch=T0 + 20)
    o.publish()
    return o


def pr_payload(origin: Origin, head_repo: str) -> dict:
    sha = origin.dev.rev()
    return {
        "number": 7,
        "pull_request": {
            "number": 7,
            "title": "Tune churn",
            "head": {"ref": "tune", "sha": sha, "repo": {"full_name": head_repo}},
            "base": {"ref": "main", "sha": sha, "repo": {"full_name": "acme/models"}},
        },
    }


def test_pr_plan_becomes_the_sticky_comment(
    tmp_path: Path, origin: Origin, forge: ForgeServer
) -> None:
    forge.add_user(ACTIONS_BOT_LOGIN, TOKEN, kind="github-app")
    forge.add_repo("acme/models")
    forge.add_pr("acme/models", 7, head_ref="tune")
    ws = checkout_like_github(origin, tmp_path / "ws", None)
    env = {"GITHUB_API_URL": forge.github_url}
    payload = pr_payload(origin, "acme/models")
    for _ in range(2):  # the second run updates the same comment
        run = run_github(tmp_path, ws, "pull_request", payload, "refs/pull/7/merge", extra_env=env)
        assert run.code == 0, run.stdout + run.stderr
    [comment] = forge.comments("acme/models", 7)
    assert comment.body.startswith("<!-- gitops:plan -->")
    assert comment.body.count("Deployment plan") == 1
    assert comment.body.endswith("Not observed (their drivers cannot look): prod.\n")
    assert "| `prod` | `churn` | deploy | _(none)_ | `v1.0.0` |" in comment.body
    assert run.outputs["comment-url"].endswith(f"#issuecomment-{comment.id}")
    assert "comment unchanged" in run.stdout  # same plan: no write at all
    assert TOKEN not in run.everything()


def test_fork_pr_writes_the_plan_to_the_summary_and_passes(
    tmp_path: Path, origin: Origin, forge: ForgeServer
) -> None:
    ws = checkout_like_github(origin, tmp_path / "ws", None)
    env = {"GITHUB_API_URL": forge.github_url}
    payload = pr_payload(origin, "eve/models")
    run = run_github(tmp_path, ws, "pull_request", payload, "refs/pull/7/merge", extra_env=env)
    assert run.code == 0
    assert "::warning::not commenting on pull request #7: the token is read-only" in run.stdout
    assert run.summary.count("## Deployment plan") == 1  # once, not once more for the comment
    assert run.summary.endswith(".\n") and not run.summary.endswith("\n\n")
    assert run.outputs["comment-url"] == ""
    assert forge.requests == []  # nothing was even tried


def test_gitlab_mr_with_the_job_token_falls_back_to_the_summary(
    tmp_path: Path, origin: Origin, forge: ForgeServer
) -> None:
    forge.add_project("acme/models", project_id=42)
    forge.add_mr(42, 5, source_branch="tune")
    forge.add_user("alice", TOKEN, kind="gitlab-job", project="acme/models")
    origin.dev.tag("churn#prod#2", origin.dev.rev(), epoch=T0 + 30)
    origin.publish()
    ws = checkout_like_gitlab(origin, tmp_path / "ws", "churn#prod#2")
    variables = {
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_IID": "5",
        "CI_COMMIT_SHA": origin.dev.rev(),
        "CI_API_V4_URL": forge.gitlab_url,
    }
    run = run_gitlab(tmp_path, ws, variables)
    assert run.code == 0, run.stdout + run.stderr
    assert "CI_JOB_TOKEN cannot write merge request comments" in run.stdout
    assert "GITOPS_TOKEN" in run.stdout
    assert "## Deployment plan" in run.summary
    assert forge.find("POST", r"/notes$") == []


def test_gitlab_job_token_with_a_pasted_marker_gets_the_advice_before_any_request(
    tmp_path: Path, origin: Origin, forge: ForgeServer
) -> None:
    """Anyone can paste our marker into a note: with the job token nothing is even looked up
    (GitLab would answer ``GET /user`` with 401), and the MR is called !5, GitLab's way."""
    forge.add_project("acme/models", project_id=42)
    forge.add_mr(42, 5, source_branch="tune")
    forge.add_user("alice", TOKEN, kind="gitlab-job", project="acme/models")
    forge.add_note(42, 5, "<!-- gitops:plan -->\npasted by someone", author="mallory")
    ws = checkout_like_gitlab(origin, tmp_path / "ws", "churn#prod#1")
    variables = {
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_IID": "5",
        "CI_MERGE_REQUEST_TITLE": "Tune churn",
        "CI_COMMIT_SHA": origin.dev.rev(),
        "CI_API_V4_URL": forge.gitlab_url,
    }
    run = run_gitlab(tmp_path, ws, variables)
    assert run.code == 0, run.stdout + run.stderr
    assert "merge request !5: Tune churn" in run.stdout
    assert "not commenting on merge request !5: GitLab's CI_JOB_TOKEN cannot write" in run.stdout
    assert "GITOPS_TOKEN" in run.stdout
    assert "HTTP 401" not in run.stdout + run.stderr
    assert "#5" not in run.stdout
    assert forge.find(forge="gitlab") == []  # the token kind is checked before any request
    assert run.summary.count("## Deployment plan") == 1
