"""Materialise an artifact's files at its version's commit into a directory per environment.

The embedded default: the demo and single-machine setups deploy with it. The new files are
extracted next to the old ones and swapped in by a rename, so a failed extract leaves the
running version untouched. The marker file beside them records the version and the SHA-256 of
every file, so ``observe`` finds a hand-edited model (its bytes changed) and a deleted folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from gitops.artifacts.fetch import ORIGINS, fetch
from gitops.artifacts.resolve import DVC, files_count, human_size
from gitops.deploy.drivers.base import DeployOutcome, DeployRequest, Driver, Observation
from gitops.deploy.drivers.settings import LocalSettings
from gitops.errors import GitopsError

MARKER_FILE = ".gitops-deployed.json"


def target_dir(base: Path, environment: str, artifact: str) -> Path:
    """``<dir>/<environment>/<artifact>``; ``dir:name`` artifacts keep their folder."""
    return base / environment / artifact.replace(":", "/")


class LocalDriver(Driver):
    name = "local"
    Settings = LocalSettings

    def base(self, repo: Path) -> Path:
        assert isinstance(self.settings, LocalSettings)
        return (repo / self.settings.dir).resolve()

    def deploy(self, request: DeployRequest) -> DeployOutcome:
        dest = target_dir(self.base(request.repo), request.environment, request.artifact)
        if request.dry_run:
            return DeployOutcome(True, f"would write {request.version} into {dest}")
        if request.version is None:
            if dest.exists():
                shutil.rmtree(dest)
            return DeployOutcome(True, f"removed {dest}")
        assert request.commit is not None
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
        try:
            source = request.source()
            if source.kind == DVC:
                fetched = request.place(staging)  # fetched once per run, whatever the number
            else:
                fetched = fetch(request.repo, source, staging)
        except (GitopsError, OSError) as exc:
            shutil.rmtree(staging, ignore_errors=True)
            return DeployOutcome.untouched(str(exc))
        marker = {
            "artifact": request.artifact,
            "version": request.version,
            "commit": request.commit,
            # DVC's md5s, checked as the bytes came: no second read of a big model
            "hash": "md5" if fetched.md5s else "sha256",
            "files": fetched.md5s or file_hashes(staging),
        }
        (staging / MARKER_FILE).write_text(json.dumps(marker, indent=1, sort_keys=True) + "\n")
        old = dest.with_name(dest.name + ".old")
        if dest.exists():
            shutil.rmtree(old, ignore_errors=True)
            dest.rename(old)
        staging.rename(dest)
        shutil.rmtree(old, ignore_errors=True)
        return DeployOutcome(
            True,
            f"wrote {request.version} into {dest} ({files_count(fetched.files)}, "
            f"{human_size(fetched.bytes)}, from {ORIGINS[fetched.origin]})",
            {"dir": str(dest), "origin": fetched.origin},
        )

    def observe(self, repo: Path, environment: str, artifact: str) -> Observation:
        return observe_dir(target_dir(self.base(repo), environment, artifact))


def file_hashes(root: Path, algorithm: str = "sha256") -> dict[str, str]:
    """``relative/path -> hash`` of every file under ``root`` but the marker; a symlink by
    its target's text (what ``git archive`` wrote), never followed."""
    hashes: dict[str, str] = {}
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            rel = path.relative_to(root).as_posix()
            if rel == MARKER_FILE:
                continue
            if path.is_symlink():
                digest = hashlib.new(algorithm, os.readlink(path).encode()).hexdigest()
            else:
                with open(path, "rb") as f:
                    digest = hashlib.file_digest(f, algorithm).hexdigest()
            hashes[rel] = digest
    return hashes


def observe_dir(dest: Path) -> Observation:
    """What the directory holds now, checked byte for byte against the deploy's record."""
    if not dest.is_dir():
        return Observation("missing", None, f"{dest} does not exist")
    try:
        marker = json.loads((dest / MARKER_FILE).read_text())
        version = marker["version"]
        recorded = marker.get("files")
    except (OSError, ValueError, KeyError, TypeError):
        return Observation("unknown", None, f"{dest} holds files gitops did not put there")
    if not isinstance(recorded, dict):  # written before hashes were recorded: cannot tell
        return Observation("running", version, "bytes not checked (no hashes recorded)")
    algorithm = marker.get("hash", "sha256")
    if algorithm not in ("sha256", "md5"):
        return Observation("unknown", version, f"{dest}: unknown hash {algorithm!r} in its record")
    found = file_hashes(dest, algorithm)
    changed = sorted(p for p in recorded.keys() & found.keys() if recorded[p] != found[p])
    gone = sorted(recorded.keys() - found.keys())
    added = sorted(found.keys() - recorded.keys())
    if not (changed or gone or added):
        return Observation("running", version)
    parts = [
        f"{label} {', '.join(paths[:3])}{' …' if len(paths) > 3 else ''}"
        for label, paths in (("changed:", changed), ("missing:", gone), ("added:", added))
        if paths
    ]
    return Observation("modified", version, "; ".join(parts))
