"""State stores: compare-and-swap on a file and on a git branch, and two real runs at once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from deploy_fixtures import ROOT, command_env, read_log, registry_repo
from gitutil import git

from gitops.deploy.state import Deployed, LiveState
from gitops.deploy.store import BranchStore, FileStore, StaleState


def entry(version: str) -> Deployed:
    return Deployed(version=version, commit="c" * 40, by="t", why="test")


def set_version(env: str, artifact: str, version: str):
    def change(state: LiveState) -> None:
        state.record(env, artifact, entry(version), keep=5)

    return change


def test_file_store_refuses_a_stale_write(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "state.json")
    state, rev = store.read()
    assert rev is None
    state.record("prod", "churn", entry("v1"), 5)
    store.write(state, rev, "one")
    with pytest.raises(StaleState):
        store.write(state, rev, "two")  # still based on "nothing written"


def test_file_store_damaged_document_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text('{"environments": 5}')
    with pytest.raises(Exception, match="is not a gitops state document: environments"):
        FileStore(tmp_path / "state.json").read()


def test_local_branch_store_commits_without_touching_the_work_tree(repo) -> None:
    repo.commit(files={"a.txt": "a"})
    head = repo.rev()
    store = BranchStore(repo.path, "gitops/state", None)
    store.update(set_version("prod", "churn", "v1"), "deploy churn v1 to prod")
    store.update(set_version("prod", "churn", "v2"), "deploy churn v2 to prod")
    log = git(repo.path, "log", "--format=%an|%s", "gitops/state").splitlines()
    assert log == ["gitops|deploy churn v2 to prod", "gitops|deploy churn v1 to prod"]
    assert repo.rev() == head and git(repo.path, "status", "--porcelain") == ""
    assert git(repo.path, "branch", "--show-current") == "main"
    state, _ = store.read()
    assert state.live("prod", "churn").version == "v2"
    assert [d.version for d in state.history["prod"]["churn"]] == ["v1"]


def _origin_and_clones(tmp_path: Path, config: dict, n: int = 2) -> tuple[Path, list[Path]]:
    dev = registry_repo(tmp_path / "dev", config)
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(dev.path), str(bare)], check=True)
    clones = []
    for i in range(n):
        clone = tmp_path / f"clone{i}"
        subprocess.run(["git", "clone", "-q", str(bare), str(clone)], check=True)
        git(clone, "config", "user.name", f"runner{i}")
        git(clone, "config", "user.email", f"runner{i}@example.com")
        clones.append(clone)
    return bare, clones


def test_branch_store_on_a_remote_never_loses_an_update(tmp_path: Path) -> None:
    bare, (a, b) = _origin_and_clones(tmp_path, {"environments": {}})
    store_a = BranchStore(a, "gitops/state", "origin")
    store_b = BranchStore(b, "gitops/state", "origin")
    _, stale = store_b.read()  # b reads "nothing yet" ...
    store_a.update(set_version("prod", "churn", "v1"), "a: churn v1")
    state, _ = store_b.read()
    with pytest.raises(StaleState):  # ... and its write based on that is refused by git
        store_b.write(state, stale, "b: stale")
    store_b.update(set_version("prod", "fraud", "v9"), "b: fraud v9")  # update re-reads
    final, _ = BranchStore(a, "gitops/state", "origin").read()
    assert final.live("prod", "churn").version == "v1"
    assert final.live("prod", "fraud").version == "v9"
    subjects = git(bare, "log", "--format=%s", "gitops/state").splitlines()
    assert subjects == ["b: fraud v9", "a: churn v1"]


def test_two_runs_at_once_deploy_each_change_once(tmp_path: Path) -> None:
    log = tmp_path / "deploys.log"
    deploy = command_env(log, SLOW="1")
    deploy["run"] = [sys.executable, "-c", _SLOW_DEPLOY, str(log)]
    config = {
        "state": {"store": "branch"},
        "environments": {
            "staging": {"stage": "staging", "deploy": deploy},
            "prod": {"stage": "prod", "deploy": deploy},
        },
    }
    bare, clones = _origin_and_clones(tmp_path, config)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "gitops", "apply", "-r", str(c)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for c in clones
    ]
    outputs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    deployed = sorted((c["GITOPS_ENVIRONMENT"], c["GITOPS_ARTIFACT"]) for c in read_log(log))
    assert deployed == [("prod", "churn"), ("prod", "fraud"), ("staging", "churn")]  # once each
    state, _ = BranchStore(clones[0], "gitops/state", "origin").read()
    assert state.live("prod", "churn").version == "v1.0.0"
    assert state.live("staging", "churn").version == "v1.1.0"
    assert state.locks == {}
    subjects = git(bare, "log", "--format=%s", "gitops/state").splitlines()
    assert sum(s.startswith("deploy ") for s in subjects) == 3


_SLOW_DEPLOY = """
import json, os, sys, time
time.sleep(0.3)
with open(sys.argv[1], "a") as f:
    f.write(json.dumps({k: v for k, v in os.environ.items() if k.startswith("GITOPS_")}) + "\\n")
"""
