"""A run that fails still leaves its record: outputs and summary hold the moves, the plan and what
was deployed, plus the error. And a registry conflict holds its artifact where it is: no vacate
move, no removal even with prune on, a non-zero exit naming every conflicting tag."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from cienv import Origin, checkout_like_github, checkout_like_gitlab, run_github, run_gitlab
from gitutil import git

T0 = 1_760_000_000

DEPLOY = """
import json, os, sys
with open(os.environ["DEPLOY_LOG"], "a") as f:
    f.write(json.dumps({k: v for k, v in os.environ.items() if k.startswith("GITOPS_")}) + "\\n")
print("deploying", os.environ["GITOPS_VERSION"])
"""


def _config(log: Path | None, prune: bool = False) -> str:
    """Deploys log to ``log``; with None, the deploy script fails (its variable is missing)."""
    run = json.dumps([sys.executable, "-c", DEPLOY])
    env = json.dumps({"DEPLOY_LOG": str(log)} if log else {})
    return (
        "state: {forge_records: false}\n"
        "environments:\n"
        f"  prod: {{stage: prod, prune: {str(prune).lower()}, "
        f"deploy: {{driver: command, run: {run}, env: {env}}}}}\n"
    )


def _origin(tmp: Path, text: str) -> Origin:
    o = Origin(tmp)
    c1 = o.dev.commit(files={"gitops.yaml": text}, epoch=T0)
    o.dev.tag("churn@v1.0.0", c1, epoch=T0 + 10)
    c2 = o.dev.commit(files={"model.txt": "2\n"}, epoch=T0 + 20)
    o.dev.tag("churn@v1.1.0", c2, epoch=T0 + 30)
    o.publish()
    return o


def _push(tmp: Path, o: Origin, tag: str, target: str, epoch: int, **inputs: str):
    o.dev.tag(tag, o.dev.rev(target), epoch=epoch)
    o.publish()
    ws = checkout_like_github(o, tmp / f"ws-{epoch}", tag)
    payload = {"ref": f"refs/tags/{tag}", "deleted": False, "head_commit": {"id": o.dev.rev(tag)}}
    return run_github(tmp, ws, "push", payload, f"refs/tags/{tag}", o.dev.rev(tag), inputs)


def _deploys(log: Path) -> list[tuple[str, str]]:
    lines = log.read_text().splitlines() if log.exists() else []
    return [(json.loads(x)["GITOPS_ACTION"], json.loads(x)["GITOPS_VERSION"]) for x in lines]


def _refuse_deploy_records(bare: Path) -> None:
    """The state branch takes the lock, then refuses the deploy's record: the deploy has run
    when the run fails."""
    hook = bare / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\n"
        "while read old new ref; do\n"
        '  case "$(git log -1 --format=%s "$new")" in deploy*)'
        ' echo "GH006: Protected branch update failed"; exit 1;; esac\n'
        "done\n"
    )
    os.chmod(hook, 0o755)


def test_a_refused_state_push_still_leaves_moves_plan_and_deployments(tmp_path: Path) -> None:
    log = tmp_path / "deploys.log"
    o = _origin(tmp_path, _config(log))
    _refuse_deploy_records(o.bare)
    run = _push(tmp_path, o, "churn#prod#1", "churn@v1.0.0", T0 + 100)
    assert run.code != 0
    assert "Traceback" not in run.stderr
    assert _deploys(log) == [("deploy", "v1.0.0")]
    [result] = json.loads(run.outputs["deployments"])  # it ran: the output says so
    assert (result["environment"], result["status"]) == ("prod", "deployed")
    assert result["stdout"] == ["deploying v1.0.0"]
    # what the log announced is in the outputs
    assert [(m["stage"], m["to_version"]) for m in run.moves] == [("prod", "v1.0.0")]
    assert [(p["environment"], p["to_version"]) for p in json.loads(run.outputs["plan"])] == [
        ("prod", "v1.0.0")
    ]
    assert "Protected branch" in run.outputs["error"]
    assert "churn prod" in run.stdout or "churn#prod#1" in run.stdout
    assert "## Failed" in run.summary and "Protected branch" in run.summary
    assert "## Registry stage moves" in run.summary and "## Deployment plan" in run.summary


def test_a_bad_gitops_yaml_still_leaves_the_moves(tmp_path: Path) -> None:
    o = _origin(tmp_path, "environments:\n  prod:\n    stage: prod\n    on_failure: retry\n")
    run = _push(tmp_path, o, "churn#prod#1", "churn@v1.0.0", T0 + 100)
    assert run.code == 2
    assert "Traceback" not in run.stderr
    assert [(m["stage"], m["to_version"]) for m in run.moves] == [("prod", "v1.0.0")]
    assert run.outputs["changed"] == "true"
    assert run.outputs["name"] == "churn" and run.outputs["stage"] == "prod"
    assert run.outputs["error"].startswith("gitops.yaml:4: ")
    assert run.outputs["plan"] == "[]" and run.outputs["deployments"] == "[]"
    assert "## Failed" in run.summary and "churn" in run.summary


def test_an_unreachable_remote_still_leaves_the_moves(tmp_path: Path) -> None:
    log = tmp_path / "deploys.log"
    o = _origin(tmp_path, _config(log))
    o.dev.tag("churn#prod#1", o.dev.rev("churn@v1.0.0"), epoch=T0 + 100)
    o.publish()
    ws = checkout_like_github(o, tmp_path / "ws", "churn#prod#1")
    # a full clone: the run needs no fetch to read the tags, only the state branch's remote
    git(ws, "fetch", "-q", "--unshallow", "--tags", "--force", "origin")
    git(ws, "remote", "set-url", "origin", str(tmp_path / "gone.git"))
    payload = {"ref": "refs/tags/churn#prod#1", "head_commit": {"id": o.dev.rev("churn#prod#1")}}
    run = run_github(tmp_path, ws, "push", payload, "refs/tags/churn#prod#1", o.dev.rev("HEAD"))
    assert run.code != 0 and "Traceback" not in run.stderr
    assert [(m["stage"], m["to_version"]) for m in run.moves] == [("prod", "v1.0.0")]
    assert "gone.git" in run.outputs["error"]
    assert "## Failed" in run.summary


def test_a_failed_deploy_says_so_in_the_error_output(tmp_path: Path) -> None:
    o = _origin(tmp_path, _config(None))
    run = _push(tmp_path, o, "churn#prod#1", "churn@v1.0.0", T0 + 100)
    assert run.code == 1
    [result] = json.loads(run.outputs["deployments"])
    assert result["status"] == "failed"
    assert "KeyError" in "\n".join(result["stderr"])  # the deploy's own stderr is kept
    assert run.outputs["error"] == "1 deploy(s) failed: see the deployments output"


@pytest.mark.parametrize("platform", ["github", "gitlab"])
def test_a_conflict_holds_the_artifact_and_fails_the_run(tmp_path: Path, platform: str) -> None:
    log = tmp_path / "deploys.log"
    o = _origin(tmp_path, _config(log, prune=True))
    first = _push(tmp_path, o, "churn#prod#1", "churn@v1.0.0", T0 + 100)
    assert first.code == 0 and _deploys(log) == [("deploy", "v1.0.0")]

    stray = "churn@v1.0.1"  # a second version on the commit of v1.0.0: a GTO conflict
    o.dev.tag(stray, o.dev.rev("churn@v1.0.0"), epoch=T0 + 200)
    o.publish()
    if platform == "github":
        ws = checkout_like_github(o, tmp_path / "ws2", stray)
        payload = {"ref": f"refs/tags/{stray}", "head_commit": {"id": o.dev.rev(stray)}}
        run = run_github(tmp_path, ws, "push", payload, f"refs/tags/{stray}", o.dev.rev(stray))
    else:
        ws = checkout_like_gitlab(o, tmp_path / "ws2", stray)
        variables = {"CI_COMMIT_TAG": stray, "CI_COMMIT_SHA": o.dev.rev(stray)}
        variables["CI_PIPELINE_SOURCE"] = "push"
        run = run_gitlab(tmp_path, ws, variables | {"GITOPS_TOKEN": "glpat-abcdefghijklmnop"})
    assert run.code == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    moves_key = "moves" if platform == "github" else "GITOPS_MOVES"
    assert json.loads(run.outputs[moves_key]) == []  # no vacate move
    assert _deploys(log) == [("deploy", "v1.0.0")]  # nothing removed, even with prune on
    everything = run.stdout + run.stderr
    for tag in ("churn@v1.0.0", "churn@v1.0.1"):
        assert tag in everything
    error_key = "error" if platform == "github" else "GITOPS_ERROR"
    assert "churn@v1.0.1" in run.outputs[error_key]
    state = json.loads(git(o.bare, "show", "gitops/state:prod.json"))
    assert state["deployed"]["churn"]["version"] == "v1.0.0"


def test_cli_conflict_moves_and_apply_remove_nothing(tmp_path: Path) -> None:
    from deploy_fixtures import gitops

    log = tmp_path / "deploys.log"
    o = _origin(tmp_path, _config(log, prune=True))
    d = o.dev
    d.commit(files={".gitignore": ".gitops/\n"}, epoch=T0 + 40)
    d.tag("churn#prod#1", d.rev("churn@v1.0.0"), epoch=T0 + 100)
    assert gitops(d.path, "apply").returncode == 0
    d.tag("churn@v1.0.1", d.rev("churn@v1.0.0"), epoch=T0 + 200)
    moves = gitops(d.path, "moves", "churn@v1.0.1")
    assert moves.returncode == 1
    assert "vacate" not in moves.stdout and "churn@v1.0.1" in moves.stderr
    plan = gitops(d.path, "plan", "--detailed-exitcode")
    assert plan.returncode == 2 and "held" in plan.stdout
    applied = gitops(d.path, "apply")
    assert applied.returncode == 1 and "remove" not in applied.stdout.split("Nothing")[0]
    assert _deploys(log) == [("deploy", "v1.0.0")]
    state = json.loads((d.path / ".gitops/state/prod.json").read_text())
    assert state["deployed"]["churn"]["version"] == "v1.0.0"


def test_an_unreachable_forge_is_tried_once_not_per_deploy(tmp_path: Path) -> None:
    log = tmp_path / "deploys.log"
    text = _config(log).replace("state: {forge_records: false}\n", "")
    text = text.replace("prod: {stage: prod,", "prod: {stage: prod, artifacts: [churn, fraud],")
    o = _origin(tmp_path, text)
    o.dev.tag("fraud@v1.0.0", o.dev.rev("churn@v1.0.0"), epoch=T0 + 50)
    o.dev.tag("fraud#prod#1", o.dev.rev("churn@v1.0.0"), epoch=T0 + 60)
    o.dev.tag("churn#prod#1", o.dev.rev("churn@v1.0.0"), epoch=T0 + 100)
    o.publish()
    ws = checkout_like_github(o, tmp_path / "ws", None)
    closed = {"GITHUB_API_URL": "http://127.0.0.1:9"}  # nothing listens on the discard port
    run = run_github(tmp_path, ws, "schedule", {}, "refs/heads/main", extra_env=closed)
    assert run.code == 0, run.stdout + run.stderr
    assert _deploys(log) == [("deploy", "v1.0.0"), ("deploy", "v1.0.0")]
    warnings = [line for line in run.stdout.splitlines() if "could not record" in line]
    assert len(warnings) == 1 and "no more deployment records are tried" in warnings[0]
