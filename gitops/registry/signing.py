"""Signing the tags gitops writes (``policies.<stage>.signed_tags``): the key comes from the
environment, never from a file in the repository.

- ``GITOPS_SIGNING_KEY``: an SSH private key (its text, as a CI secret holds it, or a path to
  it), or with ``GITOPS_SIGNING_FORMAT=openpgp`` a GPG key id in the runner's keyring.
- ``GITOPS_SIGNING_FORMAT``: ``ssh`` (the default) or ``openpgp``.

Key text is written to a private temporary file for the one ``git tag`` and removed after.
git itself signs (``git tag --sign`` with ``gpg.format`` and ``user.signingKey`` given through
the environment, never argv), so what verifies is exactly what ``git verify-tag`` checks.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gitops.errors import UsageError

FORMATS = ("ssh", "openpgp")


@dataclass(frozen=True)
class Signing:
    format: str  # "ssh" or "openpgp"
    key: str  # the SSH key file, or the GPG key id

    @property
    def git_env(self) -> dict[str, str]:
        """git config for ``git tag --sign``, through the environment."""
        return {
            "GIT_CONFIG_COUNT": "2",
            "GIT_CONFIG_KEY_0": "gpg.format",
            "GIT_CONFIG_VALUE_0": self.format,
            "GIT_CONFIG_KEY_1": "user.signingKey",
            "GIT_CONFIG_VALUE_1": self.key,
        }


@contextmanager
def signing_from_env(env: Mapping[str, str] | None = None) -> Iterator[Signing | None]:
    """The configured key (None: tags are annotated, not signed), usable inside the block."""
    env = os.environ if env is None else env
    value = env.get("GITOPS_SIGNING_KEY", "").strip()
    kind = env.get("GITOPS_SIGNING_FORMAT", "").strip().lower() or "ssh"
    if kind not in FORMATS:
        raise UsageError(f"GITOPS_SIGNING_FORMAT is {kind!r}: use ssh or openpgp")
    if not value:
        yield None
        return
    if kind == "openpgp" or not value.startswith("-----BEGIN"):
        if kind == "ssh" and not Path(value).expanduser().is_file():
            raise UsageError(
                "GITOPS_SIGNING_KEY is neither an SSH private key nor the path of one "
                "(for a GPG key id, set GITOPS_SIGNING_FORMAT=openpgp)"
            )
        key = str(Path(value).expanduser()) if kind == "ssh" else value
        yield Signing(kind, key)
        return
    with tempfile.TemporaryDirectory(prefix="gitops-sign-") as folder:
        path = Path(folder) / "key"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(value.replace("\r\n", "\n").rstrip("\n") + "\n")
        yield Signing("ssh", str(path))
