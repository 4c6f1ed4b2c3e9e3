"""State stores: compare-and-swap on files and on a git branch, and two real runs at once."""

from __future__ import annotations

import json
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
    store = FileStore(tmp_path / "state")
    state, rev = store.read(["prod"])
    assert rev == {"prod": None}
    state.record("prod", "churn", entry("v1"), 5)
    store.write(state, rev, "one")
    with pytest.raises(StaleState):
        store.write(state, rev, "two")  # still based on "nothing written"
    doc = json.loads((tmp_path / "state" / "prod.json").read_text())
    assert doc["deployed"]["churn"]["version"] == "v1"


def test_file_store_environments_do_not_conflict(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "state")
    prod, rev_prod = store.read(["prod"])
    store.update(["staging"], set_version("staging", "churn", "v2"), "staging first")
    prod.record("prod", "churn", entry("v1"), 5)
    store.write(prod, rev_prod, "prod's write is still valid: staging is another document")
    both, _ = store.read(["prod", "staging"])
    assert (both.live("prod", "churn").version, both.live("staging", "churn").version) == (
        "v1",
        "v2",
    )


def test_file_store_damaged_document_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "prod.json").write_text('{"deployed": 5}')
    with pytest.raises(Exception, match="prod.json is not a gitops state document: deployed"):
        FileStore(tmp_path).read(["prod"])


def test_local_branch_store_commits_without_touching_the_work_tree(repo) -> None:
    repo.commit(files={"a.txt": "a"})
    head = repo.rev()
    store = BranchStore(repo.path, "gitops/state", None)
    store.update(["prod"], set_version("prod", "churn", "v1"), "deploy churn v1 to prod")
    store.update(["prod"], set_version("prod", "churn", "v2"), "deploy churn v2 to prod")
    store.update(["dev"], set_version("dev", "churn", "v3"), "deploy churn v3 to dev")
    log = git(repo.path, "log", "--format=%an|%s", "gitops/state").splitlines()
    assert log == [
        "gitops|deploy churn v3 to dev",
        "gitops|deploy churn v2 to prod",
        "gitops|deploy churn v1 to prod",
    ]
    assert git(repo.path, "ls-tree", "--name-only", "gitops/state").split() == [
        "dev.json",
        "prod.json",
    ]
    assert repo.rev() == head and git(repo.path, "status", "--porcelain") == ""
    assert git(repo.path, "branch", "--show-current") == "main"
    state, _ = store.read(["prod"])
    assert state.live("prod", "churn").version == "v2"
    assert [d.version for d in state.history("prod", "churn")] == ["v1"]


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
    _, stale = store_b.read(["prod"])  # b reads "nothing yet" ...
    store_a.update(["prod"], set_version("prod", "churn", "v1"), "a: churn v1")
    state, _ = store_b.read(["prod"])
    state.record("prod", "fraud", entry("v0"), 5)
    with pytest.raises(StaleState):  # ... and its write based on that is refused by git
        store_b.write(state, stale, "b: stale")
    store_b.update(["prod"], set_version("prod", "fraud", "v9"), "b: fraud v9")  # re-reads
    final, _ = BranchStore(a, "gitops/state", "origin").read(["prod"])
    assert final.live("prod", "churn").version == "v1"
    assert final.live("prod", "fraud").version == "v9"
    subjects = git(bare, "log", "--format=%s", "gitops/state").splitlines()
    assert subjects == ["b: fraud v9", "a: churn v1"]


_SLOW_DEPLOY = """
import json, os, sys, time
time.sleep(0.3)
with open(sys.argv[1], "a") as f:
    f.write(json.dumps({k: v for k, v in os.environ.items() if k.startswith("GITOPS_")}) + "\\n")
"""


def test_two_runs_at_once_deploy_each_change_once(tmp_path: Path) -> None:
    log = tmp_path / "deploys.log"
    deploy = command_env(log)
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
    state, _ = BranchStore(clones[0], "gitops/state", "origin").read(["prod", "staging"])
    assert state.live("prod", "churn").version == "v1.0.0"
    assert state.live("staging", "churn").version == "v1.1.0"
    assert all(state.lock_holder(n, 0) is None for n in ("prod", "staging"))
    audit = git(bare, "log", "--format=%B", "gitops/state")
    for change in ("churn v1.0.0 to prod", "fraud v0.1.0 to prod", "churn v1.1.0 to staging"):
        assert audit.count(f"deploy {change}") == 1, audit


def test_push_credentials_reach_git_through_the_environment_only(repo) -> None:
    from gitops.deploy.store import http_auth_env

    url = "https://gitlab.example.com/acme/models.git"
    env = http_auth_env(url, "oauth2", "glpat-s3cret")
    got = git(repo.path, "config", "--get", f"http.{url}.extraheader", env=env)
    assert got == "Authorization: Basic b2F1dGgyOmdscGF0LXMzY3JldA=="  # oauth2:glpat-s3cret
    assert "s3cret" not in " ".join(env)  # keys hold no secret; only the (encoded) value does
