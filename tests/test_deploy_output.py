"""What a deploy said, and what really runs: output streamed and kept (stdout and stderr apart,
secrets masked), records that say what runs after a failed health check, rollbacks that say
they are rollbacks, drift found by the bytes, and messages cut with ``…``, never mid-word."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import yaml
from deploy_fixtures import T0, gitops, registry_repo
from gitutil import git

from gitops.text import shorten

SECRET = "hunter2-the-deploy-secret-value"

NOISY = """
import os, sys
for i in range(120):
    print(f"out line {i}")
print("warning: disk almost full", file=sys.stderr)
print("token is " + os.environ["MY_API_TOKEN"], file=sys.stderr)
sys.stdout.flush(); sys.stderr.flush()
sys.exit(int(os.environ.get("EXIT", "0")))
"""


def _noisy(tmp: Path, exit_code: int = 0) -> dict:
    return {
        "environments": {
            "prod": {
                "stage": "prod",
                "artifacts": ["churn"],
                "on_failure": "stop",
                "deploy": {
                    "driver": "command",
                    "run": [sys.executable, "-c", NOISY],
                    "env": {"EXIT": str(exit_code)},
                },
            }
        }
    }


def test_command_output_is_streamed_apart_kept_bounded_and_masked(tmp_path: Path) -> None:
    repo = registry_repo(tmp_path / "r", _noisy(tmp_path), scripts=False)
    proc = gitops(repo.path, "apply", "--json", env={"MY_API_TOKEN": SECRET})
    assert proc.returncode == 0, proc.stderr
    log = proc.stderr  # with --json the log goes to stderr
    assert "== prod: deploy churn v1.0.0" in log  # a group per deploy
    assert "out | out line 0" in log and "out | out line 119" in log  # streamed, all of it
    assert "err | warning: disk almost full" in log
    assert "err | token is ***" in log
    [result] = json.loads(proc.stdout)["results"]
    assert len(result["stdout"]) == 50 and result["stdout"][-1] == "out line 119"
    assert result["stderr"] == ["warning: disk almost full", "token is ***"]
    record = json.loads((repo.path / ".gitops/state/prod.json").read_text())
    assert record["deployed"]["churn"]["stderr"] == ["warning: disk almost full", "token is ***"]
    assert len(record["deployed"]["churn"]["stdout"]) == 50
    everything = proc.stdout + proc.stderr + (repo.path / ".gitops/state/prod.json").read_text()
    assert SECRET not in everything


def test_a_failed_command_reports_its_last_stderr_line(tmp_path: Path) -> None:
    repo = registry_repo(tmp_path / "r", _noisy(tmp_path, exit_code=4), scripts=False)
    proc = gitops(repo.path, "apply", "--json", env={"MY_API_TOKEN": SECRET})
    assert proc.returncode == 1
    [result] = json.loads(proc.stdout)["results"]
    assert result["status"] == "failed"
    assert result["message"].endswith("exited with code 4: token is ***")


def test_on_failure_stop_after_a_failed_health_check_records_what_runs(tmp_path: Path) -> None:
    """The new version was put there and is unhealthy: the record says it runs (failed), so
    moving the stage back plans a rollback instead of "in sync"."""
    log = tmp_path / "log"
    check = [
        sys.executable,
        "-c",
        "import os,sys; sys.exit(os.environ['GITOPS_VERSION'] != 'v1.0.0')",
    ]
    config = {
        "environments": {
            "prod": {
                "stage": "prod",
                "artifacts": ["churn"],
                "on_failure": "stop",
                "health": {"command": check, "retries": 0},
                "deploy": {
                    "driver": "command",
                    "run": [sys.executable, "deploy.py"],
                    "env": {"DEPLOY_LOG": str(log)},
                },
            }
        }
    }
    repo = registry_repo(tmp_path / "r", config)
    assert gitops(repo.path, "apply").returncode == 0
    repo.tag("churn#prod#3", repo.rev("churn@v1.1.0"), epoch=T0 + 400)
    assert gitops(repo.path, "apply").returncode == 1
    record = json.loads((repo.path / ".gitops/state/prod.json").read_text())["deployed"]["churn"]
    assert (record["version"], record["status"], record["attempted"]) == (
        "v1.1.0",
        "failed",
        "v1.1.0",
    )
    plan = json.loads(gitops(repo.path, "plan", "--json").stdout)["actions"]
    assert [(a["kind"], a["failed_before"]) for a in plan] == [("redeploy", True)]
    repo.tag("churn#prod#4", repo.rev("churn@v1.0.0"), epoch=T0 + 500)  # move it back
    plan = json.loads(gitops(repo.path, "plan", "--json").stdout)["actions"]
    assert [(a["kind"], a["from_version"], a["to_version"]) for a in plan] == [
        ("rollback", "v1.1.0", "v1.0.0")
    ]
    assert gitops(repo.path, "apply").returncode == 0
    record = json.loads((repo.path / ".gitops/state/prod.json").read_text())["deployed"]["churn"]
    assert (record["version"], record["status"]) == ("v1.0.0", "deployed")


def _local(repo_path: Path) -> None:
    config = {"environments": {"prod": {"stage": "prod", "artifacts": ["churn", "fraud"]}}}
    (repo_path / "gitops.yaml").write_text(yaml.safe_dump(config))


def test_local_drift_is_the_bytes_modified_and_missing(tmp_path: Path) -> None:
    repo = registry_repo(tmp_path / "r", {"environments": {}}, scripts=False)
    _local(repo.path)
    assert gitops(repo.path, "apply").returncode == 0
    base = repo.path / ".gitops/deployments/prod"
    assert gitops(repo.path, "plan", "--detailed-exitcode").returncode == 0

    (base / "churn/models/churn.pkl").write_text("edited on the server\n")
    shutil.rmtree(base / "fraud")
    proc = gitops(repo.path, "plan", "--json")
    actions = {a["artifact"]: a for a in json.loads(proc.stdout)["actions"]}
    churn, fraud = actions["churn"], actions["fraud"]
    assert (churn["kind"], churn["drift"]) == ("redeploy", True)
    assert churn["drift_reason"] == "modified (changed: models/churn.pkl)"
    assert (fraud["kind"], fraud["from_version"], fraud["drift_reason"]) == (
        "deploy",
        None,
        "missing: nothing is there",
    )
    table = gitops(repo.path, "plan").stdout
    assert "drift: modified (changed: models/churn.pkl)" in table
    assert gitops(repo.path, "apply").returncode == 0
    assert (base / "churn/models/churn.pkl").read_text() == "churn-1\n"
    assert (base / "fraud/models/fraud.onnx").read_text() == "fraud-1\n"
    assert gitops(repo.path, "plan", "--detailed-exitcode").returncode == 0

    (base / "churn/extra.bin").write_text("dropped in by hand\n")
    actions = json.loads(gitops(repo.path, "plan", "--json").stdout)["actions"]
    assert [a["drift_reason"] for a in actions if a["artifact"] == "churn"] == [
        "modified (added: extra.bin)"
    ]


def test_a_driver_that_cannot_look_says_so(tmp_path: Path) -> None:
    config = {
        "environments": {
            "prod": {"stage": "prod", "artifacts": ["churn"], "deploy": {"driver": "noop"}}
        }
    }
    repo = registry_repo(tmp_path / "r", config, scripts=False)
    assert gitops(repo.path, "apply").returncode == 0
    table = gitops(repo.path, "plan").stdout
    assert "not observed: prod (their drivers cannot look)" in table
    actions = json.loads(gitops(repo.path, "plan", "--json").stdout)["actions"]
    assert [(a["kind"], a["observed"]) for a in actions] == [("in-sync", False)]


def test_results_table_keeps_the_version_of_a_long_rollback_message(tmp_path: Path) -> None:
    from gitops.deploy.apply import Result
    from gitops.deploy.render import results_markdown, results_table

    why = "deployed, but unhealthy after 3 tries: " + "x" * 40 + " " + "words " * 60
    result = Result("prod", "churn", "update", "v1.1.0", "v1.2.0", "rolled-back", "")
    result.message = f"rolled back to v1.1.0: v1.2.0 failed: {why}"
    line = results_table([result]).splitlines()[1]
    assert "rolled back to v1.1.0: v1.2.0 failed" in line
    assert line.endswith("…") and not line.endswith(" …")
    assert "…" in results_markdown([result])


def test_shorten_cuts_at_a_word_and_says_so() -> None:
    assert shorten("short enough", 20) == "short enough"
    assert shorten("one two three four", 12) == "one two…"
    assert shorten("a\nmulti   line\ttext", 50) == "a multi line text"
    assert shorten("x" * 50, 10) == "x" * 9 + "…"
    assert len(shorten("word " * 100, 120)) <= 120


def test_state_branch_records_are_masked_too(tmp_path: Path) -> None:
    repo = registry_repo(tmp_path / "r", _noisy(tmp_path), scripts=False)
    config = _noisy(tmp_path)
    config["state"] = {"store": "branch"}
    (repo.path / "gitops.yaml").write_text(yaml.safe_dump(config))
    proc = gitops(repo.path, "apply", env={"MY_API_TOKEN": SECRET})
    assert proc.returncode == 0, proc.stderr
    branch = git(repo.path, "log", "-p", "gitops/state")
    assert "token is ***" in branch and SECRET not in branch


def test_local_apply_hints_at_an_untracked_gitops_folder(tmp_path: Path) -> None:
    repo = registry_repo(tmp_path / "r", _noisy(tmp_path), scripts=False)
    (repo.path / ".gitignore").write_text("")
    proc = gitops(repo.path, "apply", env={"MY_API_TOKEN": SECRET})
    assert "hint: .gitops/ holds this machine's live state" in proc.stderr
    (repo.path / ".gitignore").write_text(".gitops/\n")
    proc = gitops(repo.path, "apply", env={"MY_API_TOKEN": SECRET})
    assert "hint:" not in proc.stderr
