"""Build real git repositories for tests: commits and annotated tags with exact dates."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

BASE_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_TERMINAL_PROMPT": "0",
}


def git(repo: Path, *args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
    full_env = {**os.environ, **BASE_ENV, **(env or {})}
    proc = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        env=full_env,
        check=False,
        timeout=60,
    )
    if check and proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout.strip()


def git_date(epoch: int, offset_minutes: int = 0) -> str:
    """Git's raw date format: ``1700000000 +0530``."""
    sign = "-" if offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"{epoch} {sign}{hours:02d}{minutes:02d}"


class Repo:
    """A repository in a temp dir with helpers that control every date and identity."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        git(path, "init", "-q", "-b", "main")
        git(path, "config", "user.name", "Test User")
        git(path, "config", "user.email", "test@example.com")
        git(path, "config", "tag.gpgSign", "false")
        git(path, "config", "commit.gpgSign", "false")
        self._n = 0

    def commit(
        self,
        message: str | None = None,
        files: dict[str, str] | None = None,
        epoch: int = 1_700_000_000,
        offset_minutes: int = 0,
        author: tuple[str, str] = ("Test User", "test@example.com"),
    ) -> str:
        """Commit ``files`` (default: a new counter file); returns the commit sha."""
        self._n += 1
        for name, content in (files or {f"file{self._n}.txt": f"{self._n}\n"}).items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
            git(self.path, "add", name)
        date = git_date(epoch, offset_minutes)
        env = {
            "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_DATE": date,
            "GIT_AUTHOR_NAME": author[0],
            "GIT_AUTHOR_EMAIL": author[1],
            "GIT_COMMITTER_NAME": author[0],
            "GIT_COMMITTER_EMAIL": author[1],
        }
        git(
            self.path,
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            message or f"commit {self._n}",
            env=env,
        )
        return git(self.path, "rev-parse", "HEAD")

    def tag(
        self,
        name: str,
        ref: str = "HEAD",
        epoch: int = 1_700_000_000,
        offset_minutes: int = 0,
        message: str | None = None,
        tagger: tuple[str, str] = ("Tagger", "tagger@example.com"),
        annotated: bool = True,
    ) -> None:
        """An annotated tag dated exactly ``epoch`` in the tagger's ``offset_minutes`` zone."""
        if not annotated:
            git(self.path, "tag", name, ref)
            return
        env = {
            "GIT_COMMITTER_DATE": git_date(epoch, offset_minutes),
            "GIT_COMMITTER_NAME": tagger[0],
            "GIT_COMMITTER_EMAIL": tagger[1],
        }
        git(self.path, "tag", "-a", name, ref, "-m", message or f"tag {name}", env=env)

    def delete_tag(self, name: str) -> None:
        git(self.path, "tag", "-d", name)

    def rev(self, ref: str = "HEAD") -> str:
        return git(self.path, "rev-parse", f"{ref}^{{commit}}")


def server_hook(bare: Path, name: str, body: str) -> Path:
    """A hook on a bare remote that also counts its runs (one per push attempt) in
    ``<name>.runs``; returns that file."""
    runs = bare / f"{name}.runs"
    path = bare / "hooks" / name
    path.write_text(f"#!/bin/sh\necho run >> '{runs}'\n{body}\n")
    path.chmod(0o755)
    return runs
