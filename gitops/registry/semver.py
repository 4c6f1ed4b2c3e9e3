"""SemVer 2.0 ordering as GTO applies it (via the `semver` package: ASCII only, build ignored)."""

from __future__ import annotations

import re
from functools import lru_cache

_ID = r"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
_STRICT = re.compile(
    r"v(?P<major>0|[1-9][0-9]*)\.(?P<minor>0|[1-9][0-9]*)\.(?P<patch>0|[1-9][0-9]*)"
    rf"(?:-(?P<pre>{_ID}(?:\.{_ID})*))?"
    r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?",
    re.ASCII,
)

SemverKey = tuple[int, int, int, tuple]


@lru_cache(maxsize=65536)
def semver_key(version: str) -> SemverKey | None:
    """A sort key for a ``vX.Y.Z`` version, or ``None`` if it is not one (commit shas)."""
    m = _STRICT.fullmatch(version)
    if m is None:
        return None
    pre = m["pre"]
    if pre is None:
        rank: tuple = (1,)  # a release sorts after all of its pre-releases
    else:
        rank = (0, tuple((0, int(p)) if p.isdigit() else (1, p) for p in pre.split(".")))
    return int(m["major"]), int(m["minor"]), int(m["patch"]), rank


def bump(version: str, part: str) -> str:
    """``v1.2.3`` bumped by ``major``/``minor``/``patch`` (pre-release and build dropped)."""
    m = _STRICT.fullmatch(version)
    if m is None:
        raise ValueError(f"not a semantic version: {version!r}")
    major, minor, patch = int(m["major"]), int(m["minor"]), int(m["patch"])
    if part == "major":
        return f"v{major + 1}.0.0"
    if part == "minor":
        return f"v{major}.{minor + 1}.0"
    return f"v{major}.{minor}.{patch + 1}"
