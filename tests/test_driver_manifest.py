"""The manifest driver on real repositories with a real bare ``origin``: write, commit and push,
a push rejected because another clone moved first, two processes racing, PR mode's git half."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from forge_fixtures import forge_fixture  # noqa: F401 - the `forge` fixture
from forge_server import ACTIONS_BOT_LOGIN, ForgeServer
from gitutil import BASE_ENV, Repo, git
from pydantic import ValidationError

from gitops.deploy.drivers.base import DeployRequest
from gitops.deploy.drivers.manifest import ManifestDriver, ManifestSettings, pr_branch
from gitops.deploy.drivers.registry import make_driver
from gitops.forge.github import GitHub
from gitops.forge.http import RetryPolicy

ISVC = textwrap.dedent(
    """\
    # Served by KServe; Argo CD syncs this file.
    apiVersion: serving.kserve.io/v1beta1
    kind: InferenceService
    metadata:
      name: churn   # the model's name
    spec:
      predictor:
        model:
          modelFormat: {name: sklearn}
          storageUri: "s3://models/churn/v1.0.0"  # set by gitops
    """
)
FILE = "k8s/prod/isvc.yaml"
URI = "spec.predictor.model.storageUri"


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """The driver's git calls must not read the machine's git config."""
    for name, value in BASE_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    return bare


@pytest.fixture
def work(tmp_path: Path, origin: Path) -> Repo:
    repo = Repo(tmp_path / "work")
    repo.commit("add manifests", {FILE: ISVC, "values.yaml": "prod:\n  tag: v1\nstaging:\n"})
    git(repo.path, "remote", "add", "origin", str(origin))
    git(repo.path, "push", "-q", "origin", "main")
    return repo


def clone(origin: Path, path: Path) -> Path:
    subprocess.run(["git", "clone", "-q", str(origin), str(path)], check=True, env=_env())
    git(path, "config", "user.name", "Other Person")
    git(path, "config", "user.email", "other@example.com")
    return path


def _env() -> dict[str, str]:
    return {**os.environ, **BASE_ENV}


def request(repo: Path, version: str | None = "v1.2.0", **changes: object) -> DeployRequest:
    facts: dict = dict(
        environment="prod",
        artifact="churn",
        stage="prod",
        version=version,
        commit="c0ffee" * 6 + "c0fe",
        previous_version="v1.0.0",
        path="models/churn",
        repo=repo,
        timeout=60.0,
        run_url="https://ci.example.com/run/1",
    )
    return DeployRequest(**{**facts, **changes})


def manifest(**settings: object) -> ManifestDriver:
    base = {"driver": "manifest", "file": FILE, "set": {URI: "s3://models/{artifact}/{version}"}}
    driver = make_driver({**base, **settings})
    assert isinstance(driver, ManifestDriver)
    return driver


def expected(version: str) -> str:
    return ISVC.replace("s3://models/churn/v1.0.0", f"s3://models/churn/{version}")


def at(repo: Path, ref: str, file: str = FILE) -> str:
    return git(repo, "show", f"{ref}:{file}") + "\n"


def test_write_mode_edits_only_the_work_tree(work: Repo) -> None:
    head = work.rev()
    outcome = manifest(mode="write").deploy(request(work.path))
    assert outcome.ok, outcome.message
    assert (work.path / FILE).read_text() == expected("v1.2.0")
    assert work.rev() == head
    again = manifest(mode="write").deploy(request(work.path))
    assert again.ok and "already has" in again.message


def test_dry_run_changes_nothing(work: Repo, origin: Path) -> None:
    outcome = manifest().deploy(request(work.path, dry_run=True))
    assert outcome.ok and outcome.message.startswith("would set")
    assert (work.path / FILE).read_text() == ISVC
    assert git(origin, "rev-parse", "main") == work.rev()


def test_commit_and_push(work: Repo, origin: Path) -> None:
    before = work.rev()
    outcome = manifest(branch="main").deploy(request(work.path))
    assert outcome.ok, outcome.message
    sha = outcome.details["commit"]
    assert git(origin, "rev-parse", "main") == sha
    assert git(origin, "rev-parse", f"{sha}^") == before  # one commit on top
    assert at(origin, "main") == expected("v1.2.0")
    subject = git(origin, "log", "-1", "--format=%s", "main")
    assert subject == "gitops: deploy churn v1.2.0 to prod"
    body = git(origin, "log", "-1", "--format=%b", "main")
    assert "Version: v1.2.0 (was v1.0.0)" in body and "Run: https://ci.example.com/run/1" in body
    author = git(origin, "log", "-1", "--format=%an <%ae>|%cn <%ce>", "main")
    assert (
        author
        == "gitops <gitops@users.noreply.github.com>|gitops <gitops@users.noreply.github.com>"
    )
    assert git(origin, "diff", "--name-only", before, sha) == FILE
    # the user's checkout is untouched: a push deploys, the local branch catches up on pull
    assert work.rev() == before and (work.path / FILE).read_text() == ISVC
    # applying the same deploy again changes nothing
    again = manifest(branch="main").deploy(request(work.path))
    assert again.ok and "already has" in again.message
    assert git(origin, "rev-parse", "main") == sha


def test_commit_with_custom_author_and_message(work: Repo, origin: Path) -> None:
    driver = manifest(
        author="Deploy Bot <bot@example.com>", message="deploy({environment}): {version}"
    )
    outcome = driver.deploy(request(work.path))
    assert outcome.ok, outcome.message  # branch defaults to the checked-out one: main
    assert git(origin, "log", "-1", "--format=%an <%ae>|%s", "main") == (
        "Deploy Bot <bot@example.com>|deploy(prod): v1.2.0"
    )


def test_commit_without_push_moves_the_local_branch_and_its_file(work: Repo) -> None:
    before = work.rev()
    outcome = manifest(push=False).deploy(request(work.path))
    assert outcome.ok, outcome.message
    assert git(work.path, "rev-parse", "main") == outcome.details["commit"] != before
    assert (work.path / FILE).read_text() == expected("v1.2.0")
    assert git(work.path, "status", "--porcelain") == ""


def test_commit_without_push_refuses_a_file_with_local_edits(work: Repo) -> None:
    (work.path / FILE).write_text(ISVC + "# my edit\n")
    outcome = manifest(push=False).deploy(request(work.path))
    assert not outcome.ok and "uncommitted changes" in outcome.message
    assert (work.path / FILE).read_text() == ISVC + "# my edit\n"  # nothing the user made is lost


def test_detached_head_uses_the_remote_default_branch(work: Repo, origin: Path) -> None:
    git(work.path, "checkout", "-q", "--detach")
    git(work.path, "remote", "set-head", "origin", "main")
    outcome = manifest().deploy(request(work.path))
    assert outcome.ok, outcome.message
    assert outcome.details["branch"] == "main"
    assert at(origin, "main") == expected("v1.2.0")


def install_pre_push_hook(repo: Path, other: Path) -> None:
    """Before our first push, another clone pushes its own commit to origin first."""
    hook = repo / ".git" / "hooks" / "pre-push"
    marker = repo / ".git" / "raced"
    hook.write_text(
        textwrap.dedent(
            f"""\
            #!/bin/sh
            unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE
            [ -e '{marker}' ] && exit 0
            touch '{marker}'
            cd '{other}' || exit 1
            sed 's/  tag: v1/  tag: v9/' values.yaml > values.tmp && mv values.tmp values.yaml
            git commit -qam 'someone else deploys' && git push -q origin main
            """
        )
    )
    hook.chmod(hook.stat().st_mode | stat.S_IEXEC)


def test_rejected_push_is_redone_on_the_new_tip(work: Repo, origin: Path, tmp_path: Path) -> None:
    other = clone(origin, tmp_path / "other")
    install_pre_push_hook(work.path, other)
    outcome = manifest().deploy(request(work.path))
    assert outcome.ok, outcome.message
    assert outcome.details["attempts"] == 2
    # no lost update: both commits are on main, ours on top of theirs, nothing forced
    log = git(origin, "log", "--format=%s", "main").splitlines()
    assert log[:2] == ["gitops: deploy churn v1.2.0 to prod", "someone else deploys"]
    assert at(origin, "main") == expected("v1.2.0")
    assert at(origin, "main", "values.yaml") == "prod:\n  tag: v9\nstaging:\n"


RACER = """
import sys, time
from pathlib import Path
from gitops.deploy.drivers.base import DeployRequest
from gitops.deploy.drivers.registry import make_driver
from gitops.forge.github import GitHub
from gitops.forge.http import RetryPolicy

repo, env, value, gate = Path(sys.argv[1]), sys.argv[2], sys.argv[3], Path(sys.argv[4])
driver = make_driver({"driver": "manifest", "file": "values.yaml", "create": True,
                      "branch": "main", "set": {env + ".tag": "{version}"}})
(gate / env).touch()  # ready
while not (gate / "go").exists():  # start together
    time.sleep(0.005)
for i in range(4):
    req = DeployRequest(env, "churn", env, f"{value}.{i}", "c" * 40, None, None, repo, 60.0)
    outcome = driver.deploy(req)
    print(outcome.ok, outcome.details.get("attempts"), outcome.message, flush=True)
    if not outcome.ok:
        sys.exit(1)
"""


def test_two_processes_racing_lose_no_update(work: Repo, origin: Path, tmp_path: Path) -> None:
    """Two real processes deploy to one branch at once: every deploy lands, none is lost."""
    second = clone(origin, tmp_path / "second")
    script, gate = tmp_path / "racer.py", tmp_path / "gate"
    script.write_text(RACER)
    gate.mkdir()
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(path), env, value, str(gate)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=_env(),
        )
        for path, env, value in ((work.path, "prod", "p"), (second, "staging", "s"))
    ]
    while not ((gate / "prod").exists() and (gate / "staging").exists()):
        assert all(p.poll() is None for p in procs), [p.communicate()[0] for p in procs]
        time.sleep(0.01)
    (gate / "go").touch()
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert at(origin, "main", "values.yaml") == "prod:\n  tag: p.3\nstaging:\n  tag: s.3\n"
    subjects = git(origin, "log", "--format=%s", "main").splitlines()
    assert len(subjects) == 9  # eight deploys, each its own commit, plus the first commit


def test_removal_keeps_the_file_unless_told(work: Repo, origin: Path) -> None:
    outcome = manifest().deploy(request(work.path, version=None))
    assert outcome.ok and "nothing to remove" in outcome.message
    assert at(origin, "main") == ISVC
    driver = manifest(remove={URI: "s3://models/{artifact}/retired"})
    outcome = driver.deploy(request(work.path, version=None))
    assert outcome.ok, outcome.message
    assert at(origin, "main") == ISVC.replace("v1.0.0", "retired")
    assert git(origin, "log", "-1", "--format=%s", "main") == "gitops: remove churn from prod"


def test_bad_path_fails_with_file_and_line(work: Repo, origin: Path) -> None:
    driver = manifest(set={"spec.predictor.model.storageURI": "s3://x/{version}"})
    outcome = driver.deploy(request(work.path))
    assert not outcome.ok
    assert f"{FILE}:8" in outcome.message and "storageURI" in outcome.message
    assert git(origin, "rev-parse", "main") == work.rev()


def test_missing_remote_branch_and_missing_remote(work: Repo) -> None:
    outcome = manifest(branch="release").deploy(request(work.path))
    assert not outcome.ok and "no branch 'release'" in outcome.message
    git(work.path, "remote", "remove", "origin")
    outcome = manifest().deploy(request(work.path))
    assert not outcome.ok and "fetch" in outcome.message


def test_pr_mode_without_a_forge_fails_clearly(work: Repo, origin: Path) -> None:
    outcome = manifest(mode="pr").deploy(request(work.path))
    assert not outcome.ok and "forge" in outcome.message
    assert git(origin, "branch", "--list") == "* main"


def test_pr_mode_pushes_the_proposal_branch(work: Repo, origin: Path, tmp_path: Path) -> None:
    """The git half of PR mode (``push_proposal``): branch and commits, no PR."""
    driver = manifest(mode="pr")
    head = "gitops/deploy/prod/churn"
    first = driver.push_proposal(request(work.path))
    assert first.ok, first.message
    assert first.details | {"commit": ""} == {
        "file": FILE,
        "branch": head,
        "base": "main",
        "proposed": True,
        "commit": "",
        "attempts": 1,
    }
    assert at(origin, head) == expected("v1.2.0")
    assert at(origin, "main") == ISVC  # the base is untouched until the PR is merged
    # a newer version while the PR is open: one more commit on the same branch, no force
    second = driver.push_proposal(request(work.path, version="v1.3.0"))
    assert second.ok, second.message
    assert git(origin, "rev-parse", f"{head}^") == first.details["commit"]
    assert at(origin, head) == expected("v1.3.0")
    # the same version again: nothing new to push, the proposal stands
    third = driver.push_proposal(request(work.path, version="v1.3.0"))
    assert third.ok and third.details["commit"] == second.details["commit"]
    # after the PR is merged (here: by another clone), a new proposal starts from the base
    other = clone(origin, tmp_path / "other")
    git(other, "merge", "-q", "--ff-only", f"origin/{head}")
    git(other, "push", "-q", "origin", "main")
    fourth = driver.push_proposal(request(work.path, version="v1.3.0"))
    assert fourth.ok and fourth.details["proposed"] is False and "already has" in fourth.message
    fifth = driver.push_proposal(request(work.path, version="v2.0.0"))
    assert git(origin, "rev-parse", f"{head}^") == git(origin, "rev-parse", "main")
    assert fifth.ok and at(origin, head) == expected("v2.0.0")


VALUES = "prod:\n  tag: v1\nstaging:\n"


def mirror_push(forge: ForgeServer, origin: Path, branch: str) -> None:
    """What GitHub does when it receives a push: the branch's commit (same sha, same file)
    becomes known to its API. Our test forge keeps its own git model, so we tell it."""
    sha = git(origin, "rev-parse", branch)
    parent = git(origin, "rev-parse", f"{sha}^")
    forge.add_commit("acme/models", branch, {FILE: at(origin, branch)}, sha=sha, parent=parent)


def github(forge: ForgeServer, work: Repo, token: str = "ghp_deployer", **repo: object) -> GitHub:
    forge.add_repo(
        "acme/models", head_sha=work.rev(), files={FILE: ISVC, "values.yaml": VALUES}, **repo
    )
    return GitHub(forge.github_url, "acme/models", token, retry=RetryPolicy(total=0))


def test_pr_mode_opens_then_updates_one_pull_request(
    work: Repo, origin: Path, forge: ForgeServer
) -> None:
    forge.add_user("deployer", "ghp_deployer")
    driver = manifest(mode="pr")
    driver.forge = github(forge, work)
    head = "gitops/deploy/prod/churn"
    assert driver.push_proposal(request(work.path)).ok
    mirror_push(forge, origin, head)
    outcome = driver.deploy(request(work.path))
    assert outcome.ok, outcome.message
    pull = forge.repo("acme/models").pulls[outcome.details["pr_number"]]
    assert (pull.head_ref, pull.base_ref, pull.state) == (head, "main", "open")
    assert pull.title == "gitops: deploy churn v1.2.0 to prod"
    assert "Version: v1.2.0 (was v1.0.0)" in (pull.body or "")
    assert outcome.details["pr_url"].endswith(f"/pull/{pull.number}")
    assert outcome.details["pending"] is True  # deployed only once someone merges it
    # a newer version while the PR is open: the same PR, one more commit on its branch
    newer = driver.deploy(request(work.path, version="v1.3.0"))
    assert newer.ok, newer.message
    assert newer.details["pr_number"] == pull.number
    assert len(forge.repo("acme/models").pulls) == 1
    assert forge.repo("acme/models").pulls[pull.number].title.endswith("v1.3.0 to prod")
    assert at(origin, head) == expected("v1.3.0") and at(origin, "main") == ISVC


def test_pr_mode_reports_a_forge_refusal(work: Repo, origin: Path, forge: ForgeServer) -> None:
    forge.add_user(ACTIONS_BOT_LOGIN, "ghs_actions", kind="github-app")
    driver = manifest(mode="pr")
    driver.forge = github(forge, work, "ghs_actions", actions_can_create_prs=False)
    assert driver.push_proposal(request(work.path)).ok
    mirror_push(forge, origin, "gitops/deploy/prod/churn")
    outcome = driver.deploy(request(work.path))
    assert not outcome.ok
    assert "not permitted to create" in outcome.message
    assert "ghs_actions" not in outcome.message


def test_pr_branch_names_are_sanitised() -> None:
    assert pr_branch("prod", "churn") == "gitops/deploy/prod/churn"
    assert pr_branch("eu west", "models:churn") == "gitops/deploy/eu-west/models-churn"
    assert pr_branch("..", "a..b.lock") == "gitops/deploy/x/a.b.lock-"
    for name in (pr_branch("-x", "~^:?*[\\"), pr_branch("a b", "c@{d}")):
        check = subprocess.run(["git", "check-ref-format", "--branch", name], check=False)
        assert check.returncode == 0, name


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"set": {URI: "{version.__class__}"}}, "unknown placeholder"),
        ({"set": {URI: "{version!r}"}}, "without ! or :"),
        ({"set": {URI: "{version:>10}"}}, "without ! or :"),
        ({"set": {URI: "{0}"}}, "unknown placeholder"),
        ({"set": {URI: "{secret}"}}, "unknown placeholder"),
        ({"set": {URI: "s3://{version"}}, "literal braces"),
        ({"set": {"spec..x": "v"}}, "bad path"),
        ({"set": {}}, "at least 1"),
        ({"file": "../outside.yaml"}, "inside the repository"),
        ({"file": "/etc/passwd"}, "inside the repository"),
        ({"author": "no email"}, "Name <email"),
        ({"branch": "--force"}, "plain branch"),
        ({"mode": "merge"}, "commit"),
        ({"message": "{artifact.__init__}"}, "unknown placeholder"),
    ],
)
def test_bad_settings_are_config_errors(settings: dict, message: str) -> None:
    base = {"driver": "manifest", "file": FILE, "set": {URI: "x"}}
    with pytest.raises(ValidationError) as caught:
        ManifestSettings.model_validate({**base, **settings})
    assert message in str(caught.value)


def test_literal_braces_and_every_placeholder(work: Repo) -> None:
    template = "{{x}}/{artifact}/{version}/{commit}/{stage}/{environment}/{path}/{previous_version}"
    driver = manifest(mode="write", set={URI: template})
    assert driver.deploy(request(work.path)).ok
    got = (work.path / FILE).read_text()
    assert '"{x}/churn/v1.2.0/' + "c0ffee" * 6 + 'c0fe/prod/prod/models/churn/v1.0.0"' in got
