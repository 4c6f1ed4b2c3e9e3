"""A model DVC tracks is not in Git: the local driver cannot `git archive` it. Until it fetches
DVC's bytes (issue 13), the deploy fails naming the DVC file, and nothing half-written reaches
the environment. Built with the real `dvc` CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from deploy_fixtures import gitops
from gitutil import Repo, git

DVC = Path(sys.executable).parent / "dvc"


@pytest.mark.skipif(not DVC.exists(), reason="dvc is a test dependency: pip install -e '.[test]'")
def test_a_dvc_tracked_model_fails_its_deploy_with_the_reason(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    root = repo.path
    subprocess.run([str(DVC), "init", "-q"], cwd=root, check=True, timeout=120)
    (root / "models").mkdir()
    (root / "models" / "churn.pkl").write_bytes(b"real model bytes")
    subprocess.run([str(DVC), "add", "-q", "models/churn.pkl"], cwd=root, check=True,
                   timeout=120)  # fmt: skip
    deployed = tmp_path / "deployed"
    files = {
        "artifacts.yaml": "churn:\n  type: model\n  path: models/churn.pkl\n",
        "gitops.yaml": "state: {store: file}\nenvironments:\n  prod: {stage: prod, deploy: "
        f"{{driver: local, dir: {json.dumps(str(deployed))}}}}}\n",
    }
    git(root, "add", ".dvc", "models/churn.pkl.dvc", "models/.gitignore")
    sha = repo.commit(files=files)
    repo.tag("churn@v1.0.0", sha)
    repo.tag("churn#prod#1", sha, epoch=1_700_000_100)
    result = gitops(root, "apply")
    assert result.returncode == 1
    assert "models/churn.pkl is tracked by DVC (models/churn.pkl.dvc)" in result.stdout
    assert not (deployed / "prod" / "churn").exists()  # nothing half-written
    assert "Traceback" not in result.stdout + result.stderr
