"""The action deploys: a tag push applies the moved stage's environments, a schedule reconciles
everything, the state branch on origin records it, and a failed deploy fails the job."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from cienv import Origin, checkout_like_github, run_github
from gitutil import git

T0 = 1_760_000_000

DEPLOY = """
import json, os, sys
with open(os.environ["DEPLOY_LOG"], "a") as f:
    f.write(json.dumps({k: v for k, v in os.environ.items() if k.startswith("GITOPS_")}) + "\\n")
sys.exit(1 if os.environ["GITOPS_VERSION"] == os.environ.get("FAIL_VERSION") else 0)
"""


def config(log: Path, fail: str = "", after: bool = False) -> str:
    run = json.dumps([sys.executable, "-c", DEPLOY])
    env = json.dumps({"DEPLOY_LOG": str(log), "FAIL_VERSION": fail})
    return (
        "state: {forge_records: false}\n"
        "environments:\n"
        # no tag has used `staging` yet when the tests start: allowed on purpose
        f"  staging: {{stage: staging, allow_unknown_stage: true, "
        f"deploy: {{driver: command, run: {run}, env: {env}}}}}\n"
        f"  prod: {{stage: prod, {'after: [staging], ' if after else ''}"
        f"deploy: {{driver: command, run: {run}, env: {env}}}}}\n"
    )


@pytest.fixture
def origin(tmp_path: Path) -> Origin:
    o = Origin(tmp_path)
    d = o.dev
    c1 = d.commit(files={"gitops.yaml": config(tmp_path / "deploys.log", fail="v9.9.9")}, epoch=T0)
    d.tag("churn@v1.0.0", c1, epoch=T0 + 10)
    c2 = d.commit(epoch=T0 + 100)
    d.tag("churn@v1.1.0", c2, epoch=T0 + 110)
    d.tag("churn#prod#1", c1, epoch=T0 + 200)
    o.publish()
    return o


def push_and_run(tmp: Path, o: Origin, tag: str, target: str, epoch: int, **inputs: str):
    o.dev.tag(tag, o.dev.rev(target), epoch=epoch)
    o.publish()
    ws = checkout_like_github(o, tmp / "ws", tag)
    payload = {"ref": f"refs/tags/{tag}", "deleted": False, "head_commit": {"id": o.dev.rev(tag)}}
    return run_github(tmp, ws, "push", payload, f"refs/tags/{tag}", o.dev.rev(tag), inputs)


def deploys(tmp: Path) -> list[tuple[str, str]]:
    log = tmp / "deploys.log"
    lines = log.read_text().splitlines() if log.exists() else []
    return [(json.loads(x)["GITOPS_ENVIRONMENT"], json.loads(x)["GITOPS_VERSION"]) for x in lines]


def test_tag_push_deploys_the_moved_stage_only(tmp_path: Path, origin: Origin) -> None:
    run = push_and_run(tmp_path, origin, "churn#staging#2", "churn@v1.1.0", T0 + 300)
    assert run.code == 0, run.stdout + run.stderr
    assert deploys(tmp_path) == [("staging", "v1.1.0")]  # prod (not moved) is left alone
    [planned] = json.loads(run.outputs["plan"])
    assert (planned["environment"], planned["kind"], planned["to_version"]) == (
        "staging",
        "deploy",
        "v1.1.0",
    )
    [result] = json.loads(run.outputs["deployments"])
    assert (result["environment"], result["status"]) == ("staging", "deployed")
    assert json.loads(run.outputs["matrix"]) == {
        "include": [{"environment": "staging", "changes": 1, "level": 0}]
    }
    assert "## Deployments" in run.summary
    staging = json.loads(git(origin.bare, "show", "gitops/state:staging.json"))
    record = staging["deployed"]["churn"]
    assert (record["version"], record["by"], record["why"]) == (
        "v1.1.0",
        "alice",
        "tag churn#staging#2",
    )
    assert record["run_url"] == "https://github.com/acme/models/actions/runs/4242"
    log = git(origin.bare, "log", "--format=%s", "gitops/state")
    assert "deploy churn v1.1.0 to staging" in log


def test_dry_run_plans_but_deploys_nothing(tmp_path: Path, origin: Origin) -> None:
    run = push_and_run(
        tmp_path, origin, "churn#staging#2", "churn@v1.1.0", T0 + 300, **{"dry-run": "true"}
    )
    assert run.code == 0
    assert deploys(tmp_path) == []
    assert json.loads(run.outputs["deployments"])[0]["status"] == "dry-run"
    assert git(origin.bare, "branch", "--list", "gitops/state") == ""


def test_plan_command_only_plans(tmp_path: Path, origin: Origin) -> None:
    run = push_and_run(
        tmp_path, origin, "churn#staging#2", "churn@v1.1.0", T0 + 300, command="plan"
    )
    assert run.code == 0
    assert deploys(tmp_path) == []
    envs = {a["environment"] for a in json.loads(run.outputs["plan"])}
    assert envs == {"staging", "prod"}  # plan covers every environment
    assert json.loads(run.outputs["deployments"]) == []


def test_failed_deploy_fails_the_job_after_recording(tmp_path: Path, origin: Origin) -> None:
    d = origin.dev
    c3 = d.commit(
        files={"gitops.yaml": config(tmp_path / "deploys.log", fail="v1.2.0")}, epoch=T0 + 250
    )
    d.tag("churn@v1.2.0", c3, epoch=T0 + 260)
    run = push_and_run(tmp_path, origin, "churn#prod#2", "churn@v1.2.0", T0 + 300)
    assert run.code == 1
    assert "::error::prod: churn v1.2.0:" in run.stdout
    [result] = json.loads(run.outputs["deployments"])
    assert result["status"] == "failed"  # nothing ran before in prod: nothing to roll back to
    prod = json.loads(git(origin.bare, "show", "gitops/state:prod.json"))
    assert prod["deployed"]["churn"]["status"] == "failed"


def test_schedule_reconciles_every_environment(tmp_path: Path, origin: Origin) -> None:
    ws = checkout_like_github(origin, tmp_path / "ws", None)
    run = run_github(tmp_path, ws, "schedule", {"schedule": "0 * * * *"}, "refs/heads/main")
    assert run.code == 0, run.stdout + run.stderr
    assert deploys(tmp_path) == [("prod", "v1.0.0")]
    assert run.outputs["changed"] == "false"  # no stage moved: this was drift being fixed
    run2 = run_github(tmp_path, ws, "schedule", {"schedule": "0 * * * *"}, "refs/heads/main")
    assert run2.code == 0
    assert deploys(tmp_path) == [("prod", "v1.0.0")]  # second run: in sync, nothing done
