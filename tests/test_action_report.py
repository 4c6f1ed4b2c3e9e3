"""Metric reports in full CI runs on real repositories against the test forge: a PR gets one
sticky comment with the report and the plan, a new commit updates it, a broken gate fails the
status and the job, a stage move's summary compares with what the stage held before and draws
the stage's history."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from cienv import TOKEN, Origin, run_github, run_gitlab
from forge_fixtures import forge_fixture  # noqa: F401  (the `forge` fixture)
from forge_server import ACTIONS_BOT_LOGIN, ForgeServer
from gitutil import git

T0 = 1_760_000_000
CONFIG = (
    "state: {forge_records: false, store: file}\n"
    "environments:\n"
    f"  prod: {{stage: prod, deploy: {{driver: command, run: [{sys.executable}, -c, 'pass']}}}}\n"
    "reports:\n"
    "  gates:\n"
    "    acc: {min: 0.75, max_drop: 0.02}\n"
)
ANNOTATIONS = "churn:\n  type: model\n  path: models/churn.pkl\n"


def metrics(acc: float, loss: float) -> str:
    return json.dumps({"acc": acc, "loss": loss, "train": {"epochs": 10}})


@pytest.fixture
def origin(tmp_path: Path) -> Origin:
    """main: churn v1.0.0 in prod (acc 0.8); branch tune: a better model (acc 0.85)."""
    o = Origin(tmp_path)
    files = {"gitops.yaml": CONFIG, "artifacts.yaml": ANNOTATIONS, "models/churn.pkl": "m1",
             "metrics.json": metrics(0.8, 0.3), "params.yaml": "lr: 0.1\n"}  # fmt: skip
    c1 = o.dev.commit(files=files, epoch=T0)
    o.dev.tag("churn@v1.0.0", c1, epoch=T0 + 10)
    o.dev.tag("churn#prod#1", c1, epoch=T0 + 20)
    git(o.dev.path, "checkout", "-q", "-b", "tune")
    o.dev.commit(files={"models/churn.pkl": "m2", "metrics.json": metrics(0.85, 0.25),
                        "params.yaml": "lr: 0.05\n"}, epoch=T0 + 30)  # fmt: skip
    git(o.dev.path, "checkout", "-q", "main")
    o.dev.commit(files={"README.md": "main moved on\n"}, epoch=T0 + 40)  # not the merge base
    git(o.dev.path, "push", "-q", "--force", "origin", "main", "tune", "--tags")
    return o


def checkout_pr_merge(origin: Origin, dest: Path) -> tuple[Path, str]:
    """actions/checkout of a PR: GitHub's merge commit (refs/pull/7/merge) at depth 1, so the
    PR's head commit is not in the clone; returns the workspace and the merge commit."""
    dev = origin.dev.path
    git(dev, "checkout", "-q", "--detach", "main")
    git(dev, "merge", "-q", "--no-ff", "-m", "Merge tune into main", "tune")
    merge = git(dev, "rev-parse", "HEAD")
    git(dev, "push", "-q", "--force", "origin", "HEAD:refs/pull/7/merge")
    git(dev, "checkout", "-q", "main")
    dest.mkdir(parents=True)
    git(dest, "init", "-q")
    git(dest, "remote", "add", "origin", str(origin.bare))
    git(
        dest,
        "fetch",
        "-q",
        "--no-tags",
        "--depth=1",
        "origin",
        "+refs/pull/7/merge:refs/remotes/pull/7/merge",
    )
    git(dest, "checkout", "-q", "--detach", "refs/remotes/pull/7/merge")
    assert git(dest, "cat-file", "-t", git(dev, "rev-parse", "tune"), check=False) == ""
    return dest, merge


def pr_payload(origin: Origin) -> dict:
    head = git(origin.dev.path, "rev-parse", "tune")
    base = git(origin.dev.path, "rev-parse", "main")
    return {
        "number": 7,
        "pull_request": {
            "number": 7,
            "title": "Tune churn @team <b>bold</b>",
            "head": {"ref": "tune", "sha": head, "repo": {"full_name": "acme/models"}},
            "base": {"ref": "main", "sha": base, "repo": {"full_name": "acme/models"}},
        },
    }


def github_forge(forge: ForgeServer, origin: Origin) -> None:
    forge.add_user(ACTIONS_BOT_LOGIN, TOKEN, kind="github-app")
    forge.add_repo("acme/models")
    forge.add_pr("acme/models", 7, head_ref="tune")


def test_pr_gets_one_comment_with_report_and_plan_then_updates_it(
    tmp_path: Path, origin: Origin, forge: ForgeServer
) -> None:
    github_forge(forge, origin)
    head = git(origin.dev.path, "rev-parse", "tune")
    forge.add_commit("acme/models", "tune", {"x": "1"}, sha=head)
    ws, merge = checkout_pr_merge(origin, tmp_path / "ws")
    env = {"GITHUB_API_URL": forge.github_url}
    run = run_github(tmp_path, ws, "pull_request", pr_payload(origin), "refs/pull/7/merge",
                     sha=merge, extra_env=env)  # fmt: skip
    assert run.code == 0, run.stdout + run.stderr
    assert "the clone is shallow" in run.stdout
    [comment] = forge.comments("acme/models", 7)
    body = comment.body
    open("/tmp/pr_body.md", "w").write(body)
    assert body.startswith("<!-- gitops:plan -->")
    assert "0.85" in body and "0.8" in body  # acc, old and new
    assert "Deployment plan" in body  # the plan is in the same comment
    assert "@team" not in body.replace("\\@team", "")  # no mention from the title
    assert "<b>" not in body
    report_md = ws / run.outputs["report"]
    assert report_md.read_text() in body or body.endswith(report_md.read_text().rstrip() + "\n")
    [doc] = json.loads((ws / run.outputs["report-json"]).read_text())
    assert doc["kind"] == "pull_request"
    statuses = forge.repo("acme/models").statuses[head]
    assert [(s.context, s.state) for s in statuses] == [("gitops/report", "success")]
    assert TOKEN not in run.everything()

    # a new commit on the PR: worse accuracy; the same comment is updated, the gate fails
    git(origin.dev.path, "checkout", "-q", "tune")
    worse = origin.dev.commit(files={"metrics.json": metrics(0.7, 0.4)}, epoch=T0 + 50)
    git(origin.dev.path, "checkout", "-q", "main")
    git(origin.dev.path, "push", "-q", "origin", "tune")
    forge.add_commit("acme/models", "tune", {"x": "2"}, sha=worse)
    ws2, merge = checkout_pr_merge(origin, tmp_path / "ws2")
    run = run_github(tmp_path, ws2, "pull_request", pr_payload(origin), "refs/pull/7/merge",
                     sha=merge, inputs={"fail-on-regression": "true"}, extra_env=env)  # fmt: skip
    assert run.code == 1, run.stdout + run.stderr
    [updated] = forge.comments("acme/models", 7)
    assert updated.id == comment.id and updated.body != body
    assert "0.7" in updated.body
    statuses = forge.repo("acme/models").statuses[worse]
    assert [(s.context, s.state) for s in statuses] == [("gitops/report", "failure")]
    assert "acc" in statuses[0].description
    assert "gate failed" in run.outputs["error"] and "acc" in run.outputs["error"]


def test_a_broken_gate_only_warns_without_fail_on_regression(
    tmp_path: Path, origin: Origin, forge: ForgeServer
) -> None:
    github_forge(forge, origin)
    git(origin.dev.path, "checkout", "-q", "tune")
    worse = origin.dev.commit(files={"metrics.json": metrics(0.7, 0.4)}, epoch=T0 + 50)
    git(origin.dev.path, "checkout", "-q", "main")
    git(origin.dev.path, "push", "-q", "origin", "tune")
    forge.add_commit("acme/models", "tune", {"x": "2"}, sha=worse)
    ws, merge = checkout_pr_merge(origin, tmp_path / "ws")
    env = {"GITHUB_API_URL": forge.github_url}
    run = run_github(tmp_path, ws, "pull_request", pr_payload(origin), "refs/pull/7/merge",
                     sha=merge, extra_env=env)  # fmt: skip
    assert run.code == 0, run.stdout + run.stderr
    assert "::warning::gate failed" in run.stdout
    [status] = forge.repo("acme/models").statuses[worse]
    assert status.state == "success" and "not enforced" in status.description


def test_stage_move_summary_compares_with_the_previous_version_and_draws_history(
    tmp_path: Path, origin: Origin
) -> None:
    dev = origin.dev
    git(dev.path, "merge", "-q", "--no-edit", "tune")
    v11 = dev.rev()
    dev.tag("churn@v1.1.0", v11, epoch=T0 + 100)
    dev.tag("churn#prod#2", v11, epoch=T0 + 110)
    origin.publish()
    from cienv import checkout_like_github

    ws = checkout_like_github(origin, tmp_path / "ws", "churn#prod#2")
    payload = {"ref": "refs/tags/churn#prod#2", "head_commit": {"id": v11}}
    run = run_github(tmp_path, ws, "push", payload, "refs/tags/churn#prod#2")
    assert run.code == 0, run.stdout + run.stderr
    summary = run.summary
    open("/tmp/move_summary.md", "w").write(summary)
    assert "v1.0.0" in summary and "v1.1.0" in summary
    assert "0.85" in summary and "0.8" in summary
    assert "```mermaid" in summary
    [doc] = json.loads((ws / run.outputs["report-json"]).read_text())
    assert doc["kind"] == "stage_move"
    assert [p["version"] for p in doc["history"]["points"]] == ["v1.0.0", "v1.1.0"]


def test_gitlab_mr_uses_the_diff_base_and_sets_the_pipeline_status(
    tmp_path: Path, origin: Origin, forge: ForgeServer
) -> None:
    forge.add_project("acme/models", project_id=42)
    forge.add_mr(42, 5, source_branch="tune")
    forge.add_user("alice", TOKEN, kind="gitlab")
    head = git(origin.dev.path, "rev-parse", "tune")
    base = git(origin.dev.path, "merge-base", "main", "tune")
    forge.add_commit(42, "tune", {"x": "1"}, sha=head)
    ws = tmp_path / "ws"
    ws.mkdir()
    git(ws, "init", "-q")
    git(ws, "remote", "add", "origin", str(origin.bare))
    git(ws, "fetch", "-q", "--no-tags", "origin", "+refs/heads/*:refs/remotes/origin/*")
    git(ws, "checkout", "-q", "--detach", head)
    variables = {
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_IID": "5",
        "CI_MERGE_REQUEST_TITLE": "Tune churn",
        "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "tune",
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
        "CI_MERGE_REQUEST_DIFF_BASE_SHA": base,
        "CI_COMMIT_SHA": head,
        "CI_API_V4_URL": forge.gitlab_url,
        "GITOPS_TOKEN": TOKEN,
    }
    run = run_gitlab(tmp_path, ws, variables)
    assert run.code == 0, run.stdout + run.stderr
    [note] = forge.notes(42, 5)
    assert "0.85" in note.body and "Deployment plan" in note.body
    [status] = [s for s in forge.project(42).statuses if s.sha == head]
    assert (status.name, status.status) == ("gitops/report", "success")
    assert TOKEN not in run.everything()


HOSTILE = {
    "a|b": 1.0,
    "`code`": 2.0,
    "<script>alert(1)</script>": 3.0,
    "@team please look": 4.0,
    "::set-output name=x::y": 5.0,
    "##[error]boom": 6.0,
    "line\nbreak\r::warning::x": 7.0,
    "[click](https://evil.example)": 8.0,
    "--> <!--": 9.0,
    "%0A::error::encoded": 10.0,
}


def test_hostile_metric_names_stay_text_in_the_comment_summary_and_log(
    tmp_path: Path, origin: Origin, forge: ForgeServer
) -> None:
    """Metric names are whatever a training script wrote: none of them may become a table
    cell, HTML, a link, a mention, a workflow command or a broken marker."""
    github_forge(forge, origin)
    dev = origin.dev
    git(dev.path, "checkout", "-q", "tune")
    files = {
        "metrics.json": json.dumps({"acc": 0.9, "loss": 0.2, **HOSTILE}),
        "eval/x.json": "[1",
        "dvc.yaml": "metrics: [metrics.json, eval/x.json]\n",
    }
    head = dev.commit(files=files, epoch=T0 + 50)  # fmt: skip
    forge.add_commit("acme/models", "tune", {"x": "1"}, sha=head)
    git(dev.path, "checkout", "-q", "main")
    git(dev.path, "push", "-q", "--force", "origin", "tune")
    ws, merge = checkout_pr_merge(origin, tmp_path / "ws")
    run = run_github(tmp_path, ws, "pull_request", pr_payload(origin), "refs/pull/7/merge",
                     sha=merge, extra_env={"GITHUB_API_URL": forge.github_url})  # fmt: skip
    assert run.code == 0, run.stdout + run.stderr
    from cienv import runner_commands
    from test_report_render import check_markdown

    acted = runner_commands(run.stdout)
    assert {c.name for c in acted} <= {"group", "endgroup", "add-mask"}, acted
    [comment] = forge.comments("acme/models", 7)
    assert comment.body.count("-->") == 1  # the marker's own, on the first line
    check_markdown(comment.body.split("\n", 1)[1])
    check_markdown(run.summary)
    assert "invalid JSON" in comment.body  # eval/x.json is broken on the PR side: said so
    # names are shown as the literal text they are (in code spans: the parser found no HTML,
    # link, image or mention in them above)
    assert "`<script>alert(1)</script>`" in comment.body
