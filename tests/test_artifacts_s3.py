"""DVC-tracked models in an S3 remote: a real S3-compatible server on loopback (moto's server,
with authentication on), a repository made with the real ``dvc`` CLI and pushed there, and
``gitops`` fetching from it in fresh clones, as CI does: the bytes equal ``dvc pull``'s,
credentials come the way DVC takes them, and every fault is one clear line that leaves the
environment on its old version, with no secret in any output."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from deploy_fixtures import gitops
from dvcrepo import DVC, ENV, dvc, tree_digest
from gitutil import Repo, git
from s3_server import MOTO, S3Server, free_port, start

from gitops.artifacts.fetch import fetch
from gitops.artifacts.resolve import resolve

pytest.importorskip("dvc_s3", reason="dvc-s3 is a test dependency: pip install -e '.[test]'")
pytest.importorskip("moto", reason="moto[server] is a test dependency: pip install -e '.[test]'")
pytestmark = pytest.mark.skipif(
    not (DVC.exists() and MOTO.exists()), reason="the dvc CLI and moto_server are test dependencies"
)

T0 = 1_760_000_000
CHURN = {"v1.0.0": b"s3 churn one", "v2.0.0": b"s3 churn two, longer"}
EMBED = {"a.bin": b"\x01" * 5000, "b/c.txt": b"nested\n"}


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    server = start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def origin(s3: S3Server, tmp_path_factory: pytest.TempPathFactory) -> Repo:
    """churn (a file) and embed (a folder) in two versions, pushed to s3://models/store."""
    repo = Repo(tmp_path_factory.mktemp("s3reg") / "repo")
    root, env = repo.path, ENV | s3.env()

    def run(*args: str) -> None:
        proc = subprocess.run(
            [str(DVC), *args], cwd=root, env=env, capture_output=True, text=True, timeout=300
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr

    run("init", "-q")
    run("remote", "add", "-d", "s3store", f"s3://{s3.bucket}/store")
    run("remote", "modify", "s3store", "endpointurl", s3.endpoint)
    (root / "artifacts.yaml").write_text(
        "churn: {type: model, path: models/churn.pkl}\nembed: {type: model, path: models/embed}\n"
    )
    for i, (version, churn) in enumerate(CHURN.items()):
        (root / "models" / "embed" / "b").mkdir(parents=True, exist_ok=True)
        (root / "models" / "churn.pkl").write_bytes(churn)
        for name, content in EMBED.items():
            (root / "models" / "embed" / name).write_bytes(content + version.encode())
        run("add", "-q", "models/churn.pkl", "models/embed")
        run("push", "-q")
        git(root, "add", "-A")
        sha = repo.commit(version, files={}, epoch=T0 + 100 * i)
        repo.tag(f"churn@{version}", sha, epoch=T0 + 100 * i + 1)
        repo.tag(f"embed@{version}", sha, epoch=T0 + 100 * i + 2)
    return repo


def clone(origin: Repo, dest: Path, ref: str | None = None) -> Path:
    subprocess.run(["git", "clone", "-q", str(origin.path), str(dest)], check=True, timeout=60)
    if ref:
        git(dest, "checkout", "-q", ref)
    return dest


def dvc_pulled(origin: Repo, s3: S3Server, dest: Path, version: str, path: str) -> Path:
    work = clone(origin, dest, origin.rev(f"churn@{version}"))
    proc = subprocess.run(
        [str(DVC), "pull", "-q", path], cwd=work, env=ENV | s3.env(), capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return work / path


def test_resolve_names_the_s3_objects(origin: Repo, s3: S3Server) -> None:
    source = resolve(origin.path, "churn", "models/churn.pkl", origin.rev("churn@v2.0.0"))
    assert (source.remote, source.remote_url) == ("s3store", "s3://models/store")
    key = f"store/files/md5/{source.md5[:2]}/{source.md5[2:]}"
    assert source.url == f"s3://models/{key}"
    body = s3.client().get_object(Bucket="models", Key=key)["Body"].read()
    assert body == CHURN["v2.0.0"]


@pytest.mark.parametrize("path", ["models/churn.pkl", "models/embed"])
def test_a_fresh_clone_fetches_what_dvc_pull_gives(
    origin: Repo, s3: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    for name, value in s3.env().items():  # the usual AWS variables: DVC reads them
        monkeypatch.setenv(name, value)
    work = clone(origin, tmp_path / "ci")
    name = path.rpartition("/")[2].partition(".")[0]
    source = resolve(work, name, path, origin.rev("churn@v2.0.0"))
    fetched = fetch(work, source, tmp_path / "out")
    assert fetched.origin == "remote"
    expected = tree_digest(dvc_pulled(origin, s3, tmp_path / "pulled", "v2.0.0", path))
    assert tree_digest(fetched.path) == expected


def test_credentials_in_config_local(
    origin: Repo, s3: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    work = clone(origin, tmp_path / "ci")
    dvc(work, "remote", "modify", "--local", "s3store", "access_key_id", s3.key_id)
    dvc(work, "remote", "modify", "--local", "s3store", "secret_access_key", s3.secret)
    source = resolve(work, "churn", "models/churn.pkl", origin.rev("churn@v1.0.0"))
    fetched = fetch(work, source, tmp_path / "out")
    assert fetched.path.read_bytes() == CHURN["v1.0.0"]
    assert s3.secret not in json.dumps(source.to_json()) + source.describe()


def _deploy_v1(origin: Repo, s3: S3Server, tmp_path: Path) -> tuple[Path, Path]:
    """A CI checkout whose two environments run churn v1, deployed from S3."""
    work = clone(origin, tmp_path / "ci")
    deployed = tmp_path / "deployed"
    environments = {
        name: {"stage": "prod", "deploy": {"driver": "local", "dir": str(deployed)}}
        for name in ("blue", "green")
    }
    (work / "gitops.yaml").write_text(
        yaml.safe_dump({"state": {"store": "file"}, "environments": environments})
    )
    (work / ".gitignore").write_text(".gitops/\n")
    _stage(work, "churn@v1.0.0", 1)
    result = gitops(work, "apply", env=s3.env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("fetched models/churn.pkl at") == 1  # once for both
    for env in ("blue", "green"):
        target = deployed / env / "churn" / "models" / "churn.pkl"
        assert target.read_bytes() == CHURN["v1.0.0"]
    return work, deployed


def _stage(work: Path, version_tag: str, n: int) -> None:
    """Assign the version to prod in the CI checkout (the shared origin stays as it is)."""
    who = {
        "GIT_COMMITTER_NAME": "Tagger",
        "GIT_COMMITTER_EMAIL": "tagger@example.com",
        "GIT_COMMITTER_DATE": f"{T0 + 1000 + n} +0000",
    }
    commit = git(work, "rev-parse", f"{version_tag}^{{commit}}")
    git(work, "tag", "-a", f"churn#prod#{n}", commit, "-m", "assign", env=who)


@pytest.fixture
def object_v2(origin: Repo, s3: S3Server) -> Iterator[tuple[str, bytes]]:
    """churn v2's object key and bytes, put back after a test broke it."""
    source = resolve(origin.path, "churn", "models/churn.pkl", origin.rev("churn@v2.0.0"))
    key = f"store/files/md5/{source.md5[:2]}/{source.md5[2:]}"
    yield key, CHURN["v2.0.0"]
    s3.client().put_object(Bucket="models", Key=key, Body=CHURN["v2.0.0"])


@pytest.mark.parametrize("fault", ["missing", "corrupt", "wrong credentials", "server down"])
def test_a_fault_fails_the_deploy_and_the_old_version_stays(
    origin: Repo, s3: S3Server, tmp_path: Path, object_v2: tuple[str, bytes], fault: str
) -> None:
    work, deployed = _deploy_v1(origin, s3, tmp_path)
    key, _ = object_v2
    env = s3.env()
    if fault == "missing":
        s3.client().delete_object(Bucket="models", Key=key)
        expected = "the object is in neither DVC's cache nor DVC remote s3store (s3://models/store)"
    elif fault == "corrupt":
        s3.client().put_object(Bucket="models", Key=key, Body=b"not the model")
        expected = "do not match DVC's record"
    elif fault == "wrong credentials":
        env["AWS_SECRET_ACCESS_KEY"] = "wrong-" + s3.secret[6:]
        expected = "PermissionError: Forbidden (check the remote's credentials"
    else:
        closed = f"http://127.0.0.1:{free_port()}"
        dvc(work, "remote", "modify", "--local", "s3store", "endpointurl", closed)
        expected = "cannot fetch models/churn.pkl from DVC remote s3store (s3://models/store)"
    _stage(work, "churn@v2.0.0", 2)
    started = time.monotonic()
    result = gitops(work, "apply", env=env, timeout=300)
    seconds = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert expected in output, output
    assert "rolled back" not in output  # nothing changed there: nothing to roll back
    assert "Traceback" not in output
    assert seconds < 120, f"{fault}: {seconds:.0f} s"
    for name in ("blue", "green"):
        target = deployed / name / "churn" / "models" / "churn.pkl"
        assert target.read_bytes() == CHURN["v1.0.0"]  # the old version runs
    plan = json.loads(gitops(work, "plan", "--json", env=env).stdout)
    assert {a["failed_before"] for a in plan["actions"] if a["artifact"] == "churn"} == {True}
    state = "".join(p.read_text() for p in (work / ".gitops").rglob("*.json"))
    for secret in (s3.secret, env["AWS_SECRET_ACCESS_KEY"]):
        assert secret not in output and secret not in state
