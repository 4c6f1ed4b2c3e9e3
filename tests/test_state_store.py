"""State stores: compare-and-swap on files and on a git branch, and two real runs at once."""

from __future__ import annotations

import http.server
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from deploy_fixtures import ROOT, command_env, gitops, read_log, registry_repo
from gitutil import git, server_hook

from gitops.deploy.state import Deployed, LiveState
from gitops.deploy.store import BranchStore, FileStore, StaleState, http_auth_env
from gitops.errors import GitopsError
from gitops.gitpush import PushRefused


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
    url = "https://gitlab.example.com/acme/models.git"
    env = http_auth_env(url, "oauth2", "glpat-s3cret")
    got = git(repo.path, "config", "--get", f"http.{url}.extraheader", env=env)
    assert got == "Authorization: Basic b2F1dGgyOmdscGF0LXMzY3JldA=="  # oauth2:glpat-s3cret
    assert "s3cret" not in " ".join(env)  # keys hold no secret; only the (encoded) value does


# -- a refused push is not a race ---------------------------------------------------------------


def test_a_protected_state_branch_fails_at_once_with_gits_reason(tmp_path: Path) -> None:
    bare, (a,) = _origin_and_clones(tmp_path, {"environments": {}}, n=1)
    refusal = "protected branch: gitops/state takes no pushes from this user"
    runs = server_hook(bare, "pre-receive", f"echo '{refusal}' >&2; exit 1")
    store = BranchStore(a, "gitops/state", "origin")
    started = time.monotonic()
    with pytest.raises(PushRefused) as caught:
        store.update(["prod"], set_version("prod", "churn", "v1"), "a: churn v1")
    assert time.monotonic() - started < 2  # the bound: 17 s of retries before
    text = str(caught.value)
    assert text.startswith("state branch gitops/state on origin: git push to origin refused")
    assert "refs/heads/gitops/state (pre-receive hook declined)" in text
    assert f"remote: {refusal}" in text
    assert "hint: branch gitops/state is protected on the remote" in text
    assert "state.branch in gitops.yaml" in text
    assert "gave up" not in text and "conflict" not in text
    assert runs.read_text() == "run\n"  # exactly one push attempt
    assert git(bare, "branch", "--list", "gitops/state") == ""


def test_apply_against_a_protected_state_branch_deploys_nothing_and_says_why(
    tmp_path: Path,
) -> None:
    """The run the issue saw: ``apply`` in CI with the state branch protected. It stops at its
    first write (taking the lock), before any deploy, with git's reason and the hint."""
    log = tmp_path / "deploys.log"
    config = {
        "state": {"store": "branch"},
        "environments": {"prod": {"stage": "prod", "deploy": command_env(log)}},
    }
    bare, (clone,) = _origin_and_clones(tmp_path, config, n=1)
    refusal = "echo 'GH006: Protected branch update failed' >&2; exit 1"
    runs = server_hook(bare, "pre-receive", refusal)
    result = gitops(clone, "apply")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "GH006: Protected branch update failed" in result.stderr
    assert "(pre-receive hook declined)" in result.stderr
    assert "hint: branch gitops/state is protected" in result.stderr
    assert "Traceback" not in result.stderr and "gave up" not in result.stderr
    assert runs.read_text() == "run\n"
    assert read_log(log) == []  # nothing deployed without a record of it


def test_a_lost_race_on_the_server_is_retried_and_loses_no_update(tmp_path: Path) -> None:
    """Another run's push lands while ours is being received: the remote answers "failed to
    update ref"; ours re-reads, re-applies its change on top and pushes again."""
    bare, (a, b) = _origin_and_clones(tmp_path, {"environments": {}})
    BranchStore(a, "gitops/state", "origin").update(
        ["prod"], set_version("prod", "churn", "v1"), "a: churn v1"
    )
    # b's change, committed on the current state and parked on a side branch of the remote
    side = BranchStore(b, "gitops/state", "origin")
    state, revision = side.read(["prod"])
    state.record("prod", "fraud", entry("v9"), 5)
    side.ref = "refs/heads/parked"
    side.write(state, revision, "b: fraud v9")
    parked = git(bare, "rev-parse", "parked")
    # the hook plays b's push landing mid-way through a's (outside the push's quarantine)
    move = (
        "[ -e moved ] || { touch moved; env -u GIT_QUARANTINE_PATH -u GIT_OBJECT_DIRECTORY "
        f"git update-ref refs/heads/gitops/state {parked}; }}"
    )
    runs = server_hook(bare, "pre-receive", move)
    BranchStore(a, "gitops/state", "origin").update(
        ["prod"], set_version("prod", "churn", "v2"), "a: churn v2"
    )
    assert runs.read_text() == "run\nrun\n"  # lost once, then landed
    final, _ = BranchStore(a, "gitops/state", "origin").read(["prod"])
    assert final.live("prod", "churn").version == "v2"
    assert final.live("prod", "fraud").version == "v9"  # b's update survived
    subjects = git(bare, "log", "--format=%s", "gitops/state").splitlines()
    assert subjects == ["a: churn v2", "b: fraud v9", "a: churn v1"]


def test_a_store_that_always_loses_says_it_was_a_race_and_how_often(tmp_path: Path) -> None:
    bare, (a,) = _origin_and_clones(tmp_path, {"environments": {}}, n=1)
    store = BranchStore(a, "gitops/state", "origin")
    store.update(["prod"], set_version("prod", "churn", "v1"), "a: churn v1")
    # another writer that always gets there first: a new commit on the branch at every push
    who = "GIT_AUTHOR_NAME=o GIT_AUTHOR_EMAIL=o@x GIT_COMMITTER_NAME=o GIT_COMMITTER_EMAIL=o@x"
    ref = "refs/heads/gitops/state"
    runs = server_hook(
        bare,
        "pre-receive",
        f"unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY\n"
        f"c=$(env {who} git commit-tree {ref}^{{tree}} -p {ref} -m other)\n"
        f"git update-ref {ref} $c",
    )
    for attempts, said in ((1, "1 attempt"), (2, "2 attempts")):
        with pytest.raises(GitopsError) as caught:
            store.update(["prod"], set_version("prod", "churn", "v2"), "a: v2", attempts=attempts)
        assert str(caught.value) == (
            f"state branch gitops/state on origin: gave up after {said}: every write lost a "
            "race with another run writing the same state at the same time; run again"
        )
    assert runs.read_text().count("run") == 3
    final, _ = store.read(["prod"])
    assert final.live("prod", "churn").version == "v1"


def test_threads_racing_on_one_document_lose_no_update(tmp_path: Path) -> None:
    """Three clones, four changes each, all to prod's one document at once."""
    bare, clones = _origin_and_clones(tmp_path, {"environments": {}}, n=3)
    errors: list[BaseException] = []

    def writer(i: int, clone: Path) -> None:
        store = BranchStore(clone, "gitops/state", "origin")
        try:
            for j in range(4):
                store.update(["prod"], set_version("prod", f"m{i}x{j}", f"v{j}"), f"{i}.{j}")
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i, c)) for i, c in enumerate(clones)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    final, _ = BranchStore(clones[0], "gitops/state", "origin").read(["prod"])
    for i in range(3):
        for j in range(4):
            assert final.live("prod", f"m{i}x{j}").version == f"v{j}"
    assert len(git(bare, "log", "--format=%s", "gitops/state").splitlines()) == 12


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_remote_fails_fast_and_never_shows_the_token(repo) -> None:
    repo.commit(files={"a.txt": "a"})
    token = "glpat-s3cretV4lue"
    url = f"https://oauth2:{token}@127.0.0.1:{_closed_port()}/acme/models.git"
    env = http_auth_env(url, "oauth2", token)
    store = BranchStore(repo.path, "gitops/state", url, env)
    started = time.monotonic()
    with pytest.raises(GitopsError) as caught:
        store.update(["prod"], set_version("prod", "churn", "v1"), "churn v1")
    assert time.monotonic() - started < 10
    text = str(caught.value)
    assert text.startswith("state branch gitops/state on https://***@127.0.0.1:")
    assert "cannot read it" in text and "Failed to connect" in text
    assert token not in text and env["GIT_CONFIG_VALUE_0"].split()[-1] not in text


class _Forbidden(http.server.BaseHTTPRequestHandler):
    """A git host that refuses every push: the token lacks the scope."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(403)
        self.send_header("Content-Type", "text/plain")  # git shows such a body as remote: lines
        self.end_headers()
        self.wfile.write(b"You are not allowed to push code to this project.\n")

    def log_message(self, *args: object) -> None:
        pass


def test_a_token_that_may_not_push_fails_at_once_with_the_scope_hint(tmp_path: Path) -> None:
    """Reads come from the clone's remote; pushes go to a host that answers 403."""
    bare, (a,) = _origin_and_clones(tmp_path, {"environments": {}}, n=1)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Forbidden)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        push_url = f"http://127.0.0.1:{server.server_port}/acme/models.git"
        git(a, "remote", "set-url", "--push", "origin", push_url)
        token = "glpat-s3cretV4lue"
        store = BranchStore(a, "gitops/state", "origin", http_auth_env(push_url, "oauth2", token))
        with pytest.raises(PushRefused) as caught:
            store.update(["prod"], set_version("prod", "churn", "v1"), "churn v1")
    finally:
        server.shutdown()
        server.server_close()
    text = str(caught.value)
    assert "The requested URL returned error: 403" in text
    assert "remote: You are not allowed to push code to this project." in text
    assert "write_repository" in text and "contents: write" in text
    assert token not in text
    assert git(bare, "branch", "--list", "gitops/state") == ""
