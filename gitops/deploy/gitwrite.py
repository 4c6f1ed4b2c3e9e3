"""Commit one file change on a branch's tip and push it, never forced and never through the
user's work tree: the commit is made in memory with GitPython (``gitops.gitcommit``), so a CI
checkout at a tag, a dirty work tree or another checked-out branch are all fine. A push that
lost a race (not a fast-forward, or the remote's ref moved under it) raises ``Rejected``: the
caller fetches, redoes its change on the new tip and tries again. A push the remote refuses (a
protected branch, a hook, a token that may not write) raises ``PushRefused`` at once with git's
reason and what to change (``gitops.gitpush``); retrying would not help.
"""

from __future__ import annotations

import contextlib
import os
import random
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

from gitops.errors import GitopsError
from gitops.gitpush import hide_userinfo, push_commit

if TYPE_CHECKING:
    import git


def _stderr(proc: subprocess.CompletedProcess[bytes]) -> str:
    """git's complaint, without credentials a remote URL may carry (``https://x:token@``)."""
    return hide_userinfo(proc.stderr.decode("utf-8", "replace")).strip()


class Rejected(GitopsError):
    """The push lost a race: someone else moved the branch first."""


class GitWriter:
    """The few git commands a deploy needs, as argv lists, all within one time budget."""

    def __init__(self, work: Path, remote: str, author: str, timeout: float) -> None:
        """``author`` is ``Name <email>``; it is the committer too."""
        self.work, self.remote = work, remote
        self.deadline = time.monotonic() + timeout
        name, _, email = author.removesuffix(">").rpartition(" <")
        self.identity = (name, email)
        self._repo: git.Repo | None = None

    def repo(self) -> git.Repo:
        """The GitPython repository, opened once (it keeps a ``cat-file`` process for reads)."""
        if self._repo is None:
            from gitops.gitcommit import open_repo

            self._repo = open_repo(self.work, owner=self)
        return self._repo

    def left(self, what: str) -> float:
        """Seconds left in the deploy's time budget, or an error when none are."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise GitopsError(f"out of time before {what}")
        return left

    def run(
        self, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        left = self.left(f"git {args[0]}")
        base = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
        try:
            return subprocess.run(
                ["git", "-C", str(self.work), *args],
                input=stdin,
                capture_output=True,
                timeout=left,
                env={**base, **(env or {})},
                check=False,
            )
        except FileNotFoundError:
            raise GitopsError("git is not installed or not on PATH") from None
        except subprocess.TimeoutExpired:
            raise GitopsError(f"git {args[0]} timed out (the deploy's time ran out)") from None

    def out(self, *args: str, stdin: bytes | None = None, env: dict | None = None) -> str:
        proc = self.run(*args, stdin=stdin, env=env)
        if proc.returncode != 0:
            raise GitopsError(f"git {args[0]} failed in {self.work}: {_stderr(proc)}")
        return proc.stdout.decode("utf-8", "replace").strip()

    def rev(self, ref: str) -> str | None:
        proc = self.run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        return proc.stdout.decode().strip() if proc.returncode == 0 else None

    def default_branch(self) -> str:
        """The checked-out branch; when HEAD is detached (CI on a tag), the remote's default."""
        for args in (("HEAD",), (f"refs/remotes/{self.remote}/HEAD",)):
            proc = self.run("symbolic-ref", "--quiet", "--short", *args)
            if proc.returncode == 0:
                return proc.stdout.decode().strip().removeprefix(f"{self.remote}/")
        raise GitopsError(
            "HEAD is detached and the remote's default branch is unknown: set branch:"
        )

    def fetch(self, branch: str) -> str | None:
        """The remote branch's tip (fetched), or None when the remote has no such branch."""
        tracking = f"refs/remotes/{self.remote}/{branch}"
        spec = f"+refs/heads/{branch}:{tracking}"
        proc = self.run("fetch", "--quiet", "--no-tags", self.remote, spec)
        if proc.returncode != 0:
            err = _stderr(proc)
            if "couldn't find remote ref" in err:
                return None
            raise GitopsError(f"git fetch {self.remote} {branch} failed: {err}")
        return self.rev(tracking)

    def show(self, commit: str, file: str) -> str:
        proc = self.run("cat-file", "blob", f"{commit}:{file}")
        if proc.returncode != 0:
            raise GitopsError(f"{file} does not exist at {commit[:12]}")
        try:
            return proc.stdout.decode("utf-8")
        except UnicodeDecodeError:
            raise GitopsError(f"{file} is not UTF-8 text") from None

    def commit(self, parent: str, file: str, text: str, message: str) -> str:
        """A commit on ``parent`` with ``file`` (an existing regular file) replaced."""
        from gitops.gitcommit import REGULAR, commit_files, mode_of

        repo = self.repo()
        if mode_of(repo, parent, file) not in REGULAR:
            raise GitopsError(f"{file} is not a regular file at {parent[:12]}")
        return commit_files(repo, parent, {file: text.encode("utf-8")}, message, self.identity)

    def push(self, commit: str, branch: str) -> None:
        """A plain push (never forced): ``Rejected`` when it lost a race, ``PushRefused`` when
        the remote will not take it, ``PushUnreachable`` when it cannot be reached."""
        from gitops.gitcommit import set_ref

        ref = f"refs/heads/{branch}"
        result = push_commit(self.repo(), self.remote, commit, ref, timeout=self.left("git push"))
        if result.status == "race":
            raise Rejected(f"{branch} moved on {self.remote} ({result.reason})")
        with contextlib.suppress(GitopsError):  # our view of the remote; the next fetch sets it
            set_ref(self.repo(), f"refs/remotes/{self.remote}/{branch}", commit)

    def is_ancestor(self, older: str, newer: str) -> bool:
        return self.run("merge-base", "--is-ancestor", older, newer).returncode == 0

    def advance_local(self, branch: str, old: str, new: str, file: str) -> None:
        """Move a local branch (compare-and-swap); its checked-out file follows when clean."""
        ref = f"refs/heads/{branch}"
        head = self.run("symbolic-ref", "--quiet", "HEAD").stdout.decode().strip()
        if head == ref and self.out("status", "--porcelain", "--", file):
            raise GitopsError(f"{file} has uncommitted changes on {branch}: commit or stash them")
        if self.run("update-ref", ref, new, old).returncode != 0:
            raise Rejected(f"{branch} moved")
        if head == ref:
            self.out("checkout", "--quiet", new, "--", file)

    def pause(self, attempt: int) -> None:
        """A short random wait so two racing runs do not collide again in lockstep."""
        time.sleep(min(random.uniform(0.05, 0.3) * (attempt + 1), 2.0))
