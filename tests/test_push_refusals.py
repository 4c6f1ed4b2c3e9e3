"""The other git writers tell a refused push from a race too: the manifest driver's commit and
push (``GitWriter``), the registry's ``--push`` of new tags. Real bare remotes with real hooks.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from gitutil import BASE_ENV, Repo, git, server_hook

from gitops.config import HealthCheck
from gitops.deploy.drivers.base import DeployRequest
from gitops.deploy.drivers.manifest import ManifestDriver
from gitops.deploy.drivers.registry import make_driver
from gitops.deploy.gitwrite import GitWriter, Rejected
from gitops.deploy.health import check_health
from gitops.gitpush import PushRefused

GITOPS = str(Path(sys.executable).with_name("gitops"))
FILE = "k8s/prod/values.yaml"


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """git here must not read the machine's git config."""
    for name, value in BASE_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    return bare


@pytest.fixture
def work(tmp_path: Path, origin: Path) -> Repo:
    repo = Repo(tmp_path / "work")
    repo.commit("manifests", {FILE: "image: v1\n", "run.sh": "#!/bin/sh\n"})
    (repo.path / "run.sh").chmod(0o755)
    git(repo.path, "commit", "-q", "-am", "executable")
    git(repo.path, "remote", "add", "origin", str(origin))
    git(repo.path, "push", "-q", "origin", "main")
    return repo


def request(repo: Path) -> DeployRequest:
    return DeployRequest("prod", "churn", "prod", "v2", "c" * 40, "v1", None, repo, 60.0)


def manifest() -> ManifestDriver:
    driver = make_driver(
        {"driver": "manifest", "file": FILE, "branch": "main", "set": {"image": "{version}"}}
    )
    assert isinstance(driver, ManifestDriver)
    return driver


# -- the manifest driver ------------------------------------------------------------------------


def test_a_protected_deploy_branch_fails_at_once_with_gits_reason(work: Repo, origin: Path) -> None:
    refusal = "GitLab: You are not allowed to push code to protected branches on this project."
    runs = server_hook(origin, "pre-receive", f"echo '{refusal}' >&2; exit 1")
    before = git(origin, "rev-parse", "main")
    outcome = manifest().deploy(request(work.path))
    assert not outcome.ok
    assert "refused refs/heads/main (pre-receive hook declined)" in outcome.message
    assert f"remote: {refusal}" in outcome.message
    assert "hint: branch main is protected on the remote" in outcome.message
    assert "kept moving" not in outcome.message  # not reported as a race
    assert runs.read_text() == "run\n"  # one attempt, not five
    assert git(origin, "rev-parse", "main") == before


def test_a_deploy_push_that_lost_a_race_on_the_server_is_redone(work: Repo, origin: Path) -> None:
    """Another push lands while ours is received ("failed to update ref"): the driver fetches,
    redoes its edit on the new tip and pushes again; the other change stays."""
    other = Repo(work.path.parent / "other")
    git(other.path, "fetch", "-q", str(origin), "main")
    git(other.path, "reset", "-q", "--hard", "FETCH_HEAD")
    theirs = other.commit("someone else", {"README": "hello\n"})
    git(other.path, "push", "-q", str(origin), f"{theirs}:refs/heads/parked")
    move = (
        "[ -e moved ] || { touch moved; env -u GIT_QUARANTINE_PATH -u GIT_OBJECT_DIRECTORY "
        f"git update-ref refs/heads/main {theirs}; }}"
    )
    runs = server_hook(origin, "pre-receive", move)
    outcome = manifest().deploy(request(work.path))
    assert outcome.ok, outcome.message
    assert outcome.details["attempts"] == 2 and runs.read_text() == "run\nrun\n"
    assert git(origin, "log", "--format=%s", "-2", "main").splitlines() == [
        "gitops: deploy churn v2 to prod",
        "someone else",
    ]
    assert git(origin, "show", f"main:{FILE}") == "image: v2"
    assert git(origin, "show", "main:README") == "hello"


def test_the_writer_commits_in_memory_keeping_modes_and_every_other_path(work: Repo) -> None:
    writer = GitWriter(work.path, "origin", "Deploy Bot <bot@example.com>", 60.0)
    parent = work.rev()
    commit = writer.commit(parent, FILE, "image: v3\n", "deploy v3")
    assert git(work.path, "rev-parse", f"{commit}^") == parent
    assert git(work.path, "diff", "--name-only", parent, commit) == FILE
    assert git(work.path, "show", f"{commit}:{FILE}") == "image: v3"
    assert git(work.path, "ls-tree", commit, "run.sh").startswith("100755 ")  # still executable
    who = git(work.path, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%B", commit)
    assert who == "Deploy Bot <bot@example.com>|Deploy Bot <bot@example.com>|deploy v3"
    executable = writer.commit(parent, "run.sh", "#!/bin/sh\nexit 0\n", "edit the script")
    assert git(work.path, "ls-tree", executable, "run.sh").startswith("100755 ")
    assert git(work.path, "fsck", "--strict", "--no-dangling") == ""
    assert work.rev() == parent and git(work.path, "status", "--porcelain") == ""
    with pytest.raises(Exception, match="k8s is not a regular file"):
        writer.commit(parent, "k8s", "x", "a directory is not a file")


def test_the_writer_raises_rejected_only_for_a_race(work: Repo, origin: Path) -> None:
    writer = GitWriter(work.path, "origin", "Deploy Bot <bot@example.com>", 60.0)
    base = work.rev()
    first = writer.commit(base, FILE, "image: a\n", "a")
    writer.push(first, "main")
    assert git(work.path, "rev-parse", "refs/remotes/origin/main") == first
    with pytest.raises(Rejected, match=r"main moved on origin \(non-fast-forward\)"):
        writer.push(writer.commit(base, FILE, "image: b\n", "b"), "main")  # based on the old tip
    server_hook(origin, "update", "echo 'main is frozen' >&2; exit 1")
    with pytest.raises(PushRefused, match="main is frozen"):
        writer.push(writer.commit(first, FILE, "image: c\n", "c"), "main")
    assert git(origin, "rev-parse", "main") == first


def test_threads_deploying_from_one_clone_lose_no_update(work: Repo, origin: Path) -> None:
    """Two environments deploy at once through one clone (the applier's threads): each push
    sends its own commit, the loser redoes its edit on the winner's, nothing is lost."""
    errors: list[str] = []

    def deploy(env: str) -> None:
        driver = make_driver(
            {"driver": "manifest", "file": "envs.yaml", "create": True, "branch": "main"}
            | {"set": {f"{env}.tag": "{version}"}}
        )
        for i in range(4):
            req = DeployRequest(
                env, "churn", env, f"{env}.{i}", "c" * 40, None, None, work.path, 60
            )
            outcome = driver.deploy(req)
            if not outcome.ok:
                errors.append(outcome.message)

    (work.path / "envs.yaml").write_text("prod:\nstaging:\n")
    git(work.path, "add", "envs.yaml")
    git(work.path, "commit", "-q", "-m", "envs")
    git(work.path, "push", "-q", "origin", "main")
    threads = [threading.Thread(target=deploy, args=(env,)) for env in ("prod", "staging")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    final = git(origin, "show", "main:envs.yaml")
    assert final == "prod:\n  tag: prod.3\nstaging:\n  tag: staging.3"
    subjects = git(origin, "log", "--format=%s", "main").splitlines()
    assert len([s for s in subjects if s.startswith("gitops: deploy")]) == 8
    assert git(work.path, "for-each-ref", "refs/gitops/outgoing") == ""  # none left behind


def _children(name: str, cwd: Path) -> list[str]:
    """Our child processes running ``name`` in ``cwd`` (Linux's /proc)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            where = Path(os.readlink(proc / "cwd"))
        except OSError:
            continue
        if ppid == os.getpid() and name in cmdline and where == cwd.resolve():
            found.append(cmdline)
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_the_writers_git_processes_end_with_it(work: Repo) -> None:
    writer = GitWriter(work.path, "origin", "Deploy Bot <bot@example.com>", 60.0)
    writer.commit(work.rev(), FILE, "image: v3\n", "deploy v3")
    assert _children("cat-file", work.path)  # GitPython reads through long-lived cat-file
    del writer
    assert _children("cat-file", work.path) == []


# -- the registry's --push ----------------------------------------------------------------------


def run_gitops(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [GITOPS, *args, "-r", str(repo)],
        capture_output=True,
        text=True,
        env={**os.environ, **BASE_ENV},
        timeout=60,
    )


def test_a_tag_refused_by_a_hook_says_so(work: Repo, origin: Path) -> None:
    runs = server_hook(
        origin, "update", 'case "$1" in refs/tags/*) echo "tags are protected" >&2; exit 1;; esac'
    )
    result = run_gitops(work.path, "register", "churn", "--push")
    assert result.returncode == 1, result.stderr
    assert "Created git tag 'churn@v0.0.1'" in result.stdout
    assert result.stderr.startswith(
        "error: git push to origin refused refs/tags/churn@v0.0.1 (hook declined)"
    )
    assert "remote: tags are protected" in result.stderr
    assert "hint: tags like churn@v0.0.1 are protected" in result.stderr
    assert "Traceback" not in result.stderr
    assert runs.read_text() == "run\n"
    assert git(origin, "tag", "-l") == ""


def test_a_tag_name_already_taken_on_the_remote_is_a_refusal_not_a_race(
    work: Repo, origin: Path
) -> None:
    """Someone else registered the same version first, from another clone."""
    git(origin, "tag", "-a", "-m", "someone else's", "churn@v0.0.1", "main", env=WHO)
    result = run_gitops(work.path, "register", "churn", "--push")
    assert result.returncode == 1, result.stderr
    assert "refused refs/tags/churn@v0.0.1 (already exists)" in result.stderr
    assert "tags are never overwritten: fetch the remote's tags" in result.stderr
    assert git(origin, "cat-file", "-p", "churn@v0.0.1").endswith("someone else's")


WHO = {"GIT_COMMITTER_NAME": "o", "GIT_COMMITTER_EMAIL": "o@x"}


def test_a_tag_that_lost_a_race_is_pushed_again_and_then_found_taken(
    work: Repo, origin: Path
) -> None:
    """Another push creates the same tag name while ours is received ("failed to update ref"):
    the push is tried again, and the name, now taken by other content, is a refusal."""
    git(origin, "tag", "-a", "-m", "someone else's", "parked", "main", env=WHO)
    theirs = git(origin, "rev-parse", "parked")
    move = (
        "[ -e moved ] || { touch moved; env -u GIT_QUARANTINE_PATH -u GIT_OBJECT_DIRECTORY "
        f"git update-ref refs/tags/churn@v0.0.1 {theirs}; }}"
    )
    runs = server_hook(origin, "pre-receive", move)
    result = run_gitops(work.path, "register", "churn", "--push")
    assert result.returncode == 1, result.stderr
    assert "refused refs/tags/churn@v0.0.1 (already exists)" in result.stderr
    assert runs.read_text() == "run\n"  # the second push never reached the hook: git saw it
    assert git(origin, "rev-parse", "churn@v0.0.1") == theirs


# -- wording ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("retries", "said"), [(0, "after 1 try:"), (2, "after 3 tries:")])
def test_health_says_try_or_tries(tmp_path: Path, retries: int, said: str) -> None:
    check = HealthCheck(command=[sys.executable, "-c", "raise SystemExit(3)"], retries=retries)
    check.interval = 0
    healthy, message = check_health(check, request(tmp_path), sleep=lambda _: None)
    assert not healthy and f"unhealthy {said}" in message
