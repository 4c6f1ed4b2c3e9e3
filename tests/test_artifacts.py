"""DVC-tracked models: resolved from Git at a version's commit, fetched with DVC's machinery,
byte-identical to what ``dvc pull`` gives, deployed by every driver, and every fault a clear
failure that leaves the environment on its old version. Real DVC repositories and remotes
(tests/dvcrepo.py), real ``gitops`` processes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from deploy_fixtures import gitops
from dvcrepo import CONTENT, DVC, PATHS, Registry, build_registry, dvc_pulled, tree_digest
from gitutil import git

from gitops.artifacts.fetch import FetchCache, fetch
from gitops.artifacts.resolve import DVC as DVC_KIND
from gitops.artifacts.resolve import GIT, Want, resolve, resolve_many
from gitops.errors import GitopsError
from gitops.yamlfile import YamlFileError

pytest.importorskip("dvc.api", reason="dvc is a test dependency: pip install -e '.[test]'")
pytestmark = pytest.mark.skipif(not DVC.exists(), reason="the dvc CLI is a test dependency")

T_STAGE = 1_760_100_000


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    return build_registry(tmp_path_factory.mktemp("dvcreg"))


@pytest.fixture
def own(registry: Registry, tmp_path: Path) -> Registry:
    """A copy this test may change (its remotes too)."""
    return registry.copy(tmp_path / "own")


# --- resolve -----------------------------------------------------------------------------------


def test_each_shape_resolves_from_git_without_a_checkout(registry: Registry) -> None:
    commit = registry.commit_of("v2.0.0")
    found = resolve_many(registry.path, [Want(n, _registry_path(n), commit) for n in PATHS])
    got = {w.artifact: s for w, s in found.items()}
    v2 = CONTENT["v2.0.0"]

    churn = got["churn"]
    assert (churn.kind, churn.is_dir, churn.tracked_by) == (DVC_KIND, False, "models/churn.pkl.dvc")
    assert churn.size == len(v2["models/churn.pkl"]) and churn.nfiles == 1
    assert churn.remote == "store" and not churn.legacy
    assert churn.url == str(registry.object_path(churn.md5))
    assert Path(churn.url).read_bytes() == v2["models/churn.pkl"]  # the object itself

    embed = got["embed"]
    assert embed.is_dir and embed.md5.endswith(".dir") and embed.nfiles == 4
    assert embed.size == sum(len(b) for p, b in v2.items() if p.startswith("models/embed/"))
    assert Path(embed.url).is_file() and embed.url.endswith(".dir")  # the folder's manifest

    trained = got["trained"]
    assert (trained.tracked_by, trained.output) == ("pipe/dvc.lock", "out/model.bin")
    assert trained.size == len(v2["params.txt"]) * 3

    special = got["special"]
    assert special.remote == "other"  # the output's own remote, not the default
    assert special.url == str(registry.object_path(special.md5, registry.other))

    clf = got["sub:clf"]
    assert (clf.path, clf.project, clf.tracked_by) == ("sub/clf.pkl", "sub", "sub/clf.pkl.dvc")
    assert clf.remote == "substore"
    assert Path(clf.url).read_bytes() == v2["sub/clf.pkl"]

    small = got["small"]
    assert (small.kind, small.size, small.url) == (GIT, len('{"kept": "in git"}\n'), "")
    assert "Git" in small.describe() and "DVC remote store" in churn.describe()


def _registry_path(name: str) -> str:
    """The path as the registry gives it: a ``dir:name`` artifact's is relative to ``dir``."""
    return PATHS[name].partition("/")[2] if ":" in name else PATHS[name]


def test_a_file_inside_a_folder_output(registry: Registry) -> None:
    inside = resolve(registry.path, "x", "models/embed/vocab.txt", registry.commit_of("v1.0.0"))
    assert (inside.kind, inside.output, inside.tracked_by) == (DVC_KIND, "models/embed",
                                                               "models/embed.dvc")  # fmt: skip
    assert inside.url == "" and inside.size is None  # its object is named in the manifest


def test_neither_in_git_nor_in_dvc_names_what_it_looked_for(registry: Registry) -> None:
    with pytest.raises(GitopsError) as caught:
        resolve(registry.path, "ghost", "models/ghost.pkl", registry.commit_of("v1.0.0"))
    message = str(caught.value)
    assert "models/ghost.pkl of ghost is neither in Git nor tracked by DVC" in message
    assert "models/ghost.pkl.dvc" in message and "dvc.lock" in message


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("outs:\n- md5: 123\n  path: churn.pkl\n- 7\n", "4: each output must be a mapping"),
        ("outs:\n- md5: 123\n\tpath: churn.pkl\n", "3: invalid YAML"),
        ("outs: {path: churn.pkl}\n", "1: outs must be a list"),
    ],
)
def test_a_broken_dvc_file_is_an_error_with_file_and_line(
    own: Registry, text: str, error: str
) -> None:
    (own.path / "models" / "churn.pkl.dvc").write_text(text)
    git(own.path, "commit", "-qam", "broken")
    with pytest.raises(YamlFileError) as caught:
        resolve(own.path, "churn", "models/churn.pkl", own.repo.rev())
    assert str(caught.value).startswith(f"models/churn.pkl.dvc:{error}")


# --- fetch ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "version"),
    [
        ("churn", "v2.0.0"),
        ("embed", "v1.0.0"),
        ("embed", "v2.0.0"),
        ("trained", "v2.0.0"),
        ("special", "v1.0.0"),
        ("sub:clf", "v2.0.0"),
        ("small", "v1.0.0"),
    ],
)
def test_fetch_in_a_fresh_clone_gives_what_dvc_pull_gives(
    registry: Registry, tmp_path: Path, name: str, version: str
) -> None:
    clone = registry.clone(tmp_path / "clone")  # empty cache: everything from the remotes
    source = resolve(clone, name, _registry_path(name), registry.commit_of(version))
    fetched = fetch(clone, source, tmp_path / "out")
    assert fetched.path == tmp_path / "out" / PATHS[name]
    assert fetched.origin == ("git" if name == "small" else "remote")
    if name == "small":
        expected = {"": tree_digest(registry.path / PATHS[name])[""]}
    else:
        expected = tree_digest(dvc_pulled(registry, tmp_path / "pulled", version, PATHS[name]))
    assert tree_digest(fetched.path) == expected
    assert fetched.files == len(expected)
    if name != "small":
        assert not (clone / PATHS[name]).exists()  # the work tree was not touched


def test_fetch_takes_the_local_cache_when_it_has_the_objects(own: Registry, tmp_path: Path) -> None:
    shutil.rmtree(own.remote)  # no remote at all: the cache must serve
    source = resolve(own.path, "embed", "models/embed", own.commit_of("v2.0.0"))
    fetched = fetch(own.path, source, tmp_path / "out")
    assert fetched.origin == "cache"
    assert (
        tree_digest(fetched.path)["vocab.txt"]
        == tree_digest(own.path / "models/embed")["vocab.txt"]
    )


def test_a_run_fetches_a_version_once(registry: Registry, tmp_path: Path) -> None:
    clone = registry.clone(tmp_path / "clone")
    logged: list[str] = []
    cache = FetchCache(clone, logged.append)
    source = cache.source("embed", "models/embed", registry.commit_of("v1.0.0"))
    first, second = cache.get(source), cache.get(source)
    assert first is second and len(logged) == 1 and ": 3 files, " in logged[0]
    folder = first.root
    cache.close()
    assert not folder.exists()  # the run's copies go with the run


# --- deploying: gitops apply -------------------------------------------------------------------


def _environments(repo: Path, deployed: Path, **extra: dict) -> None:
    environments = {
        "staging": {"stage": "prod", "deploy": {"driver": "local", "dir": str(deployed)}},
        "prod": {"stage": "prod", "deploy": {"driver": "local", "dir": str(deployed)}},
        **extra,
    }
    config = {"state": {"store": "file"}, "environments": environments}
    (repo / "gitops.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    (repo / ".gitignore").write_text(".gitops/\n")


def _promote(registry: Registry, name: str, version: str, n: int) -> None:
    prefix = name.replace(":", "=")
    registry.repo.tag(f"{prefix}#prod#{n}", registry.commit_of(version), epoch=T_STAGE + n)


def _tag_into(registry: Registry, clone: Path) -> None:
    git(clone, "fetch", "-q", "--tags", "--force", str(registry.path))


def test_apply_deploys_dvc_models_to_every_environment_fetching_once(
    own: Registry, tmp_path: Path
) -> None:
    for name in ("churn", "embed", "sub:clf"):
        _promote(own, name, "v2.0.0", 1)
    clone = own.clone(tmp_path / "ci")  # as CI has it: no DVC cache
    deployed = tmp_path / "deployed"
    _environments(clone, deployed)
    result = gitops(clone, "apply")
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("churn", "embed", "sub:clf"):
        pulled = dvc_pulled(own, tmp_path / f"pulled-{name}", "v2.0.0", PATHS[name])
        for env in ("staging", "prod"):
            target = deployed / env / name.replace(":", "/") / PATHS[name]
            assert tree_digest(target) == tree_digest(pulled), (env, name)
    # each version fetched once for both environments
    assert result.stdout.count("fetched models/embed at") == 1
    assert result.stdout.count("fetched models/churn.pkl at") == 1
    assert "from the DVC remote" in result.stdout
    # the record keeps DVC's md5s (no second read of the model); an edited file is drift
    marker = json.loads((deployed / "prod" / "embed" / ".gitops-deployed.json").read_text())
    assert marker["hash"] == "md5"
    assert (
        marker["files"]["models/embed/vocab.txt"]
        == hashlib.md5(CONTENT["v2.0.0"]["models/embed/vocab.txt"]).hexdigest()
    )
    edited = deployed / "prod" / "embed" / "models" / "embed" / "vocab.txt"
    edited.chmod(0o644)
    edited.write_bytes(b"edited by hand\n")
    plan = json.loads(gitops(clone, "plan", "--json").stdout)
    [drift] = [a for a in plan["actions"] if a["drift"]]
    assert (drift["environment"], drift["artifact"], drift["kind"]) == ("prod", "embed", "redeploy")
    assert "changed: models/embed/vocab.txt" in drift["drift_reason"]
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob("gitops-fetch-*/0/models/embed"))


def _break(own: Registry, fault: str) -> None:
    """Break what churn v2 needs."""
    source = resolve(own.path, "churn", "models/churn.pkl", own.commit_of("v2.0.0"))
    obj = own.object_path(source.md5)
    if fault == "missing":
        obj.unlink()
    elif fault == "corrupt":
        obj.chmod(0o644)
        obj.write_bytes(b"not the model")
    elif fault == "remote down":
        shutil.rmtree(own.remote)


@pytest.mark.parametrize("fault", ["missing", "corrupt", "remote down", "neither"])
def test_a_fault_fails_the_deploy_and_the_old_version_stays(
    own: Registry, tmp_path: Path, fault: str
) -> None:
    _promote(own, "churn", "v1.0.0", 1)
    clone = own.clone(tmp_path / "ci")
    deployed = tmp_path / "deployed"
    _environments(clone, deployed)
    assert gitops(clone, "apply").returncode == 0
    target = deployed / "prod" / "churn" / "models" / "churn.pkl"
    assert target.read_bytes() == CONTENT["v1.0.0"]["models/churn.pkl"]

    if fault == "neither":  # a version whose path is in neither Git nor DVC
        (own.path / "artifacts.yaml").write_text(
            (own.path / "artifacts.yaml").read_text().replace("models/churn.pkl", "models/gone")
        )
        sha = own.repo.commit(
            "v3", files={"artifacts.yaml": (own.path / "artifacts.yaml").read_text()}
        )
        own.repo.tag("churn@v3.0.0", sha, epoch=T_STAGE + 50)
        own.repo.tag("churn#prod#2", sha, epoch=T_STAGE + 60)
        expected = "models/gone of churn is neither in Git nor tracked by DVC"
    else:
        _break(own, fault)
        _promote(own, "churn", "v2.0.0", 2)
        expected = {
            "missing": "the object is in neither DVC's cache nor DVC remote store",
            "corrupt": "do not match DVC's record",
            "remote down": "the object is in neither DVC's cache nor DVC remote store",
        }[fault]
    _tag_into(own, clone)
    result = gitops(clone, "apply")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert expected in output
    assert "rolled back" not in output  # nothing changed there: nothing to roll back
    assert "Traceback" not in output
    assert target.read_bytes() == CONTENT["v1.0.0"]["models/churn.pkl"]  # old version runs
    assert not [p for p in target.parent.parent.parent.iterdir() if p.name.startswith(".churn")]
    state = json.loads(gitops(clone, "plan", "--json").stdout)
    churn = [a for a in state["actions"] if a["artifact"] == "churn"]
    assert {a["failed_before"] for a in churn} == {True}  # the store recorded the failure


def test_without_the_dvc_extra_one_clear_error(own: Registry, tmp_path: Path) -> None:
    _promote(own, "churn", "v1.0.0", 1)
    clone = own.clone(tmp_path / "ci")
    deployed = tmp_path / "deployed"
    _environments(clone, deployed)
    code = (
        "import sys; sys.modules['dvc'] = None; sys.modules['dvc.api'] = None; "
        "from gitops.cli import run; sys.argv[1:] = ['apply', '-r', sys.argv[1]]; run()"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(clone)], capture_output=True, text=True, timeout=120
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert "models/churn.pkl is tracked by DVC: install gitops-ml[dvc]" in output
    assert "Traceback" not in output and not (deployed / "prod" / "churn").exists()


# --- what the other drivers get ------------------------------------------------------------------

COPY_SCRIPT = """\
import os, shutil, sys
src = os.environ["GITOPS_PATH"]
dest = os.path.join(sys.argv[1], os.environ["GITOPS_ENVIRONMENT"])
(shutil.copytree if os.path.isdir(src) else shutil.copyfile)(src, dest)
open(dest + ".url", "w").write(os.environ["GITOPS_URL"] + "|" + os.environ["GITOPS_SOURCE"])
"""


def test_command_gets_the_fetched_files_and_manifest_the_url(own: Registry, tmp_path: Path) -> None:
    _promote(own, "embed", "v2.0.0", 1)
    clone = own.clone(tmp_path / "ci")
    script, copies = tmp_path / "copy.py", tmp_path / "copies"
    script.write_text(COPY_SCRIPT)
    copies.mkdir()
    (clone / "k8s.yaml").write_text("spec:\n  storageUri: none\n")
    environments = {
        "prod": {
            "stage": "prod",
            "deploy": {"driver": "command", "run": [sys.executable, str(script), str(copies)]},
        },
        "serving": {
            "stage": "prod",
            "deploy": {
                "driver": "manifest",
                "file": "k8s.yaml",
                "mode": "write",
                "set": {"spec.storageUri": "{url}"},
            },
        },
    }
    config = {"state": {"store": "file"}, "environments": environments}
    (clone / "gitops.yaml").write_text(yaml.safe_dump(config))
    (clone / ".gitignore").write_text(".gitops/\n")
    result = gitops(clone, "apply")
    assert result.returncode == 0, result.stdout + result.stderr
    source = resolve(clone, "embed", "models/embed", own.commit_of("v2.0.0"))
    pulled = dvc_pulled(own, tmp_path / "pulled", "v2.0.0", "models/embed")
    assert tree_digest(copies / "prod") == tree_digest(pulled)
    assert (copies / "prod.url").read_text() == f"{source.url}|dvc"
    manifest = yaml.safe_load((clone / "k8s.yaml").read_text())
    assert manifest["spec"]["storageUri"] == source.url == str(own.object_path(source.md5))
    # the manifest needed no bytes: only the command's fetch happened
    assert result.stdout.count("fetched models/embed at") == 1


def test_a_dvc_2_output_keeps_dvc_2_hashing_and_remote_layout(
    own: Registry, tmp_path: Path
) -> None:
    """A `.dvc` file from DVC 2 (no `hash: md5`): md5 of the text with CRLF read as LF, the
    object at `<remote>/<2 hex>/<30 hex>`, its bytes as they were (CRLF)."""
    raw = b"threshold: 0.5\r\nclasses: 2\r\n"
    md5 = hashlib.md5(raw.replace(b"\r\n", b"\n")).hexdigest()
    assert md5 != hashlib.md5(raw).hexdigest()
    obj = own.remote / md5[:2] / md5[2:]
    obj.parent.mkdir(parents=True)
    obj.write_bytes(raw)
    (own.path / "models" / "legacy.txt.dvc").write_text(
        f"outs:\n- md5: {md5}\n  size: {len(raw)}\n  path: legacy.txt\n"
    )
    sha = own.repo.commit(
        "dvc 2 output",
        files={"models/legacy.txt.dvc": (own.path / "models" / "legacy.txt.dvc").read_text()},
    )
    source = resolve(own.path, "legacy", "models/legacy.txt", sha)
    assert source.legacy and source.url == str(obj)
    clone = own.clone(tmp_path / "clone")
    fetched = fetch(clone, source, tmp_path / "out")
    assert fetched.path.read_bytes() == raw and fetched.origin == "remote"
    git(clone, "checkout", "-q", sha)
    dvc_pull = subprocess.run(
        [str(DVC), "pull", "-q", "models/legacy.txt"], cwd=clone, capture_output=True, timeout=120
    )
    assert dvc_pull.returncode == 0, dvc_pull.stderr
    assert (clone / "models" / "legacy.txt").read_bytes() == raw  # what DVC itself gives
    obj.chmod(0o644)
    obj.write_bytes(raw.replace(b"0.5", b"0.9"))  # corrupt: the DVC 2 hash catches it
    with pytest.raises(GitopsError, match="do not match DVC's record"):  # a clone, no cache
        fetch(own.clone(tmp_path / "clone2"), source, tmp_path / "out2")


def test_a_webhook_is_told_where_the_bytes_are_and_nothing_is_fetched(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_driver_webhook import SECRET, Receiver

    from gitops.deploy.drivers.base import DeployRequest
    from gitops.deploy.drivers.registry import make_driver

    monkeypatch.setenv("HOOK_SECRET", SECRET)
    receiver = Receiver()
    try:
        clone = registry.clone(tmp_path / "clone")
        commit = registry.commit_of("v2.0.0")
        cache = FetchCache(clone)
        request = DeployRequest(
            "prod", "churn", "prod", "v2.0.0", commit, None, "models/churn.pkl", clone, 30,
            fetches=cache,
        )  # fmt: skip
        hook = make_driver({"driver": "webhook", "url": receiver.url, "secret_env": "HOOK_SECRET"})
        assert hook.deploy(request).ok
        body = json.loads(receiver.deliveries[0].body)
        source = resolve(clone, "churn", "models/churn.pkl", commit)
        assert body["source"]["url"] == source.url == str(registry.object_path(source.md5))
        assert body["source"]["kind"] == "dvc" and body["source"]["remote"] == "store"
        assert cache._dir is None  # nothing was fetched for it
    finally:
        receiver.close()


def test_a_remote_url_is_shown_without_its_credentials(own: Registry) -> None:
    (own.path / ".dvc" / "config.local").write_text(
        "['remote \"store\"']\n    url = https://bob:hunter2@dvc.example.com/store?sig=abc123\n"
    )
    source = resolve(own.path, "churn", "models/churn.pkl", own.commit_of("v1.0.0"))
    assert source.remote_url == "https://dvc.example.com/store"
    assert source.url.startswith("https://dvc.example.com/store/files/md5/")
    shown = json.dumps(source.to_json()) + source.describe()
    assert "hunter2" not in shown and "abc123" not in shown and "bob" not in shown


def test_locate_says_where_a_version_is_without_fetching(registry: Registry) -> None:
    clone = registry.path
    result = gitops(clone, "locate", "embed@v2.0.0", "--files", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    source = resolve(clone, "embed", "models/embed", registry.commit_of("v2.0.0"))
    assert data["url"] == source.url and data["nfiles"] == 4 and data["remote"] == "store"
    files = {f["path"]: f for f in data["files"]}
    assert set(files) == {"vectors.bin", "vocab.txt", "nested/deep/config.json", "new.txt"}
    vocab = files["vocab.txt"]
    assert Path(vocab["url"]).read_bytes() == CONTENT["v2.0.0"]["models/embed/vocab.txt"]
    assert vocab["hash"] == hashlib.md5(CONTENT["v2.0.0"]["models/embed/vocab.txt"]).hexdigest()

    text = gitops(clone, "locate", "trained@v1.0.0").stdout
    assert "tracked: pipe/dvc.lock" in text and "bytes:   DVC remote store" in text
    small = gitops(clone, "locate", "small@latest", "--files").stdout
    assert "bytes:   Git (19 B)" in small
    missing = gitops(clone, "locate", "churn")
    assert missing.returncode == 2 and "say which version" in missing.stderr


def test_dvc_is_imported_only_to_fetch(own: Registry) -> None:
    """Plans, summaries and `locate` read DVC's files without DVC: runs that deploy nothing
    from DVC do not pay its import (about a second)."""
    _promote(own, "embed", "v2.0.0", 1)
    _environments(own.path, own.path.parent / "deployed")
    code = (
        "import sys; sys.argv = ['gitops', 'plan', '--json', '-r', sys.argv[1]]\n"
        "import gitops.cli, gitops.deploy.apply, gitops.artifacts.fetch\n"
        "try:\n    gitops.cli.run()\nexcept SystemExit:\n    pass\n"
        "assert not [m for m in sys.modules if m == 'dvc' or m.startswith('dvc.')], 'dvc imported'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(own.path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    sources = json.loads(result.stdout)["sources"]
    assert [(s["artifact"], s["kind"], s["nfiles"]) for s in sources] == [("embed", "dvc", 4)]


def test_the_last_deploy_of_a_run_takes_the_files_the_others_copy(
    registry: Registry, tmp_path: Path
) -> None:
    clone = registry.clone(tmp_path / "clone")
    commit = registry.commit_of("v1.0.0")
    logged: list[str] = []
    cache = FetchCache(clone, logged.append)
    for _ in range(2):  # the plan has two environments deploying it
        cache.expect("embed", "models/embed", commit)
    source = cache.source("embed", "models/embed", commit)
    want = tree_digest(dvc_pulled(registry, tmp_path / "pulled", "v1.0.0", "models/embed"))
    places = []
    for n in range(3):
        staging = tmp_path / f"env{n}"
        staging.mkdir()
        placed = cache.place(source, staging)
        assert tree_digest(staging / "models" / "embed") == want
        places.append(placed)
    # the first copied, the second (the last expected) moved the run's copy away, so the third
    # (unexpected) fetched again: two fetches, and the first environment's files untouched
    assert len(logged) == 2
    assert tree_digest(tmp_path / "env0" / "models" / "embed") == want
    cache.close()

    # a version some deploy reads in place (a command) is never moved away from under it
    reader = FetchCache(clone)
    reader.expect("embed", "models/embed", commit)
    read = reader.get(source)
    (tmp_path / "envx").mkdir()
    reader.place(source, tmp_path / "envx")
    assert tree_digest(read.path) == want  # still there
    reader.close()


def test_plans_name_where_bytes_come_from_and_skip_virtual_paths(registry: Registry) -> None:
    from gitops.deploy.plan import Action, Plan
    from gitops.deploy.render import plan_markdown, plan_table
    from gitops.deploy.sources import attach

    commit = registry.commit_of("v2.0.0")

    def plan_of(*paths: str) -> Plan:
        actions = [
            Action("prod", name, "prod", "deploy", None, "v2.0.0", commit, path)
            for name, path in zip(("churn", "small", "url"), paths, strict=False)
        ]
        return attach(Plan(actions), registry.path)

    mixed = plan_of("models/churn.pkl", "models/small.json", "s3://elsewhere/model.pkl")
    text, markdown = plan_table(mixed), plan_markdown(mixed)
    assert "churn     v2.0.0   DVC remote store (" in text and "), 25 B" in text
    assert "small     v2.0.0   Git (19 B)" in text
    assert "url       v2.0.0   not in Git or DVC at this version" in text
    assert "| `churn` | `v2.0.0` | DVC remote `store` (`" in markdown
    assert "| `url` | `v2.0.0` | _not in Git or DVC at this version_ |  |" in markdown
    # a registry whose paths are all virtual gets no table of blanks
    virtual = plan_of("s3://elsewhere/a.pkl", "https://x/y")
    assert "Where the bytes come from" not in plan_table(virtual) + plan_markdown(virtual)


def test_a_folder_kept_in_git_is_counted_from_one_listing(registry: Registry) -> None:
    commit = registry.commit_of("v1.0.0")
    listed = git(registry.path, "ls-tree", "-r", "-l", commit, "--", "models", "pipe").splitlines()
    sizes = {line.split("\t")[1]: int(line.split()[3]) for line in listed}
    found = resolve_many(
        registry.path,
        [Want("models", "models", commit), Want("pipe", "pipe", commit), Want("all", None, commit)],
    )
    got = {w.artifact: s for w, s in found.items()}
    models = [n for n in sizes if n.startswith("models/")]
    assert (got["models"].kind, got["models"].is_dir) == (GIT, True)
    assert got["models"].nfiles == len(models) and got["models"].size == sum(
        sizes[n] for n in models
    )
    assert got["pipe"].nfiles == len([n for n in sizes if n.startswith("pipe/")])
    everything = git(registry.path, "ls-tree", "-r", "--name-only", commit).splitlines()
    assert got["all"].nfiles == len(everything)  # no path: the whole tree
