"""The CLI end to end on a small real repository, as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

from gitutil import Repo


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gitops", *args], capture_output=True, text=True, timeout=60
    )


def test_show_json_reports_registered_version_and_stage(repo: Repo) -> None:
    repo.commit()
    repo.tag("churn@v1.0.0", epoch=1_700_000_000)
    repo.tag("churn#prod#1", epoch=1_700_000_100)
    result = run("show", "--json", "-r", str(repo.path))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "churn": {
            "version": "v1.0.0",
            "stage": {"prod": "v1.0.0"},
            "registered": True,
            "active": True,
        }
    }


def test_not_a_repository_is_a_clear_error(tmp_path) -> None:
    result = run("show", "-r", str(tmp_path))
    assert result.returncode != 0
    assert "not a git repository" in result.stderr
    assert "Traceback" not in result.stderr
