"""The action's ``pull: true`` (gto-action's ``pull``): the pushed tag's version lands in the
workspace at its path, fetched from the DVC remote in a fresh CI checkout, byte-identical to
``dvc pull``; the output ``pulled-path`` says where. GitHub and GitLab, as their runners run it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cienv import Origin, checkout_like_github, checkout_like_gitlab, run_github, run_gitlab
from dvcrepo import DVC, Registry, build_registry, dvc, dvc_pulled, tree_digest
from gitutil import git

pytest.importorskip("dvc.api", reason="dvc is a test dependency: pip install -e '.[test]'")
pytestmark = pytest.mark.skipif(not DVC.exists(), reason="the dvc CLI is a test dependency")

T_STAGE = 1_760_200_000


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    return build_registry(tmp_path_factory.mktemp("dvcpull"))


@pytest.fixture
def origin(registry: Registry, tmp_path: Path) -> Origin:
    """The registry (its own copy) published to a bare origin."""
    own = registry.copy(tmp_path / "own")
    o = Origin.__new__(Origin)
    o.tmp, o.dev, o.bare = tmp_path, own.repo, tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(o.bare)], check=True)
    git(own.path, "remote", "add", "origin", str(o.bare))
    o.registry = own  # type: ignore[attr-defined]
    return o


def push(o: Origin, tag: str, target: str, n: int) -> str:
    o.dev.tag(tag, o.dev.rev(f"{target}^{{commit}}"), epoch=T_STAGE + n)
    o.publish()
    return o.dev.rev(tag)


def github(tmp: Path, o: Origin, tag: str, **inputs: str):
    ws = checkout_like_github(o, tmp / "ws", tag)
    payload = {"ref": f"refs/tags/{tag}", "deleted": False, "head_commit": {"id": o.dev.rev(tag)}}
    return ws, run_github(tmp, ws, "push", payload, f"refs/tags/{tag}", o.dev.rev(tag), inputs)


def test_github_pulls_a_dvc_folder_into_the_workspace(tmp_path: Path, origin: Origin) -> None:
    push(origin, "embed#prod#1", "embed@v1.0.0", 1)
    ws, run = github(tmp_path, origin, "embed#prod#1", pull="true")
    assert run.code == 0, run.stdout + run.stderr
    assert run.outputs["pulled-path"] == "models/embed"
    pulled = dvc_pulled(origin.registry, tmp_path / "pulled", "v1.0.0", "models/embed")  # type: ignore[attr-defined]
    assert tree_digest(ws / "models" / "embed") == tree_digest(pulled)
    assert "3 files" in run.stdout and "from the DVC remote" in run.stdout
    assert not [p for p in (ws / "models").iterdir() if p.name.startswith(".gitops-pull-")]


def test_a_stage_tag_pulls_the_version_it_assigns(tmp_path: Path, origin: Origin) -> None:
    push(origin, "churn#prod#1", "churn@v1.0.0", 1)
    ws, run = github(tmp_path, origin, "churn#prod#1", pull="true")
    assert run.code == 0, run.stdout + run.stderr
    assert (ws / "models" / "churn.pkl").read_bytes() == b"churn model one\x00\x01\x02"
    assert run.outputs["pulled-path"] == "models/churn.pkl"


def test_without_pull_nothing_is_fetched(tmp_path: Path, origin: Origin) -> None:
    push(origin, "churn#prod#1", "churn@v2.0.0", 1)
    ws, run = github(tmp_path, origin, "churn#prod#1")
    assert run.code == 0, run.stdout + run.stderr
    assert run.outputs["pulled-path"] == "" and not (ws / "models" / "churn.pkl").exists()


def test_a_version_kept_in_git_is_already_there(tmp_path: Path, origin: Origin) -> None:
    push(origin, "small#prod#1", "small@v2.0.0", 1)
    ws, run = github(tmp_path, origin, "small#prod#1", pull="true")
    assert run.code == 0, run.stdout + run.stderr
    assert run.outputs["pulled-path"] == "models/small.json"
    assert "already in the checkout" in run.stdout


def test_no_path_annotated_fails_as_gto_action_does(tmp_path: Path, origin: Origin) -> None:
    push(origin, "bare@v1.0.0", "HEAD", 1)
    _, run = github(tmp_path, origin, "bare@v1.0.0", pull="true")
    assert run.code == 1
    assert "pull: bare v1.0.0: no path for it in artifacts.yaml or dvc.yaml" in run.outputs["error"]
    assert run.outputs["name"] == "bare"  # the other outputs are still written


def test_a_version_never_pushed_fails_the_job_and_leaves_nothing(
    tmp_path: Path, origin: Origin
) -> None:
    own = origin.dev.path  # `dvc add` without `dvc push`: the remote lacks the object
    (own / "models" / "churn.pkl").chmod(0o644)
    (own / "models" / "churn.pkl").write_bytes(b"churn three, never pushed")
    dvc(own, "add", "-q", "models/churn.pkl")
    git(own, "add", "-A")
    sha = origin.dev.commit("v3", files={}, epoch=T_STAGE)
    origin.dev.tag("churn@v3.0.0", sha, epoch=T_STAGE + 5)
    push(origin, "churn#prod#1", "churn@v3.0.0", 10)
    ws, run = github(tmp_path, origin, "churn#prod#1", pull="true")
    assert run.code == 1
    assert "pull: churn v3.0.0: models/churn.pkl" in run.outputs["error"]
    assert "neither DVC's cache nor DVC remote store" in run.outputs["error"]
    assert run.outputs["pulled-path"] == ""
    assert not (ws / "models" / "churn.pkl").exists()
    assert not [p for p in (ws / "models").iterdir() if p.name.startswith(".gitops-pull-")]
    assert "Traceback" not in run.stdout + run.stderr


def test_gitlab_pulls_and_says_where_in_the_dotenv(tmp_path: Path, origin: Origin) -> None:
    push(origin, "sub=clf#prod#1", "sub=clf@v2.0.0", 1)
    ws = checkout_like_gitlab(origin, tmp_path / "ws", "sub=clf#prod#1")
    variables = {
        "CI_PIPELINE_SOURCE": "push",
        "CI_COMMIT_TAG": "sub=clf#prod#1",
        "CI_COMMIT_SHA": origin.dev.rev("sub=clf#prod#1^{commit}"),
        "CI_COMMIT_REF_NAME": "sub=clf#prod#1",
    }
    run = run_gitlab(tmp_path, ws, variables, {"pull": "true"})
    assert run.code == 0, run.stdout + run.stderr
    assert run.outputs["GITOPS_PULLED_PATH"] == "sub/clf.pkl"
    assert (ws / "sub" / "clf.pkl").read_bytes() == b"sub clf two"
