"""Does a stage tag carry a signature that verifies (``policies.<stage>.signed_tags``)?

Git itself decides (``git verify-tag``): SSH signatures against the allowed-signers file kept in
the repository (``.gitops/allowed_signers``, one ``principal key`` line each, reviewed like any
other change), GPG signatures against the runner's keyring. A tag that is missing, unsigned,
lightweight, or signed by a key nobody allowed does not verify.
"""

from __future__ import annotations

import os
import subprocess
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


def verify_tag(repo: Path, tag: str) -> Verification:
    """``git verify-tag`` of ``refs/tags/<tag>``, with the repository's allowed signers."""
    argv = ["git", "-C", str(repo)]
    signers = repo / ALLOWED_SIGNERS
    if signers.is_file():
        argv += ["-c", f"gpg.ssh.allowedSignersFile={signers.resolve()}"]
    argv += ["verify-tag", f"refs/tags/{tag}"]
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
