"""`after:` holds across runs: a version enters prod only once it ran healthy in staging, as the
state store says, whatever run or matrix job deployed staging. Real repos, real deploy scripts,
the CLI as separate processes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from deploy_fixtures import DEPLOY_SCRIPT, ROOT, T0, gitops, read_log
from gitutil import Repo

from gitops.deploy.order import proof, waits
from gitops.deploy.state import Deployed, LiveState


def _config(log: Path, **staging: object) -> dict:
    deploy = {
        "driver": "command",
        "run": [sys.executable, "deploy.py"],
        "env": {"DEPLOY_LOG": str(log)},
    }
    deploy["env"].update(staging.pop("deploy_env", {}))  # type: ignore[union-attr]
    return {
        "environments": {
            "staging": {"stage": "staging", "deploy": deploy, **staging},
            "prod": {
                "stage": "prod",
                "after": ["staging"],
                "deploy": {**deploy, "env": {"DEPLOY_LOG": str(log)}},
            },
        }
    }


def _repo(path: Path, config: dict) -> Repo:
    """churn v1.0.0, v1.1.0, v1.2.0 on three commits; nothing in any stage yet."""
    repo = Repo(path)
    c1 = repo.commit(
        files={
            "artifacts.yaml": "churn: {type: model, path: model.txt}\n",
            "model.txt": "1\n",
            "deploy.py": DEPLOY_SCRIPT,
            "gitops.yaml": yaml.safe_dump(config, sort_keys=False),
            ".gitignore": ".gitops/\n",
        },
        epoch=T0,
    )
    repo.tag("churn@v1.0.0", c1, epoch=T0 + 10)
    c2 = repo.commit(files={"model.txt": "2\n"}, epoch=T0 + 20)
    repo.tag("churn@v1.1.0", c2, epoch=T0 + 30)
    c3 = repo.commit(files={"model.txt": "3\n"}, epoch=T0 + 40)
    repo.tag("churn@v1.2.0", c3, epoch=T0 + 50)
    return repo


class Clock:
    """Tag times that only move forward."""

    def __init__(self) -> None:
        self.t = T0 + 100

    def __call__(self) -> int:
        self.t += 10
        return self.t


def _assign(repo: Repo, clock: Clock, stage: str, version: str) -> None:
    n = clock()  # a unique counter, and a tag time after every earlier one
    repo.tag(f"churn#{stage}#{n}", repo.rev(f"churn@{version}"), epoch=n)


def _state(repo: Repo, env: str) -> dict:
    return json.loads((repo.path / ".gitops/state" / f"{env}.json").read_text())


def _apply(repo: Repo, *args: str) -> tuple[int, list[dict]]:
    proc = gitops(repo.path, "apply", "--json", *args)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout)["results"] if proc.stdout.strip() else []


def _by_env(results: list[dict]) -> dict[str, dict]:
    return {r["environment"]: r for r in results}


def test_a_version_rolled_back_in_staging_waits_for_prod_in_the_next_run(tmp_path: Path) -> None:
    log = tmp_path / "log"
    repo = _repo(tmp_path / "r", _config(log, deploy_env={"FAIL_VERSION": "v1.1.0"}))
    clock = Clock()
    for stage in ("staging", "prod"):
        _assign(repo, clock, stage, "v1.0.0")
    code, results = _apply(repo)
    assert code == 0 and [r["status"] for r in results] == ["deployed", "deployed"]

    _assign(repo, clock, "staging", "v1.1.0")
    code, results = _apply(repo)  # first run: staging fails v1.1.0 and rolls back
    assert code == 1 and _by_env(results)["staging"]["status"] == "rolled-back"

    _assign(repo, clock, "prod", "v1.1.0")  # someone promotes it anyway
    plan = json.loads(gitops(repo.path, "plan", "--json", "--env", "prod").stdout)
    [action] = [a for a in plan["actions"] if a["kind"] != "in-sync"]
    assert action["waiting"] == ["waits for staging: v1.1.0 failed there and was rolled back"]
    code, results = _apply(repo)  # second run, a new process: prod still refuses it
    assert code == 0, results
    prod = _by_env(results)["prod"]
    assert prod["status"] == "waiting"
    assert "v1.1.0 failed there and was rolled back" in prod["message"]
    assert _state(repo, "prod")["deployed"]["churn"]["version"] == "v1.0.0"
    assert [c["GITOPS_ENVIRONMENT"] for c in read_log(log)].count("prod") == 1


def test_one_apply_moves_staging_then_prod_once_staging_is_healthy(tmp_path: Path) -> None:
    log = tmp_path / "log"
    repo = _repo(tmp_path / "r", _config(log))
    clock = Clock()
    for stage in ("staging", "prod"):
        _assign(repo, clock, stage, "v1.0.0")
    proc = gitops(repo.path, "plan", "--json")
    prod = next(a for a in json.loads(proc.stdout)["actions"] if a["environment"] == "prod")
    assert prod["waiting"] == ["waits for staging: v1.0.0 is to be deployed there first"]
    code, results = _apply(repo)
    assert code == 0
    assert [(r["environment"], r["status"]) for r in results] == [
        ("staging", "deployed"),
        ("prod", "deployed"),
    ]


def test_a_failed_health_check_in_staging_holds_prod_in_the_same_run(tmp_path: Path) -> None:
    log = tmp_path / "log"
    check = [
        sys.executable,
        "-c",
        "import os,sys; sys.exit(os.environ['GITOPS_VERSION'] != 'v1.0.0')",
    ]
    repo = _repo(tmp_path / "r", _config(log, health={"command": check, "retries": 0}))
    clock = Clock()
    for stage in ("staging", "prod"):
        _assign(repo, clock, stage, "v1.0.0")
    assert _apply(repo)[0] == 0
    for stage in ("staging", "prod"):
        _assign(repo, clock, stage, "v1.1.0")
    code, results = _apply(repo)
    assert code == 1
    assert _by_env(results)["staging"]["status"] == "rolled-back"
    assert _by_env(results)["prod"]["status"] == "waiting"


def test_matrix_jobs_one_environment_each_keep_the_order(tmp_path: Path) -> None:
    """The shipped fan-out workflow runs one `apply --env X` per job: prod's job reads staging's
    state too, whichever job runs first."""
    log = tmp_path / "log"
    repo = _repo(tmp_path / "r", _config(log))
    clock = Clock()
    for stage in ("staging", "prod"):
        _assign(repo, clock, stage, "v1.0.0")
    code, results = _apply(repo, "--env", "prod")  # prod's job happens to run first
    assert code == 0 and [r["status"] for r in results] == ["waiting"]
    assert (
        not (repo.path / ".gitops/state/prod.json").exists() or not _state(repo, "prod")["deployed"]
    )
    assert [r["status"] for r in _apply(repo, "--env", "staging")[1]] == ["deployed"]
    assert [r["status"] for r in _apply(repo, "--env", "prod")[1]] == ["deployed"]


def test_a_prod_job_waits_while_staging_is_being_deployed_by_another_run(tmp_path: Path) -> None:
    log = tmp_path / "log"
    slow = "import os, time; time.sleep(3 * (os.environ['GITOPS_ENVIRONMENT'] == 'staging'))"
    config = _config(log)
    for env in config["environments"].values():
        env["deploy"]["run"] = [sys.executable, "-c", slow]
    repo = _repo(tmp_path / "r", config)
    clock = Clock()
    for stage in ("staging", "prod"):
        _assign(repo, clock, stage, "v1.0.0")
    staging = subprocess.Popen(
        [sys.executable, "-m", "gitops", "apply", "--env", "staging", "-r", str(repo.path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # until staging's job holds its lock
        state = repo.path / ".gitops/state/staging.json"
        if state.exists() and json.loads(state.read_text()).get("lock"):
            break
        time.sleep(0.05)
    else:
        pytest.fail("staging never took its lock")
    proc = gitops(repo.path, "apply", "--json", "--env", "prod")
    staging.communicate(timeout=60)
    assert staging.returncode == 0
    assert "waiting for staging" in proc.stderr
    assert [r["status"] for r in json.loads(proc.stdout)["results"]] == ["deployed"]


def test_staging_moving_on_keeps_an_older_version_proven(tmp_path: Path) -> None:
    log = tmp_path / "log"
    repo = _repo(tmp_path / "r", _config(log))
    clock = Clock()
    _assign(repo, clock, "staging", "v1.0.0")
    _assign(repo, clock, "prod", "v1.0.0")
    assert _apply(repo)[0] == 0
    _assign(repo, clock, "staging", "v1.1.0")
    assert _apply(repo)[0] == 0
    _assign(repo, clock, "staging", "v1.2.0")  # staging moves on before prod takes v1.1.0
    assert _apply(repo)[0] == 0
    _assign(repo, clock, "prod", "v1.1.0")
    code, results = _apply(repo)
    assert code == 0 and [(r["environment"], r["status"]) for r in results] == [
        ("prod", "deployed")
    ]


def test_a_version_staging_rolled_back_from_by_a_stage_move_is_not_proven(tmp_path: Path) -> None:
    log = tmp_path / "log"
    repo = _repo(tmp_path / "r", _config(log))
    clock = Clock()
    _assign(repo, clock, "staging", "v1.0.0")
    _assign(repo, clock, "prod", "v1.0.0")
    assert _apply(repo)[0] == 0
    _assign(repo, clock, "staging", "v1.1.0")
    assert _apply(repo)[0] == 0
    _assign(repo, clock, "staging", "v1.0.0")  # people took v1.1.0 out of staging: it is bad
    assert _apply(repo)[0] == 0
    _assign(repo, clock, "prod", "v1.1.0")
    code, results = _apply(repo)
    assert code == 0
    assert [r["status"] for r in results] == ["waiting"]
    assert "v1.1.0 left it by a rollback" in results[0]["message"]


def test_prod_rolls_back_to_its_own_earlier_version_without_waiting(tmp_path: Path) -> None:
    log = tmp_path / "log"
    repo = _repo(tmp_path / "r", _config(log))
    clock = Clock()
    for version in ("v1.0.0", "v1.1.0"):
        _assign(repo, clock, "staging", version)
        _assign(repo, clock, "prod", version)
        assert _apply(repo)[0] == 0
    _assign(repo, clock, "staging", "v1.2.0")
    assert _apply(repo)[0] == 0
    _assign(repo, clock, "prod", "v1.0.0")  # prod goes back: v1.0.0 ran healthy there before
    code, results = _apply(repo)
    assert code == 0 and [(r["environment"], r["kind"], r["status"]) for r in results] == [
        ("prod", "rollback", "deployed")
    ]


def test_ignore_after_deploys_anyway_and_says_so(tmp_path: Path) -> None:
    log = tmp_path / "log"
    repo = _repo(tmp_path / "r", _config(log))
    clock = Clock()
    _assign(repo, clock, "prod", "v1.0.0")  # a registry adopted with prod already set
    _assign(repo, clock, "staging", "v1.1.0")
    code, results = _apply(repo)
    assert [(r["environment"], r["status"]) for r in results] == [
        ("staging", "deployed"),
        ("prod", "waiting"),
    ]
    code, results = _apply(repo, "--ignore-after")
    assert code == 0 and [r["status"] for r in results] == ["deployed"]
    assert "order check skipped" in _state(repo, "prod")["deployed"]["churn"]["why"]


def _entry(version: str | None, status: str = "deployed", **kw: object) -> Deployed:
    return Deployed(version=version, status=status, **kw)  # type: ignore[arg-type]


def test_proof_reads_the_newest_word_about_a_version() -> None:
    state = LiveState()
    state.record("staging", "churn", _entry("v1"), 10)
    assert proof(state, "staging", "churn", "v1") is not None
    assert proof(state, "staging", "churn", "v2") is None
    state.record("staging", "churn", _entry("v1", "rolled-back", attempted="v2"), 10)
    assert proof(state, "staging", "churn", "v2") is None
    assert proof(state, "staging", "churn", "v1") is not None  # it runs again, healthy-ish
    state.record("staging", "churn", _entry("v2", kind="update"), 10)  # retried, healthy now
    assert proof(state, "staging", "churn", "v2") is not None
    state.record("staging", "churn", _entry("v2", "failed", attempted="v2"), 10)
    assert proof(state, "staging", "churn", "v2") is None
    assert [str(w) for w in waits(state, ["staging"], "churn", "v2")] == [
        "waits for staging: v2 failed there"
    ]
    state.record("staging", "churn", _entry("v3", "proposed"), 10)
    assert [str(w) for w in waits(state, ["staging"], "churn", "v3")] == [
        "waits for staging: v3 is proposed there (its pull request is not merged yet)"
    ]
