"""Plan and apply on real repositories with real deploy commands and real state files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from deploy_fixtures import T0, command_env, gitops, read_log, registry_repo

from gitops.config import load_config
from gitops.deploy.apply import RunInfo, apply
from gitops.deploy.plan import make_plan
from gitops.deploy.state import LiveState
from gitops.deploy.store import FileStore
from gitops.registry.reader import load_registry
from gitops.yamlfile import YamlFileError


def envs(log: Path, **prod: object) -> dict:
    """staging and prod, one at a time (so calls come in order); prod has no `after:` here,
    the order rule has its own tests (test_order.py)."""
    return {
        "parallelism": 1,
        "environments": {
            "staging": {"stage": "staging", "deploy": command_env(log)},
            "prod": {"stage": "prod", "deploy": command_env(log), **prod},
        },
    }


def run_apply(repo: Path, **kwargs: object):
    registry = load_registry(repo)
    config = load_config(repo)
    assert config is not None
    store = FileStore(repo / ".gitops/state")
    plan, results = apply(registry, config, store, RunInfo(actor="tester", why="test"), **kwargs)
    return plan, results, store.read(list(config.environments))[0]


def test_plan_covers_models_only_by_default(tmp_path: Path) -> None:
    repo = registry_repo(tmp_path / "r", envs(tmp_path / "log"))
    plan = make_plan(load_registry(repo.path), load_config(repo.path), LiveState())
    got = sorted((a.environment, a.artifact, a.kind, a.to_version) for a in plan.changes)
    assert got == [
        ("prod", "churn", "deploy", "v1.0.0"),
        ("prod", "fraud", "deploy", "v0.1.0"),
        ("staging", "churn", "deploy", "v1.1.0"),
    ]  # `features` is a dataset: not deployed


def test_apply_runs_the_command_with_the_facts(tmp_path: Path) -> None:
    log = tmp_path / "log"
    repo = registry_repo(tmp_path / "r", envs(log))
    _, results, state = run_apply(repo.path)
    assert [r.status for r in results] == ["deployed"] * 3
    calls = read_log(log)
    assert [c["GITOPS_ENVIRONMENT"] for c in calls] == ["staging", "prod", "prod"]
    churn_prod = next(
        c for c in calls if c["GITOPS_ENVIRONMENT"] == "prod" and c["GITOPS_ARTIFACT"] == "churn"
    )
    assert churn_prod["GITOPS_VERSION"] == "v1.0.0"
    assert churn_prod["GITOPS_COMMIT"] == repo.rev("churn@v1.0.0")
    # the version's own files, fetched for the command (not the work tree's)
    assert Path(churn_prod["GITOPS_PATH"]).is_absolute()
    assert churn_prod["GITOPS_PATH"].endswith("/models/churn.pkl")
    assert churn_prod["GITOPS_SOURCE"] == "git" and churn_prod["GITOPS_URL"] == ""
    assert churn_prod["GITOPS_STAGE"] == "prod"
    assert churn_prod["GITOPS_PREVIOUS_VERSION"] == ""
    assert state.live("prod", "churn").version == "v1.0.0"
    assert state.live("prod", "churn").by == "tester"


def test_applying_twice_does_nothing_the_second_time(tmp_path: Path) -> None:
    log = tmp_path / "log"
    repo = registry_repo(tmp_path / "r", envs(log))
    run_apply(repo.path)
    plan, results, _ = run_apply(repo.path)
    assert plan.changes == [] and results == []
    assert len(read_log(log)) == 3


def test_stage_move_updates_and_rollback_is_a_rollback(tmp_path: Path) -> None:
    log = tmp_path / "log"
    repo = registry_repo(tmp_path / "r", envs(log))
    run_apply(repo.path)
    repo.tag("churn#prod#3", repo.rev("churn@v1.1.0"), epoch=T0 + 400)
    plan, results, state = run_apply(repo.path)
    assert [(a.artifact, a.kind, a.from_version, a.to_version) for a in plan.changes] == [
        ("churn", "update", "v1.0.0", "v1.1.0")
    ]
    assert read_log(log)[-1]["GITOPS_PREVIOUS_VERSION"] == "v1.0.0"
    repo.tag("churn#prod#4", repo.rev("churn@v1.0.0"), epoch=T0 + 500)
    plan, _, state = run_apply(repo.path)
    assert [a.kind for a in plan.changes] == ["rollback"]
    assert state.live("prod", "churn").version == "v1.0.0"
    assert [h.version for h in state.history("prod", "churn")] == ["v1.1.0", "v1.0.0"]


def test_failed_deploy_rolls_back_and_records_the_truth(tmp_path: Path) -> None:
    log = tmp_path / "log"
    config = envs(log)
    config["environments"]["prod"]["deploy"] = command_env(log, FAIL_VERSION="v1.1.0")
    repo = registry_repo(tmp_path / "r", config)
    run_apply(repo.path)
    repo.tag("churn#prod#3", repo.rev("churn@v1.1.0"), epoch=T0 + 400)
    _, results, state = run_apply(repo.path)
    [result] = results
    assert result.status == "rolled-back"
    assert "exited with code 3" in result.message
    live = state.live("prod", "churn")
    assert (live.version, live.status, live.attempted) == ("v1.0.0", "rolled-back", "v1.1.0")
    assert result.message.startswith("rolled back to v1.0.0: v1.1.0 failed: ")
    calls = [
        (c["GITOPS_VERSION"], c["GITOPS_PREVIOUS_VERSION"], c["GITOPS_ACTION"])
        for c in read_log(log)[3:]
    ]
    assert calls == [("v1.1.0", "v1.0.0", "deploy"), ("v1.0.0", "v1.1.0", "rollback")]
    # the failed version is not retried by the next reconcile ...
    _, results, _ = run_apply(repo.path)
    assert [r.status for r in results] == ["skipped"]
    assert len(read_log(log)) == 5
    # ... unless asked
    _, results, _ = run_apply(repo.path, retry_failed=True)
    assert [r.status for r in results] == ["rolled-back"]


def test_on_failure_stop_after_a_failed_command_records_the_old_version(
    tmp_path: Path,
) -> None:
    log = tmp_path / "log"
    config = envs(log, on_failure="stop")
    config["environments"]["prod"]["deploy"] = command_env(log, FAIL_VERSION="v1.1.0")
    repo = registry_repo(tmp_path / "r", config)
    run_apply(repo.path)
    repo.tag("churn#prod#3", repo.rev("churn@v1.1.0"), epoch=T0 + 400)
    _, results, state = run_apply(repo.path)
    assert [r.status for r in results] == ["failed"]
    live = state.live("prod", "churn")
    assert (live.version, live.status, live.attempted) == ("v1.0.0", "failed", "v1.1.0")


def test_timeout_kills_the_command_and_its_children(tmp_path: Path) -> None:
    log = tmp_path / "log"
    config = envs(log, timeout=1, on_failure="stop")
    config["environments"]["prod"]["deploy"] = command_env(log, SLEEP_VERSION="v1.0.0")
    repo = registry_repo(tmp_path / "r", config)
    _, results, state = run_apply(repo.path, environments=["prod"])
    churn = next(r for r in results if r.artifact == "churn")
    assert churn.status == "failed"
    assert "timed out after 1 s (killed)" in churn.message
    assert churn.seconds < 10
    assert state.live("prod", "churn").version is None  # nothing runs there: the truth


def test_unhealthy_deploy_rolls_back(tmp_path: Path) -> None:
    log = tmp_path / "log"
    check = [
        sys.executable,
        "-c",
        "import os,sys; sys.exit(os.environ['GITOPS_VERSION'] == 'v1.1.0')",
    ]
    config = envs(log, health={"command": check, "retries": 1, "interval": 0})
    repo = registry_repo(tmp_path / "r", config)
    run_apply(repo.path)
    repo.tag("churn#prod#3", repo.rev("churn@v1.1.0"), epoch=T0 + 400)
    _, results, state = run_apply(repo.path)
    [result] = results
    assert result.status == "rolled-back"
    assert "unhealthy after 2 tries" in result.message
    assert state.live("prod", "churn").version == "v1.0.0"


def test_prune_is_off_by_default(tmp_path: Path) -> None:
    log = tmp_path / "log"
    repo = registry_repo(tmp_path / "r", envs(log))
    run_apply(repo.path)
    repo.tag("fraud#prod!#2", repo.rev("fraud@v0.1.0"), epoch=T0 + 400)
    plan, results, state = run_apply(repo.path)
    assert [(a.artifact, a.kind) for a in plan.actions if a.kind == "orphan"] == [
        ("fraud", "orphan")
    ]
    assert results == [] and state.live("prod", "fraud").version == "v0.1.0"


def test_prune_removes_what_the_stage_no_longer_holds(tmp_path: Path) -> None:
    log = tmp_path / "log"
    repo = registry_repo(tmp_path / "r", envs(log, prune=True))
    run_apply(repo.path)
    repo.tag("fraud#prod!#2", repo.rev("fraud@v0.1.0"), epoch=T0 + 400)
    _, results, state = run_apply(repo.path)
    assert [(r.artifact, r.status) for r in results] == [("fraud", "removed")]
    assert read_log(log)[-1]["GITOPS_ACTION"] == "remove"
    assert state.live("prod", "fraud").version is None


def test_local_driver_materialises_the_version(tmp_path: Path) -> None:
    config = {"environments": {"prod": {"stage": "prod", "artifacts": ["churn"]}}}
    repo = registry_repo(tmp_path / "r", config, scripts=False)
    run_apply(repo.path)
    deployed = repo.path / ".gitops/deployments/prod/churn"
    assert (deployed / "models/churn.pkl").read_text() == "churn-1\n"
    assert json.loads((deployed / ".gitops-deployed.json").read_text())["version"] == "v1.0.0"
    repo.tag("churn#prod#3", repo.rev("churn@v1.1.0"), epoch=T0 + 400)
    run_apply(repo.path)
    assert (deployed / "models/churn.pkl").read_text() == "churn-2\n"


def test_cli_plan_detailed_exitcode(tmp_path: Path) -> None:
    repo = registry_repo(tmp_path / "r", envs(tmp_path / "log"))
    proc = gitops(repo.path, "plan", "--detailed-exitcode")
    assert proc.returncode == 1, proc.stderr
    assert "prod         churn     deploy" in proc.stdout
    assert gitops(repo.path, "apply").returncode == 0
    assert gitops(repo.path, "plan", "--detailed-exitcode").returncode == 0
    (repo.path / "gitops.yaml").write_text("environments: [\n")
    proc = gitops(repo.path, "plan", "--detailed-exitcode")
    assert proc.returncode == 2
    assert "gitops.yaml:2" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_plan_json_and_markdown(tmp_path: Path) -> None:
    repo = registry_repo(tmp_path / "r", envs(tmp_path / "log"))
    data = json.loads(gitops(repo.path, "plan", "--json").stdout)
    assert data["changes"] == 3
    assert {a["kind"] for a in data["actions"]} == {"deploy", "in-sync"}
    markdown = gitops(repo.path, "plan", "--markdown").stdout
    assert "| Environment | Artifact | Action | From | To |" in markdown
    assert "| `prod` | `churn` | deploy | _(none)_ | `v1.0.0` |" in markdown


def test_cli_apply_exit_code_1_when_a_deploy_failed(tmp_path: Path) -> None:
    log = tmp_path / "log"
    config = envs(log, on_failure="stop")
    config["environments"]["prod"]["deploy"] = command_env(log, FAIL_VERSION="v1.0.0")
    repo = registry_repo(tmp_path / "r", config)
    proc = gitops(repo.path, "apply")
    assert proc.returncode == 1
    assert "failed" in proc.stdout
    prod = json.loads((repo.path / ".gitops/state/prod.json").read_text())
    assert prod["deployed"]["churn"]["status"] == "failed"
    assert prod["deployed"]["fraud"]["status"] == "deployed"
    assert prod["lock"] is None


def test_cli_dry_run_changes_nothing(tmp_path: Path) -> None:
    log = tmp_path / "log"
    repo = registry_repo(tmp_path / "r", envs(log))
    proc = gitops(repo.path, "apply", "--dry-run")
    assert proc.returncode == 0
    assert "dry-run" in proc.stdout
    assert not log.exists() and not (repo.path / ".gitops/state").exists()


def test_cli_unknown_environment(tmp_path: Path) -> None:
    repo = registry_repo(tmp_path / "r", envs(tmp_path / "log"))
    proc = gitops(repo.path, "plan", "--env", "qa")
    assert proc.returncode == 2
    assert "unknown environment 'qa' (configured: staging, prod)" in proc.stderr


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("environments:\n  prod:\n    stage: prod\n    on_failure: retry\n", 4, "on_failure"),
        (
            "environments:\n  prod:\n    stage: prod\n    after: [qa]\n",
            4,
            "no environment named 'qa'",
        ),
        ("environments:\n  prod:\n    stage: 'bad stage'\n", 3, "not a valid GTO stage name"),
        (
            "environments:\n  prod:\n    stage: prod\n    deploy: {driver: ftp}\n",
            4,
            "unknown driver 'ftp'",
        ),
        (
            "environments:\n  prod:\n    stage: prod\n"
            "    deploy:\n      driver: command\n      run: ./x.sh\n",
            6,
            "run",
        ),
        (
            "environments:\n  a: {stage: a, after: [b]}\n  b: {stage: b, after: [a]}\n",
            2,
            "cycle",
        ),
    ],
)
def test_config_errors_name_file_and_line(
    tmp_path: Path, text: str, line: int | None, words: str
) -> None:
    (tmp_path / "gitops.yaml").write_text(text)
    with pytest.raises(YamlFileError) as info:
        load_config(tmp_path)
    assert words in str(info.value)
    assert info.value.file == "gitops.yaml"
    if line is not None:
        assert info.value.line == line


def test_schema_command_prints_a_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    from gitops.cli import main

    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "gitops.yaml"
    assert set(schema["properties"]) >= {"environments", "state", "parallelism"}
    assert "on_failure" in json.dumps(schema)


def test_a_killed_deploy_command_is_a_failure_with_the_signal(tmp_path: Path) -> None:
    kill_self = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    config = {
        "environments": {
            "prod": {
                "stage": "prod",
                "on_failure": "stop",
                "deploy": {"driver": "command", "run": [sys.executable, "-c", kill_self]},
            }
        }
    }
    repo = registry_repo(tmp_path / "r", config)
    _, results, state = run_apply(repo.path)
    assert {r.status for r in results} == {"failed"}
    assert all("killed by signal SIGKILL" in r.message for r in results)
    assert state.live("prod", "churn").status == "failed"


def test_a_missing_deploy_program_is_a_failure_not_a_crash(tmp_path: Path) -> None:
    config = {
        "environments": {
            "prod": {"stage": "prod", "deploy": {"driver": "command", "run": ["./no-such.sh"]}}
        }
    }
    repo = registry_repo(tmp_path / "r", config)
    _, results, _ = run_apply(repo.path)
    assert {r.status for r in results} == {"failed"}
    assert "cannot run './no-such.sh'" in results[0].message
