"""Does a stage tag carry a signature that verifies (``policies.<stage>.signed_tags``)?

Git itself decides (``git verify-tag``): SSH signatures against the allowed-signers file kept in
the repository (``.gitops/allowed_signers``, one ``principal key`` line each, reviewed like any
other change), GPG signatures against the runner's keyring. A tag that is missing, unsigned,
lightweight, or signed by a key nobody allowed does not verify.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from gitops.registry.git import GIT_TIMEOUT
from gitops.safetext import one_line

ALLOWED_SIGNERS = ".gitops/allowed_signers"


@dataclass(frozen=True)
class Verification:
    ok: bool
    detail: (
        str  # git's word on it, one line: "Good "git" signature for ..." / "No principal matched."
    )


def verify_tag(repo: Path, tag: str, signers_ref: str = "HEAD") -> Verification:
    """``git verify-tag`` of ``refs/tags/<tag>``, with the allowed signers as ``signers_ref``
    has them: the default branch, reviewed like any change, never the tagged commit's copy (a
    version's commit could carry its own signers file and vouch for any key)."""
    with tempfile.TemporaryDirectory(prefix="gitops-signers-") as folder:
        signers = _signers(repo, signers_ref, Path(folder))
        argv = ["git", "-C", str(repo)]
        if signers is not None:
            argv += ["-c", f"gpg.ssh.allowedSignersFile={signers}"]
        argv += ["verify-tag", f"refs/tags/{tag}"]
        result = _run(argv)
    if not result.ok and signers is None and "allowedSignersFile" in result.detail:
        return Verification(False, f"no {ALLOWED_SIGNERS} on {signers_ref} to check it against")
    return result


def _signers(repo: Path, ref: str, folder: Path) -> Path | None:
    """``ALLOWED_SIGNERS`` as ``ref`` has it, copied to ``folder``; None when it has none."""
    from gitops.errors import GitopsError
    from gitops.registry.git import run_git

    try:
        data = run_git(repo, "cat-file", "blob", f"{ref}:{ALLOWED_SIGNERS}")
    except GitopsError:
        return None
    path = folder / "allowed_signers"
    path.write_bytes(data)
    return path


def _run(argv: list[str]) -> Verification:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    try:
        proc = subprocess.run(
            argv,
            capture_output=True,
            timeout=GIT_TIMEOUT,
            env=env,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        return Verification(False, "git is not installed or not on PATH")
    except subprocess.TimeoutExpired:
        return Verification(False, f"git verify-tag timed out after {GIT_TIMEOUT} s")
    said = (proc.stderr + proc.stdout).decode("utf-8", "replace")
    lines = [one_line(line).strip() for line in said.splitlines() if line.strip()]
    if proc.returncode == 0:
        good = [line for line in lines if line.startswith("Good")]
        return Verification(True, (good or lines or ["verified"])[0])
    bad = [line for line in lines if not line.startswith("Good")]
    return Verification(
        False, "; ".join(bad or lines) or f"git verify-tag exited {proc.returncode}"
    )
