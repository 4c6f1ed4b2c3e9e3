"""Real DVC registries for tests, made with the ``dvc`` CLI: every shape an artifact takes.

``build_registry(dir)`` makes, in two versions:

- ``churn``: ``models/churn.pkl``, a file output (``models/churn.pkl.dvc``);
- ``embed``: ``models/embed``, a folder output (a ``.dir`` manifest) with nested files and a
  text file with CRLF line ends;
- ``trained``: ``out/model.bin``, a pipeline output in ``pipe/dvc.lock`` (the stage's
  ``wdir: ..`` puts it at the root);
- ``special``: ``models/special.bin``, pushed to the remote its ``.dvc`` file names
  (``remote: other``), not the default;
- ``sub:clf``: ``sub/clf.pkl`` in a DVC sub-project (``sub/.dvc``, its own remote), declared in
  ``sub/dvc.yaml``;
- ``small``: ``models/small.json``, kept in Git.

Everything is pushed to local-folder remotes beside the repository. ``copy`` gives a test its
own repository and remotes (the copy's ``.dvc/config.local`` points at its own remotes, as a
user's credentials or paths would), so a test may break them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from gitutil import Repo, git

DVC = Path(sys.executable).parent / "dvc"
ENV = {**os.environ, "DVC_NO_ANALYTICS": "1", "DVC_NO_UPDATE_CHECK": "1"}
T0 = 1_760_000_000

ARTIFACTS_YAML = """\
churn: {type: model, path: models/churn.pkl, description: churn classifier}
embed: {type: model, path: models/embed}
trained: {type: model, path: out/model.bin}
special: {type: model, path: models/special.bin}
small: {type: model, path: models/small.json}
"""

PIPELINE = """\
stages:
  train:
    wdir: ..
    cmd: python3 -c "import pathlib; pathlib.Path('out').mkdir(exist_ok=True); \
pathlib.Path('out/model.bin').write_bytes(pathlib.Path('params.txt').read_bytes() * 3)"
    deps: [params.txt]
    outs: [out/model.bin]
"""

# version -> what each artifact holds
CONTENT = {
    "v1.0.0": {
        "models/churn.pkl": b"churn model one\x00\x01\x02",
        "models/embed/vectors.bin": os.urandom(0) + b"\x10" * 3000,
        "models/embed/vocab.txt": b"alpha\r\nbeta\r\n",
        "models/embed/nested/deep/config.json": b'{"dim": 3}\n',
        "models/special.bin": b"special one",
        "params.txt": b"lr=0.1\n",
        "sub/clf.pkl": b"sub clf one",
    },
    "v2.0.0": {
        "models/churn.pkl": b"churn model two, longer\x00\xff",
        "models/embed/vectors.bin": b"\x20" * 4000,
        "models/embed/vocab.txt": b"alpha\r\nbeta\r\ngamma\r\n",
        "models/embed/nested/deep/config.json": b'{"dim": 3}\n',
        "models/embed/new.txt": b"added in v2\n",
        "models/special.bin": b"special two",
        "params.txt": b"lr=0.2\n",
        "sub/clf.pkl": b"sub clf two",
    },
}
NAMES = ("churn", "embed", "trained", "special", "sub:clf", "small")
PATHS = {
    "churn": "models/churn.pkl",
    "embed": "models/embed",
    "trained": "out/model.bin",
    "special": "models/special.bin",
    "sub:clf": "sub/clf.pkl",
    "small": "models/small.json",
}


def dvc(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(DVC), *args], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=300
    )
    if check and proc.returncode != 0:
        raise RuntimeError(f"dvc {' '.join(args)} failed: {proc.stdout}{proc.stderr}")
    return proc


@dataclass
class Registry:
    """A DVC registry on disk: the repository and its remotes (beside it)."""

    repo: Repo
    remote: Path  # the default remote of the root project
    other: Path  # the remote `special` names
    sub_remote: Path  # the sub-project's

    @property
    def path(self) -> Path:
        return self.repo.path

    def commit_of(self, version: str) -> str:
        return self.repo.rev(f"churn@{version}")

    def copy(self, dest: Path) -> Registry:
        """A copy of the repository and remotes; the copy's ``config.local`` files point at
        the copied remotes."""
        dest.mkdir(parents=True)
        base = self.path.parent
        for name in (self.path.name, self.remote.name, self.other.name, self.sub_remote.name):
            shutil.copytree(base / name, dest / name, symlinks=True)
        copy = Registry(
            _reopen(dest / self.path.name),
            dest / self.remote.name,
            dest / self.other.name,
            dest / self.sub_remote.name,
        )
        copy.point_remotes(copy.path)
        return copy

    def point_remotes(self, work: Path) -> None:
        """``.dvc/config.local`` of ``work`` (a clone or copy) naming this registry's remotes."""
        (work / ".dvc" / "config.local").write_text(
            f"['remote \"store\"']\n    url = {self.remote}\n"
            f"['remote \"other\"']\n    url = {self.other}\n"
        )
        (work / "sub" / ".dvc" / "config.local").write_text(
            f"['remote \"substore\"']\n    url = {self.sub_remote}\n"
        )

    def clone(self, dest: Path, ref: str | None = None) -> Path:
        """A fresh clone (empty DVC cache, as CI has), with this registry's tags."""
        subprocess.run(
            ["git", "clone", "-q", str(self.path), str(dest)], check=True, env=ENV, timeout=60
        )
        if ref:
            git(dest, "checkout", "-q", ref)
        self.point_remotes(dest)
        return dest

    def object_path(self, md5: str, remote: Path | None = None) -> Path:
        return (remote or self.remote) / "files" / "md5" / md5[:2] / md5[2:]


def _reopen(path: Path) -> Repo:
    repo = Repo.__new__(Repo)
    repo.path, repo._n = path, 100
    return repo


def _write(root: Path, files: dict[str, bytes]) -> None:
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            target.chmod(0o644)
        target.write_bytes(content)


def build_registry(base: Path) -> Registry:
    """The registry described above, in ``base/repo`` with remotes ``base/remote*``."""
    repo = Repo(base / "repo")
    root = repo.path
    remote, other, sub_remote = base / "remote", base / "remote-other", base / "remote-sub"
    dvc(root, "init", "-q")
    dvc(root, "remote", "add", "-d", "store", str(remote))
    dvc(root, "remote", "add", "other", str(other))
    (root / "sub").mkdir()
    dvc(root / "sub", "init", "-q", "--subdir")
    dvc(root / "sub", "remote", "add", "-d", "substore", str(sub_remote))
    (root / "pipe").mkdir()
    (root / "pipe" / "dvc.yaml").write_text(PIPELINE)
    (root / "sub" / "dvc.yaml").write_text("artifacts:\n  clf: {type: model, path: clf.pkl}\n")
    (root / "artifacts.yaml").write_text(ARTIFACTS_YAML)
    (root / "models").mkdir()
    (root / "models" / "small.json").write_text('{"kept": "in git"}\n')
    for i, (version, files) in enumerate(CONTENT.items()):
        _write(root, files)
        dvc(root, "add", "-q", "models/churn.pkl", "models/embed", "models/special.bin")
        special = root / "models" / "special.bin.dvc"
        text = special.read_text()
        if "remote:" not in text:
            special.write_text(
                text.replace("  path: special.bin", "  path: special.bin\n  remote: other")
            )
        dvc(root, "repro", "-q", "pipe/dvc.yaml")
        dvc(root / "sub", "add", "-q", "clf.pkl")
        dvc(root, "push", "-q")
        dvc(root / "sub", "push", "-q")
        git(root, "add", "-A")
        sha = repo.commit(f"models {version}", files={}, epoch=T0 + 1000 * i)
        for name in NAMES:
            prefix = name.replace(":", "=") if ":" in name else name
            repo.tag(f"{prefix}@{version}", sha, epoch=T0 + 1000 * i + 10)
    return Registry(repo, remote, other, sub_remote)


def tree_digest(root: Path) -> dict[str, str]:
    """``relative path -> sha256`` of every file under ``root`` (or of ``root`` itself)."""
    if root.is_file():
        return {"": hashlib.sha256(root.read_bytes()).hexdigest()}
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def dvc_pulled(registry: Registry, dest: Path, version: str, path: str) -> Path:
    """What ``dvc pull`` puts at ``path`` in a fresh clone at ``version``'s commit."""
    clone = registry.clone(dest, registry.commit_of(version))
    project = clone / "sub" if path.startswith("sub/") else clone
    dvc(project, "pull", "-q", str(clone / path))
    return clone / path
