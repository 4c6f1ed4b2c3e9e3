"""An artifact's bytes at a version, in a new folder: from Git, or with DVC's own machinery.

DVC-tracked bytes come through ``dvc.api.DVCFileSystem`` at the version's commit: DVC reads
its files and config from Git at that commit (no checkout), takes the local cache when it has
the objects and the remote otherwise (the output's ``remote:`` or the default), with
credentials the way DVC takes them (its config, ``config.local``, the cloud's variables). Only
this artifact's objects are read, file by file, streamed to disk. DVC does not check what a
remote sends, so every file is checked here against the md5 DVC recorded, with DVC's hashing.

``dvc`` is an optional extra: it is imported only when a DVC-tracked artifact is fetched.
"""

from __future__ import annotations

import atexit
import hashlib
import io
import os
import posixpath
import shutil
import tarfile
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from gitops.artifacts.resolve import (
    DVC,
    GIT,
    Source,
    Want,
    files_count,
    human_size,
    object_url,
    repo_path,
    resolve_many,
)
from gitops.errors import GitopsError, UsageError
from gitops.registry.git import run_git
from gitops.text import shorten

EXTRA_MISSING = (
    "{path} is tracked by DVC: install gitops-ml[dvc] (with the plugin of its remote's kind, "
    "e.g. dvc-s3), or use the gitops DVC image (uses: gitops-ml/gitops/dvc@v1)"
)


ORIGINS = {
    "git": "Git",
    "cache": "DVC's cache",
    "remote": "the DVC remote",
    "cache+remote": "DVC's cache and remote",
}


@dataclass(frozen=True)
class Fetched:
    """What ``fetch`` put under ``root``: the artifact at its path from the repository's root."""

    source: Source
    root: Path
    files: int
    bytes: int
    origin: str  # "git", "cache" (DVC's local cache), "remote", "cache+remote"
    # path under root -> md5 of the bytes, as checked (DVC 3 outputs; empty otherwise)
    md5s: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def path(self) -> Path:
        """The artifact's own file or folder."""
        return self.root / self.source.path if self.source.path else self.root


def fetch(repo: Path, source: Source, dest: Path) -> Fetched:
    """Put ``source``'s files under ``dest`` (a new or empty folder) at their path from the
    repository's root, as ``git archive`` lays them out: ``dest/models/churn.pkl``.

    A failure is a GitopsError naming the file and the remote; ``dest`` may then hold part of
    the files, and the caller deletes it: nothing here is ever swapped into an environment.
    """
    dest.mkdir(parents=True, exist_ok=True)
    if source.kind == GIT:
        return _fetch_git(repo, source, dest)
    return _fetch_dvc(repo, source, dest)


def _fetch_git(repo: Path, source: Source, dest: Path) -> Fetched:
    paths = [source.path] if source.path else []
    archive = run_git(repo, "archive", "--format=tar", source.commit, "--", *paths)
    files = size = 0
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar.getmembers():
            if member.isfile():
                files += 1
                size += member.size
        tar.extractall(dest, filter="data")  # no absolute paths, links out or devices
    return Fetched(source, dest, files, size, GIT)


def dvc_api() -> Any:
    """``dvc.api``, or the error that says which extra to install."""
    try:
        import dvc.api
    except ImportError:
        return None
    return dvc.api


def _fetch_dvc(repo: Path, source: Source, dest: Path) -> Fetched:
    api = dvc_api()
    if api is None:
        raise UsageError(EXTRA_MISSING.format(path=source.path))
    where = _where(source)
    target = dest / source.path
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        fs = api.DVCFileSystem(str(repo), rev=source.commit, subrepos=bool(source.project))
        expected = _expected(fs, source)
        origin = _origin(fs, source, expected)
        if source.is_dir:
            if expected:  # into a folder that does not exist yet: fsspec's `cp -r` rule
                fs.get(source.path, str(target), recursive=True)
            target.mkdir(exist_ok=True)
        else:
            fs.get_file(source.path, str(target))
    except FileNotFoundError as exc:
        name = exc.filename or str(exc).rpartition(":")[2].strip(" '")
        raise GitopsError(
            f"{name or source.path} at {source.commit[:12]}: the object is in neither DVC's "
            f"cache nor {where} (was it pushed? `dvc push` at that commit)"
        ) from None
    except GitopsError:
        raise
    except Exception as exc:  # noqa: BLE001 - a remote's client fails in its own ways
        said = shorten(" ".join(f"{type(exc).__name__}: {exc}".split()), 300)
        if isinstance(exc, PermissionError):
            said += (
                " (check the remote's credentials: DVC takes them from its config, "
                ".dvc/config.local or the cloud's variables, e.g. AWS_ACCESS_KEY_ID)"
            )
        raise GitopsError(f"cannot fetch {source.path} from {where}: {said}") from None
    files, size = _verify(target, expected, source)
    md5s = (
        {}
        if source.legacy
        else {posixpath.join(source.path, rel).rstrip("/"): md5 for rel, md5 in expected.items()}
    )
    return Fetched(source, dest, files, size, origin, md5s)


def _where(source: Source) -> str:
    if source.remote:
        return f"DVC remote {source.remote} ({source.remote_url})"
    return "any DVC remote (none is configured)"


def _expected(fs: Any, source: Source) -> dict[str, str]:
    """``path under the artifact ("" for a file) -> md5`` as DVC recorded it."""
    if not source.is_dir:
        md5 = source.md5 if source.output == source.path else fs.info(source.path)["md5"]
        return {"": str(md5)}
    found = fs.find(source.path, detail=True)
    prefix = source.path.rstrip("/") + "/"
    return {
        name[len(prefix) :]: str(info["md5"])
        for name, info in found.items()
        if info.get("type") == "file"
    }


def _origin(fs: Any, source: Source, expected: dict[str, str]) -> str:
    """Whether DVC's local cache holds every object (nothing goes over the network), none of
    them, or some."""
    try:
        repo = fs._get_repo(tuple(source.project.split("/")) if source.project else ())
        cache = repo.cache.legacy if source.legacy else repo.cache.local
        held = sum(os.path.exists(cache.oid_to_path(md5)) for md5 in set(expected.values()))
    except Exception:  # noqa: BLE001 - only a label: DVC's internals may move
        return "remote"
    if held == len(set(expected.values())):
        return "cache"
    return "remote" if held == 0 else "cache+remote"


def _verify(target: Path, expected: dict[str, str], source: Source) -> tuple[int, int]:
    """Every file's md5 against DVC's record (DVC 2 hashes with DVC's own text rule); the
    files there are exactly those expected."""
    algorithm = "md5-dos2unix" if source.legacy else "md5"
    if source.is_dir:
        found = {
            p.relative_to(target).as_posix(): p
            for p in target.rglob("*")
            if p.is_file() or p.is_symlink()
        }
    else:
        found = {"": target} if target.is_file() else {}
    if found.keys() != expected.keys():
        missing = sorted(expected.keys() - found.keys())
        extra = sorted(found.keys() - expected.keys())
        raise GitopsError(
            f"{source.path}: DVC gave other files than its record names "
            f"(missing: {', '.join(missing[:3]) or '-'}; unexpected: {', '.join(extra[:3]) or '-'})"
        )
    # md5 releases the GIL on large reads: the files are checked on every CPU at once
    workers = min(8, os.cpu_count() or 1, max(len(found), 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        hashes = dict(
            zip(found, pool.map(lambda p: _md5(p, algorithm), found.values()), strict=True)
        )
    for rel, got in sorted(hashes.items()):
        if got != expected[rel]:
            name = f"{source.path}/{rel}" if rel else source.path
            raise GitopsError(
                f"{name}: the bytes from {_where(source)} do not match DVC's record "
                f"(md5 {got}, expected {expected[rel]}): the object is corrupt"
            )
    return len(found), sum(path.stat().st_size for path in found.values())


def _md5(path: Path, algorithm: str) -> str:
    with open(path, "rb") as f:
        if algorithm == "md5":
            return hashlib.file_digest(f, "md5").hexdigest()
        from dvc_data.hashfile.hash import fobj_md5

        return fobj_md5(f, name=algorithm)


@dataclass(frozen=True)
class FileEntry:
    """One file of an artifact: its path under the artifact, size, hash and object URL."""

    path: str  # "" : the artifact is this one file
    size: int | None  # None: DVC's folder manifests do not record sizes
    hash: str  # md5 (DVC) or the blob id (Git)
    url: str  # the object in the DVC remote; "" for Git

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "hash": self.hash, "url": self.url or None}


def list_files(repo: Path, source: Source) -> list[FileEntry]:
    """Every file of the artifact, without fetching any: Git's tree, or DVC's record (a folder's
    manifest comes from DVC's cache or remote, through DVC)."""
    if source.kind == GIT:
        paths = [source.path] if source.path else []
        listing = run_git(
            repo, "ls-tree", "-r", "-l", "-z", "--full-tree", source.commit, "--", *paths
        )
        entries = []
        for line in listing.split(b"\0"):
            meta, _, name = line.decode("utf-8", "surrogateescape").partition("\t")
            fields = meta.split()
            if len(fields) == 4 and fields[1] == "blob":
                rel = name[len(source.path) :].lstrip("/") if source.path else name
                entries.append(FileEntry(rel, int(fields[3]), fields[2], ""))
        return entries
    if not source.is_dir and source.output == source.path:
        return [FileEntry("", source.size, source.md5, source.url)]
    api = dvc_api()
    if api is None:
        raise UsageError(EXTRA_MISSING.format(path=source.path))
    try:
        fs = api.DVCFileSystem(str(repo), rev=source.commit, subrepos=bool(source.project))
        expected = _expected(fs, source)
    except Exception as exc:  # noqa: BLE001 - a remote's client fails in its own ways
        said = shorten(" ".join(f"{type(exc).__name__}: {exc}".split()), 300)
        raise GitopsError(f"cannot list {source.path} from {_where(source)}: {said}") from None
    return [
        FileEntry(
            rel,
            None,
            md5,
            object_url(source.remote_url, md5, source.legacy) if source.remote_url else "",
        )
        for rel, md5 in sorted(expected.items())
    ]


class FetchCache:
    """One fetch per artifact version per run, however many environments deploy it: each
    is fetched into a temporary folder the run owns and removes at its end (``close``)."""

    def __init__(self, repo: Path, log: Callable[[str], None] | None = None) -> None:
        self.repo, self.log = repo, log
        self._dir: Path | None = None
        self._done: dict[tuple[str, str], Fetched | GitopsError] = {}
        self._sources: dict[Want, Source | GitopsError] = {}
        self._lock = threading.Lock()  # environments deploy in parallel threads...
        self._fetching: dict[tuple[str, str], threading.Lock] = {}  # ...one per version
        self._uses: dict[tuple[str, str], int] = {}  # deploys of this run still to come
        self._readers: set[tuple[str, str]] = set()  # read in place (``get``): never moved
        self._slots = 0  # folders handed out under _dir

    def expect(self, artifact: str, path: str | None, commit: str) -> None:
        """One more deploy of this run will want this version (the applier counts them from
        its plan): the last one may take the fetched files instead of copying them."""
        key = (commit, repo_path(artifact, path)[0])
        with self._lock:
            self._uses[key] = self._uses.get(key, 0) + 1

    def source(self, artifact: str, path: str | None, commit: str) -> Source:
        """``resolve``d once per run."""
        want = Want(artifact, path, commit)
        with self._lock:
            if want not in self._sources:
                try:
                    self._sources[want] = resolve_many(self.repo, [want])[want]
                except GitopsError as exc:
                    self._sources[want] = exc
            found = self._sources[want]
        if isinstance(found, GitopsError):
            raise found
        return found

    def get(self, source: Source) -> Fetched:
        """The run's copy (read it, do not change it); the same error again for a version
        that failed to fetch, without a second try in the same run."""
        key, one, dest = self._slot(source)
        with self._lock:
            self._readers.add(key)
        with one:  # another version's fetch goes on meanwhile; this one's waits for the first
            return self._get(key, source, dest)

    def place(self, source: Source, staging: Path) -> Fetched:
        """The version's files under ``staging`` (an empty folder), laid out as ``fetch`` lays
        them out: moved there when this is the run's last deploy that wants them and nothing
        reads them in place, else copied (an environment's files are its own)."""
        key, one, dest = self._slot(source)
        with one:
            fetched = self._get(key, source, dest)
            with self._lock:
                left = self._uses[key] = self._uses.get(key, 1) - 1
                movable = left <= 0 and key not in self._readers
            if not movable:
                copy_into(fetched, staging)
                return replace(fetched, root=staging)
            for child in list(fetched.root.iterdir()):
                shutil.move(child, staging / child.name)  # a rename on the same filesystem
            del self._done[key]  # an unexpected later deploy of it fetches it again
            return replace(fetched, root=staging)

    def _slot(self, source: Source) -> tuple[tuple[str, str], threading.Lock, Path]:
        key = (source.commit, source.path)
        with self._lock:
            if self._dir is None:
                self._dir = Path(tempfile.mkdtemp(prefix="gitops-fetch-"))
            one = self._fetching.setdefault(key, threading.Lock())
            self._slots += 1
            return key, one, self._dir / str(self._slots)

    def _get(self, key: tuple[str, str], source: Source, dest: Path) -> Fetched:
        if key not in self._done:
            try:
                self._done[key] = done = fetch(self.repo, source, dest)
                if self.log is not None and source.kind == DVC:
                    amount = f"{files_count(done.files)}, {human_size(done.bytes)}"
                    where = f"{source.path} at {source.commit[:12]}"
                    self.log(f"fetched {where}: {amount}, from {ORIGINS[done.origin]}")
            except GitopsError as exc:
                shutil.rmtree(dest, ignore_errors=True)
                self._done[key] = exc
        done = self._done[key]
        if isinstance(done, GitopsError):
            raise done
        return done

    def close(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        self._done.clear()
        self._fetching.clear()
        self._uses.clear()
        self._readers.clear()


_PROCESS: dict[Path, FetchCache] = {}


def process_fetches(repo: Path) -> FetchCache:
    """A cache for requests made outside a run (a driver called on its own), removed when the
    process exits."""
    if repo not in _PROCESS:
        if not _PROCESS:
            atexit.register(lambda: [cache.close() for cache in _PROCESS.values()])
        _PROCESS[repo] = FetchCache(repo)
    return _PROCESS[repo]


def copy_into(fetched: Fetched, staging: Path) -> None:
    """The fetched files under ``staging`` at the same paths (copies: an environment's files
    are its own)."""
    shutil.copytree(fetched.root, staging, symlinks=True, dirs_exist_ok=True)


__all__ = ["DVC", "EXTRA_MISSING", "FetchCache", "Fetched", "copy_into", "fetch", "process_fetches"]
