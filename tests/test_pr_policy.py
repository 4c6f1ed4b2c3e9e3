"""A promotion PR/MR shows the policy verdict before anyone merges: a commit status
`gitops/policy` on its head and a section of the sticky comment naming each broken rule and
how to meet it. An approval (GitHub's pull_request_review event) or a label re-checks it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cienv import TOKEN, Origin, Run, run_github, run_gitlab
from forge_fixtures import forge_fixture  # noqa: F401  (the `forge` fixture)
from forge_server import ACTIONS_BOT_LOGIN, ForgeServer
from gitutil import git

from gitops.promote.request import PromotionRequest, branch_name, request_path

T0 = 1_760_000_000
PATH = request_path("prod", "churn")
BRANCH = branch_name("prod", "churn")
GL_TOKEN = "glpat-bot0123456789abcd"
FREEZE = "    freeze: [{from: 2026-12-20, to: 2026-12-27, tz: Europe/Berlin, reason: holidays}]\n"


def registry(
    tmp: Path, policy: str, reason: str = "auc up", extra: str = "", auc: str = "0.9"
) -> tuple[Origin, str, str]:
    """churn v1.1.0 (metrics.json auc ``auc``) asked into prod on the branch of its promotion
    PR: (origin, base, head). ``extra``: more of gitops.yaml."""
    o = Origin(tmp)
    local = f"{{driver: local, dir: {json.dumps(str(tmp / 'deployed'))}}}"
    config = (
        "state: {forge_records: false}\n"
        "environments:\n"
        f"  prod: {{stage: prod, deploy: {local}, allow_unknown_stage: true}}\n"
        f"policies:\n  prod:\n{policy}{extra}"
    )
    c1 = o.dev.commit(files={"gitops.yaml": config, "model.pkl": "w1",
                             "metrics.json": '{"auc": 0.8}'}, epoch=T0)  # fmt: skip
    o.dev.tag("churn@v1.0.0", c1, epoch=T0 + 10)
    c2 = o.dev.commit(files={"model.pkl": "w2", "metrics.json": f'{{"auc": {auc}}}'},
                      epoch=T0 + 100)  # fmt: skip
    o.dev.tag("churn@v1.1.0", c2, epoch=T0 + 110)
    o.publish()
    request = PromotionRequest("churn", "v1.1.0", "prod", c2, "alice", reason,
                               "2026-12-05T09:00:00Z")  # fmt: skip
    git(o.dev.path, "checkout", "-q", "-b", BRANCH)
    head = o.dev.commit(files={PATH: request.to_yaml()}, epoch=T0 + 200)
    git(o.dev.path, "push", "-q", "origin", BRANCH)
    git(o.dev.path, "checkout", "-q", "main")
    return o, c2, head


def checkout_pr(o: Origin, dest: Path, head: str) -> Path:
    """The PR's head checked out at depth 1, as CI has it (the action deepens what it needs)."""
    dest.mkdir(parents=True)
    git(dest, "init", "-q")
    git(dest, "remote", "add", "origin", str(o.bare))
    git(dest, "fetch", "-q", "--no-tags", "--depth=1", "origin", f"+{BRANCH}:refs/remotes/pr")
    git(dest, "checkout", "-q", "--detach", head)
    return dest


def github_pr(forge: ForgeServer, base: str, head: str) -> None:
    forge.add_user(ACTIONS_BOT_LOGIN, TOKEN, kind="github-app")
    forge.add_user("alice", "ghp_alice0123456789", kind="github")
    forge.add_user("carol", "ghp_carol0123456789", kind="github")
    forge.add_repo("acme/models", head_sha=base)
    forge.add_pr("acme/models", 7, head_ref=BRANCH, head_sha=head, author="alice",
                 title="Promote churn v1.1.0 to prod")  # fmt: skip


def run_pr(tmp: Path, o: Origin, forge: ForgeServer, base: str, head: str,
           event: str = "pull_request", now: str = "") -> Run:  # fmt: skip
    payload = {
        "number": 7,
        "pull_request": {
            "number": 7,
            "title": "Promote churn v1.1.0 to prod",
            "head": {"ref": BRANCH, "sha": head, "repo": {"full_name": "acme/models"}},
            "base": {"ref": "main", "sha": base, "repo": {"full_name": "acme/models"}},
        },
        "repository": {"full_name": "acme/models", "default_branch": "main"},
    }
    env = {"GITHUB_API_URL": forge.github_url} | ({"GITOPS_NOW": now} if now else {})
    tmp.mkdir(parents=True, exist_ok=True)
    ws = checkout_pr(o, tmp / "ws", head)
    return run_github(tmp, ws, event, payload, "refs/pull/7/merge", head, extra_env=env)


def status(forge: ForgeServer, sha: str) -> tuple[str, str]:
    [found] = [s for s in forge.repo("acme/models").statuses.get(sha, [])
               if s.context == "gitops/policy"][-1:]  # fmt: skip
    return found.state, found.description


def test_approvals_missing_then_given(tmp_path: Path, forge: ForgeServer) -> None:
    o, base, head = registry(tmp_path, "    approvals: 1\n    actors: [bob]\n")
    github_pr(forge, base, head)
    run = run_pr(tmp_path / "one", o, forge, base, head)
    assert run.code == 0, run.stdout + run.stderr  # the status says no; the job is not broken
    assert status(forge, head) == ("failure", "policy not met: approvals")
    [comment] = forge.comments("acme/models", 7)
    assert "## Policy" in comment.body and "**approvals**" in comment.body
    assert "the promotion PR has 0 approvals of 1" in comment.body
    assert "Checked at the merge: merged by one of `bob`" in comment.body
    forge.add_review("acme/models", 7, "carol")
    again = run_pr(tmp_path / "two", o, forge, base, head, event="pull_request_review")
    assert again.code == 0, again.stdout + again.stderr
    assert status(forge, head)[0] == "success"
    [updated] = forge.comments("acme/models", 7)
    assert updated.id == comment.id and "Policy: allowed" in updated.body  # updated in place
    assert TOKEN not in run.everything() + again.everything()


@pytest.mark.parametrize("label", [None, "hotfix"])
def test_a_freeze_fails_the_status_unless_the_override_label_is_on(
    tmp_path: Path, forge: ForgeServer, label: str | None
) -> None:
    o, base, head = registry(tmp_path, FREEZE + "    override_label: hotfix\n")
    github_pr(forge, base, head)
    if label:
        forge.label_pr("acme/models", 7, label)
    run = run_pr(tmp_path / "r", o, forge, base, head, now="2026-12-24T10:00:00+01:00")
    assert run.code == 0, run.stdout + run.stderr
    [comment] = forge.comments("acme/models", 7)
    if label is None:
        assert status(forge, head) == ("failure", "policy not met: freeze")
        assert "prod is frozen now" in comment.body and "hotfix" in comment.body
    else:
        assert status(forge, head)[0] == "success"
        assert "lifted by label" in comment.body  # the lift is said, and recorded at the merge


def test_order_not_met_names_the_stage_to_go_through_first(
    tmp_path: Path, forge: ForgeServer
) -> None:
    o, base, head = registry(tmp_path, "    after: [staging]\n")
    github_pr(forge, base, head)
    run = run_pr(tmp_path / "r", o, forge, base, head)
    assert run.code == 0, run.stdout + run.stderr
    assert status(forge, head) == ("failure", "policy not met: order")
    [comment] = forge.comments("acme/models", 7)
    assert "**order**" in comment.body and "staging" in comment.body


def test_hostile_request_strings_are_escaped(tmp_path: Path, forge: ForgeServer) -> None:
    o, base, head = registry(tmp_path, "    approvals: 1\n",
                             reason="<img src=x onerror=alert(1)> @everyone")  # fmt: skip
    github_pr(forge, base, head)
    run = run_pr(tmp_path / "r", o, forge, base, head)
    assert run.code == 0, run.stdout + run.stderr
    [comment] = forge.comments("acme/models", 7)
    assert "<img" not in comment.body.replace("\\<img", "")


def test_a_pr_without_promotion_requests_gets_no_policy_status(
    tmp_path: Path, forge: ForgeServer
) -> None:
    o, base, _ = registry(tmp_path, "    approvals: 1\n")
    git(o.dev.path, "checkout", "-q", "-b", "tune")
    head = o.dev.commit(files={"notes.txt": "x"}, epoch=T0 + 300)
    git(o.dev.path, "push", "-q", "origin", "tune")
    forge.add_user(ACTIONS_BOT_LOGIN, TOKEN, kind="github-app")
    forge.add_repo("acme/models", head_sha=base)
    forge.add_pr("acme/models", 7, head_ref="tune", head_sha=head)
    ws = tmp_path / "ws"
    ws.mkdir()
    git(ws, "init", "-q")
    git(ws, "remote", "add", "origin", str(o.bare))
    git(ws, "fetch", "-q", "--no-tags", "--depth=1", "origin", "+tune:refs/remotes/pr")
    git(ws, "checkout", "-q", "--detach", head)
    payload = {"number": 7, "pull_request": {
        "number": 7, "title": "Tune", "head": {"ref": "tune", "sha": head,
                                              "repo": {"full_name": "acme/models"}},
        "base": {"ref": "main", "sha": base, "repo": {"full_name": "acme/models"}}}}  # fmt: skip
    run = run_github(tmp_path, ws, "pull_request", payload, "refs/pull/7/merge", head,
                     extra_env={"GITHUB_API_URL": forge.github_url})  # fmt: skip
    assert run.code == 0, run.stdout + run.stderr
    assert forge.repo("acme/models").statuses.get(head, []) == []
    assert "Promotion policy" not in run.stdout


def test_gitlab_mr_gets_the_policy_status_and_note(tmp_path: Path, forge: ForgeServer) -> None:
    o, base, head = registry(tmp_path, "    approvals: 1\n")
    forge.add_user("gitops-bot", GL_TOKEN, kind="gitlab-project")
    forge.add_user("carol", "glpat-carol012345678", kind="gitlab")
    forge.add_project("acme/models", project_id=42, head_sha=base)
    forge.add_mr("acme/models", 7, source_branch=BRANCH, head_sha=head,
                 title="Promote churn v1.1.0 to prod")  # fmt: skip
    server = tmp_path / "srv"  # the project's URL as the runner's clone URL: a path here
    (server / "acme").mkdir(parents=True)
    (server / "acme" / "models.git").symlink_to(o.bare)
    variables = {
        "CI_SERVER_URL": f"file://{server}",
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_IID": "7",
        "CI_MERGE_REQUEST_TITLE": "Promote churn v1.1.0 to prod",
        "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": BRANCH,
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
        "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA": head,
        "CI_MERGE_REQUEST_DIFF_BASE_SHA": base,
        "CI_COMMIT_SHA": head,
        "CI_API_V4_URL": forge.gitlab_url,
        "GITOPS_TOKEN": GL_TOKEN,
    }
    run = run_gitlab(tmp_path, checkout_pr(o, tmp_path / "ws", head), variables)
    assert run.code == 0, run.stdout + run.stderr
    [note] = forge.notes("acme/models", 7)
    assert "**approvals**" in note.body

    def policy_status() -> str:
        found = [x for x in forge.project("acme/models").statuses if x.name == "gitops/policy"]
        return found[-1].status

    assert policy_status() == "failed"
    forge.approve_mr("acme/models", 7, "carol")
    (tmp_path / "again").mkdir()
    again = run_gitlab(tmp_path / "again", checkout_pr(o, tmp_path / "ws2", head), variables)
    assert again.code == 0, again.stdout
    [note] = forge.notes("acme/models", 7)
    assert "Policy: allowed" in note.body
    assert policy_status() == "success"
    assert GL_TOKEN not in run.everything()


@pytest.mark.parametrize("auc", ["0.9", "0.5"])
def test_the_metric_gates_of_the_candidate(tmp_path: Path, forge: ForgeServer, auc: str) -> None:
    gates = "reports:\n  gates:\n    auc: {min: 0.7}\n"
    o, base, head = registry(tmp_path, "    gates: true\n", extra=gates, auc=auc)
    github_pr(forge, base, head)
    run = run_pr(tmp_path / "r", o, forge, base, head)
    assert run.code == 0, run.stdout + run.stderr
    [comment] = forge.comments("acme/models", 7)
    if auc == "0.9":
        assert status(forge, head)[0] == "success"
        assert "Policy: allowed" in comment.body
    else:
        assert status(forge, head) == ("failure", "policy not met: gates")
        assert "**gates**" in comment.body and "auc" in comment.body
