"""Commit one file change on a branch's tip and push it, never forced and never through the
user's work tree: git plumbing in a private index, so a CI checkout at a tag, a dirty work tree
or another checked-out branch are all fine. A push that is not a fast-forward raises
``Rejected``: the caller fetches, redoes its change on the new tip and tries again.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import tempfile
import time
from pathlib import Path

from gitops.errors import GitopsError

_URL_CREDENTIALS = re.compile(r"(://)[^/@\s]+@")


def _stderr(proc: subprocess.CompletedProcess[bytes], also_stdout: bool = False) -> str:
    """git's complaint, without credentials a remote URL may carry (``https://x:token@``)."""
    raw = (proc.stdout + proc.stderr) if also_stdout else proc.stderr
    return _URL_CREDENTIALS.sub(r"\1***@", raw.decode("utf-8", "replace")).strip()


class Rejected(GitopsError):
    """The push was not a fast-forward: someone else moved the branch first."""


class GitWriter:
    """The few git commands a deploy needs, as argv lists, all within one time budget."""

    def __init__(self, work: Path, remote: str, author: str, timeout: float) -> None:
        """``author`` is ``Name <email>``; it is the committer too."""
        self.work, self.remote = work, remote
        self.deadline = time.monotonic() + timeout
        name, _, email = author.removesuffix(">").rpartition(" <")
        self.identity = {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
        }

    def run(
        self, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise GitopsError(f"out of time before git {args[0]}")
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
        """A commit on ``parent`` with ``file`` replaced, made in a private index."""
        mode = self.out("ls-tree", parent, "--", file).split(" ", 1)[0]
        if mode not in ("100644", "100755"):
            raise GitopsError(f"{file} is not a regular file at {parent[:12]}")
        blob = self.out("hash-object", "-w", "--stdin", stdin=text.encode("utf-8"))
        with tempfile.TemporaryDirectory(prefix="gitops-index-") as tmp:
            index = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            self.out("read-tree", parent, env=index)
            self.out("update-index", "--cacheinfo", f"{mode},{blob},{file}", env=index)
            tree = self.out("write-tree", env=index)
        return self.out(
            "commit-tree", tree, "-p", parent, "-F", "-", stdin=message.encode(), env=self.identity
        )

    def push(self, commit: str, branch: str) -> None:
        """A plain push (never forced); ``Rejected`` when it is not a fast-forward."""
        proc = self.run("push", "--porcelain", self.remote, f"{commit}:refs/heads/{branch}")
        if proc.returncode == 0:
            self.run("update-ref", f"refs/remotes/{self.remote}/{branch}", commit)
            return
        text = _stderr(proc, also_stdout=True)
        if any(s in text for s in ("fetch first", "non-fast-forward", "cannot lock ref")):
            raise Rejected(f"{branch} moved on {self.remote}")
        raise GitopsError(f"git push {self.remote} {branch} failed: {text}")

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
