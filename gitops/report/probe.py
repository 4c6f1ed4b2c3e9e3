"""Whether a revision has anything to report, answered without the report's code (no pydantic,
no PyYAML): a tag push on a registry without metrics files stays as light as it was.

Yes when the revision has ``metrics.json`` or ``params.yaml``, or a ``dvc.yaml`` that declares
metrics, params or plots (top-level or in a stage), or one this quick reader cannot tell about.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gitops.registry.git import read_paths_at, run_git

_KEYS = ("metrics", "params", "plots")


def has_report_files(repo: Path, shas: Sequence[str]) -> bool:
    if not shas:
        return False
    listing = run_git(repo, "ls-tree", "-r", "-z", "--name-only", "--full-tree", shas[0])
    dvc_yamls = [p for p in listing.decode("utf-8", "replace").split("\0")
                 if posixpath.basename(p) == "dvc.yaml"]  # fmt: skip
    probes = ["metrics.json", "params.yaml", *dvc_yamls]
    specs = [f"{sha}:{path}" for sha in shas for path in probes]
    found = read_paths_at(repo, specs, max_size=1 << 20)
    for spec in specs:
        at = found.get(spec)
        if at is None or at.type != "blob":
            continue
        if not spec.endswith("dvc.yaml") or at.content is None or _declares(at.content):
            return True
    return False


def _declares(content: bytes) -> bool:
    from gitops import yaml12_fast

    try:
        data: Any = yaml12_fast.load(content.decode("utf-8"))
    except (yaml12_fast.NotSimple, UnicodeDecodeError):
        return True  # cannot tell here: the report reads it properly
    if not isinstance(data, dict):
        return False
    if any(data.get(k) for k in _KEYS):
        return True
    stages = data.get("stages")
    if isinstance(stages, dict):
        return any(isinstance(s, dict) and any(s.get(k) for k in _KEYS) for s in stages.values())
    return False
