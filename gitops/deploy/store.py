"""Where live state is kept, with compare-and-swap writes: a JSON file, or a git branch.

Every write names the revision it was based on; if someone else wrote meanwhile the write loses
the race (``StaleState``) and ``update`` re-reads, re-applies the change and tries again. On the
branch store the revision is the branch's commit and a lost race is git's own answer to a plain
push (non-fast-forward, or the remote's ref moved under it): no lost update, and nothing is ever
force-pushed. A push the remote refuses (a protected branch, a hook, a token that may not write)
is not a race: it fails at once with git's reason (``gitops.gitpush``). Each change is one
commit, so the branch is the audit log.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import random
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError

from gitops.config import StateSettings
from gitops.deploy.state import EnvironmentState, LiveState
from gitops.errors import GitopsError
from gitops.fileio import write_atomic
from gitops.gitpush import PushError, hide_userinfo, push_commit, redactor
from gitops.registry.git import run_git

if TYPE_CHECKING:  # GitPython is imported by the first write: reads and plans never pay for it
    import git

T = TypeVar("T")
BOT = ("gitops", "gitops@users.noreply.github.com")


class StaleState(GitopsError):
    """The state moved since it was read: re-read and try again."""


class StateStore(ABC):
    """Documents per environment; ``read`` loads some, ``write`` stores the dirty ones."""

    description: str

    @abstractmethod
    def read(self, environments: Iterable[str]) -> tuple[LiveState, Any]:
        """Those environments' documents and an opaque revision for ``write``."""

    @abstractmethod
    def write(self, state: LiveState, revision: Any, message: str) -> None:
        """Store ``state.dirty`` if nothing moved since ``revision``, else ``StaleState``."""

    def update(
        self,
        environments: Iterable[str],
        change: Callable[[LiveState], T],
        message: str | Callable[[T], str],
        attempts: int = 30,
    ) -> T:
        """Read, change, write; on a conflict re-read and re-apply ``change`` (it is called
        again with fresh state, so it must decide from what it is given)."""
        names = list(environments)
        for attempt in range(attempts):  # only lost races come round again; anything else raises
            state, revision = self.read(names)
            result = change(state)
            if not state.dirty:
                return result
            text = message if isinstance(message, str) else message(result)
            try:
                self.write(state, revision, text)
                return result
            except StaleState:
                time.sleep(min(0.05 * 2**attempt, 1.0) * random.random())
        tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
        raise GitopsError(
            f"{self.description}: gave up after {tries}: every write lost a race with another "
            "run writing the same state at the same time; run again"
        )


def _parse(text: bytes, where: str) -> EnvironmentState:
    try:
        return EnvironmentState.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise GitopsError(
            f"{where} is not a gitops state document: {loc}: {first['msg']}"
        ) from None


def _digest(data: bytes | None) -> str | None:
    return hashlib.sha256(data).hexdigest() if data is not None else None


class FileStore(StateStore):
    """A directory of ``<environment>.json``; an flock makes compare-and-swap atomic."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.description = f"state directory {directory}"

    def _path(self, environment: str) -> Path:
        return self.dir / f"{environment}.json"

    def _bytes(self, environment: str) -> bytes | None:
        try:
            return self._path(environment).read_bytes()
        except FileNotFoundError:
            return None

    def read(self, environments: Iterable[str]) -> tuple[LiveState, Any]:
        state, revision = LiveState(), {}
        for name in environments:
            data = self._bytes(name)
            revision[name] = _digest(data)
            if data is not None:
                state.environments[name] = _parse(data, str(self._path(name)))
        return state, revision

    def write(self, state: LiveState, revision: Any, message: str) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            for name in state.dirty:
                if _digest(self._bytes(name)) != revision.get(name):
                    raise StaleState(f"{self._path(name)} changed since it was read")
            for name in sorted(state.dirty):
                write_atomic(self._path(name), state.environments[name].dump())


class BranchStore(StateStore):
    """``<environment>.json`` files on a dedicated branch, one commit per change, pushed
    without force.

    Read with git plumbing (one fetch, one ``cat-file --batch``); written with GitPython: the
    commit is made in memory on the revision read (``gitops.gitcommit``), so the work tree and
    the user's branches are never touched, and pushed with per-ref results
    (``gitops.gitpush``). Without a remote the branch is local and ``update-ref``'s old-value
    check is the compare-and-swap.
    """

    def __init__(
        self,
        repo: Path,
        branch: str,
        remote: str | None,
        git_env: dict[str, str] | None = None,
    ) -> None:
        self.repo, self.branch, self.remote = repo, branch, remote
        self.git_env = git_env  # credentials for fetch/push, passed in the environment only
        self.ref = f"refs/heads/{branch}"
        self.cache_ref = f"refs/gitops/state/{branch}"  # our copy of the remote branch
        where = f" on {hide_userinfo(remote)}" if remote else ""
        self.description = f"state branch {branch}{where}"
        self._mutex = threading.Lock()  # environments apply in threads; git refs are not
        self._repo: git.Repo | None = None  # opened at the first write

    def read(self, environments: Iterable[str]) -> tuple[LiveState, Any]:
        with self._mutex:
            return self._read(list(environments))

    def write(self, state: LiveState, revision: Any, message: str) -> None:
        with self._mutex:
            self._write(state, revision, message)

    def _fetch(self) -> str | None:
        assert self.remote is not None
        try:
            run_git(
                self.repo,
                "fetch",
                "--quiet",
                self.remote,
                f"+{self.ref}:{self.cache_ref}",
                env=self.git_env,
            )
        except GitopsError as exc:
            if "couldn't find remote ref" in str(exc):
                run_git(self.repo, "update-ref", "-d", self.cache_ref)
                return None
            text = redactor(self.remote, self.git_env)(str(exc)).partition(": ")[2]
            raise GitopsError(f"{self.description}: cannot read it: {text}") from None
        return self._resolve(self.cache_ref)

    def _resolve(self, ref: str) -> str | None:
        try:
            return run_git(self.repo, "rev-parse", "--verify", "--quiet", ref).decode().strip()
        except GitopsError:
            return None

    def _read(self, environments: list[str]) -> tuple[LiveState, Any]:
        revision = self._fetch() if self.remote else self._resolve(self.ref)
        state = LiveState()
        if revision is None or not environments:
            return state, revision
        specs = "".join(f"{revision}:{name}.json\n" for name in environments)
        out = run_git(self.repo, "cat-file", "--batch", stdin=specs.encode())
        pos = 0
        for name in environments:
            eol = out.index(b"\n", pos)
            header = out[pos:eol].split(b" ")
            pos = eol + 1
            if len(header) == 3 and header[1] == b"blob":
                size = int(header[2])
                where = f"{self.description}:{name}.json"
                state.environments[name] = _parse(out[pos : pos + size], where)
                pos += size + 1
        return state, revision

    def _write(self, state: LiveState, revision: Any, message: str) -> None:
        from gitops.gitcommit import commit_files, open_repo, set_ref

        if self._repo is None:
            self._repo = open_repo(self.repo, owner=self)
        files = {f"{n}.json": state.environments[n].dump().encode() for n in state.dirty}
        # made by gitops; the actor is named in the message
        commit = commit_files(self._repo, revision, files, message, BOT)
        if self.remote:
            try:
                pushed = push_commit(self._repo, self.remote, commit, self.ref, self.git_env)
            except PushError as exc:
                hint = STATE_BRANCH_HINT if exc.guarded else ""
                raise exc.prefixed(f"{self.description}: ", hint) from None
            if pushed.status == "race":
                raise StaleState(
                    f"{self.description} moved ({pushed.reason}): another run wrote first"
                )
            with contextlib.suppress(GitopsError):  # only saves the next fetch some work
                set_ref(self._repo, self.cache_ref, commit)
            return
        try:
            run_git(self.repo, "update-ref", self.ref, commit, revision or "0" * 40)
        except GitopsError:
            raise StaleState(f"{self.description} moved: another run wrote first") from None


STATE_BRANCH_HINT = (
    "\nhint: gitops only ever fast-forwards the state branch, one commit per change: exempt it "
    "from the rule, or keep the state on a branch no rule covers (state.branch in gitops.yaml)"
)


def has_remote(repo: Path, remote: str) -> bool:
    try:
        run_git(repo, "remote", "get-url", remote)
    except GitopsError:
        return False
    return True


def open_store(
    settings: StateSettings,
    repo: Path,
    in_ci: bool,
    push_url: str | None = None,
    git_env: dict[str, str] | None = None,
) -> StateStore:
    """The configured store; ``auto`` is the branch in CI (the audit log) and a file locally.

    ``push_url``/``git_env``: where and how to push when the clone's own credentials cannot
    (GitLab's job token may not push; a project access token in an HTTP header can).
    """
    kind = settings.store if settings.store != "auto" else ("branch" if in_ci else "file")
    if kind == "file":
        return FileStore(repo / settings.dir)
    if push_url:
        return BranchStore(repo, settings.branch, push_url, git_env)
    remote = settings.remote if has_remote(repo, settings.remote) else None
    return BranchStore(repo, settings.branch, remote)


def http_auth_env(url: str, user: str, token: str) -> dict[str, str]:
    """git config through the environment (never argv, never the URL): an Authorization header
    for ``url``, as actions/checkout does it."""
    import base64

    basic = base64.b64encode(f"{user}:{token}".encode()).decode()
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"http.{url}.extraheader",
        "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}",
    }
