"""Where live state is kept, with compare-and-swap writes: a JSON file, or a git branch.

Every write names the revision it was based on; if someone else wrote meanwhile the write is
refused (``StaleState``) and ``update`` re-reads, re-applies the change and tries again. On the
branch store the revision is the branch's commit and the refusal is git's own non-fast-forward
rejection of a plain push: no lost update, and nothing is ever force-pushed. Each change is one
commit, so the branch is the audit log.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import random
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError

from gitops.config import StateSettings
from gitops.deploy.state import LiveState
from gitops.errors import GitopsError
from gitops.registry.git import run_git

T = TypeVar("T")
STATE_FILE = "state.json"
BOT = ("gitops", "gitops@users.noreply.github.com")


class StaleState(GitopsError):
    """The state moved since it was read: re-read and try again."""


class StateStore(ABC):
    description: str

    @abstractmethod
    def read(self) -> tuple[LiveState, str | None]:
        """The state and its revision (None: nothing written yet)."""

    @abstractmethod
    def write(self, state: LiveState, revision: str | None, message: str) -> str:
        """Write if the store is still at ``revision``; the new revision, or ``StaleState``."""

    def update(
        self,
        change: Callable[[LiveState], T],
        message: str | Callable[[T], str],
        attempts: int = 20,
    ) -> T:
        """Read, change, write; on a conflict re-read and re-apply ``change``. ``change`` may
        return a value; it is called again on every retry, with fresh state."""
        for attempt in range(attempts):
            state, revision = self.read()
            before = state.dump()
            result = change(state)
            if state.dump() == before:
                return result
            text = message if isinstance(message, str) else message(result)
            try:
                self.write(state, revision, text)
                return result
            except StaleState:
                time.sleep(min(0.05 * 2**attempt, 1.0) * random.random())
        raise GitopsError(f"{self.description}: gave up after {attempts} conflicting writes")


def _parse(text: str, where: str) -> LiveState:
    try:
        return LiveState.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise GitopsError(
            f"{where} is not a gitops state document: {loc}: {first['msg']}"
        ) from None


class FileStore(StateStore):
    """A JSON file; an flock makes the compare-and-swap atomic between processes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = f"state file {path}"

    def _revision(self, data: bytes | None) -> str | None:
        return hashlib.sha256(data).hexdigest() if data is not None else None

    def _read_bytes(self) -> bytes | None:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None

    def read(self) -> tuple[LiveState, str | None]:
        data = self._read_bytes()
        if data is None:
            return LiveState(), None
        return _parse(data.decode("utf-8", "replace"), str(self.path)), self._revision(data)

    def write(self, state: LiveState, revision: str | None, message: str) -> str:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self._revision(self._read_bytes()) != revision:
                raise StaleState(f"{self.path} changed since it was read")
            data = state.dump().encode()
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, self.path)
        return self._revision(data) or ""


class BranchStore(StateStore):
    """``state.json`` on a dedicated branch, one commit per change, pushed without force.

    Written with git plumbing (hash-object, mktree, commit-tree): no checkout, so the work tree
    and the user's branches are never touched. Without a remote the branch is local and
    ``update-ref``'s old-value check is the compare-and-swap.
    """

    def __init__(self, repo: Path, branch: str, remote: str | None) -> None:
        self.repo, self.branch, self.remote = repo, branch, remote
        self.ref = f"refs/heads/{branch}"
        self.cache_ref = f"refs/gitops/state/{branch}"  # our copy of the remote branch
        where = f" on {remote}" if remote else ""
        self.description = f"state branch {branch}{where}"
        self._mutex = threading.Lock()  # environments apply in threads; git refs are not

    def read(self) -> tuple[LiveState, str | None]:
        with self._mutex:
            return self._read()

    def write(self, state: LiveState, revision: str | None, message: str) -> str:
        with self._mutex:
            return self._write(state, revision, message)

    def _fetch(self) -> str | None:
        assert self.remote is not None
        try:
            run_git(self.repo, "fetch", "--quiet", self.remote, f"+{self.ref}:{self.cache_ref}")
        except GitopsError as exc:
            if "couldn't find remote ref" in str(exc):
                run_git(self.repo, "update-ref", "-d", self.cache_ref)
                return None
            raise
        return self._resolve(self.cache_ref)

    def _resolve(self, ref: str) -> str | None:
        try:
            return run_git(self.repo, "rev-parse", "--verify", "--quiet", ref).decode().strip()
        except GitopsError:
            return None

    def _read(self) -> tuple[LiveState, str | None]:
        revision = self._fetch() if self.remote else self._resolve(self.ref)
        if revision is None:
            return LiveState(), None
        try:
            text = run_git(self.repo, "cat-file", "blob", f"{revision}:{STATE_FILE}").decode()
        except GitopsError:
            raise GitopsError(f"{self.description} has no {STATE_FILE}") from None
        return _parse(text, f"{self.description}:{STATE_FILE}"), revision

    def _write(self, state: LiveState, revision: str | None, message: str) -> str:
        blob = run_git(self.repo, "hash-object", "-w", "--stdin", stdin=state.dump().encode())
        entry = f"100644 blob {blob.decode().strip()}\t{STATE_FILE}\n"
        tree = run_git(self.repo, "mktree", stdin=entry.encode()).decode().strip()
        parents = ["-p", revision] if revision else []
        # made by gitops; the actor is named in the message
        args = ("commit-tree", tree, *parents, "-m", message)
        commit = run_git(self.repo, *args, env=BOT_ENV).decode().strip()
        if self.remote:
            try:
                run_git(self.repo, "push", "--quiet", self.remote, f"{commit}:{self.ref}")
            except GitopsError as exc:
                text = str(exc)
                if any(s in text for s in ("rejected", "non-fast-forward", "fetch first")):
                    raise StaleState(f"{self.description} moved: another run wrote first") from None
                raise
            run_git(self.repo, "update-ref", self.cache_ref, commit)
            return commit
        try:
            run_git(self.repo, "update-ref", self.ref, commit, revision or "0" * 40)
        except GitopsError:
            raise StaleState(f"{self.description} moved: another run wrote first") from None
        return commit


BOT_ENV = {
    "GIT_AUTHOR_NAME": BOT[0],
    "GIT_AUTHOR_EMAIL": BOT[1],
    "GIT_COMMITTER_NAME": BOT[0],
    "GIT_COMMITTER_EMAIL": BOT[1],
}


def has_remote(repo: Path, remote: str) -> bool:
    try:
        run_git(repo, "remote", "get-url", remote)
    except GitopsError:
        return False
    return True


def open_store(settings: StateSettings, repo: Path, in_ci: bool) -> StateStore:
    """The configured store; ``auto`` is the branch in CI (the audit log) and a file locally."""
    kind = settings.store if settings.store != "auto" else ("branch" if in_ci else "file")
    if kind == "file":
        return FileStore(repo / settings.file)
    remote = settings.remote if has_remote(repo, settings.remote) else None
    return BranchStore(repo, settings.branch, remote)
