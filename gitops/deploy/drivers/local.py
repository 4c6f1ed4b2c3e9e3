"""Materialise an artifact's files at its version's commit into a directory per environment.

The embedded default: the demo and single-machine setups deploy with it. The new files are
extracted next to the old ones and swapped in by a rename, so a failed extract leaves the
running version untouched.
"""

from __future__ import annotations

import io
import json
import shutil
import tarfile
import tempfile
from pathlib import Path

from gitops.deploy.drivers.base import DeployOutcome, DeployRequest, Driver
from gitops.deploy.drivers.settings import LocalSettings
from gitops.errors import GitopsError
from gitops.registry.git import run_git

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
        paths = [request.path] if request.path else []
        try:
            archive = run_git(request.repo, "archive", "--format=tar", request.commit, "--", *paths)
        except GitopsError as exc:
            return DeployOutcome(False, f"cannot read {request.path or 'files'}: {exc}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(staging, filter="data")  # no absolute paths, links out or devices
        (staging / MARKER_FILE).write_text(
            json.dumps(
                {"artifact": request.artifact, "version": request.version, "commit": request.commit}
            )
            + "\n"
        )
        old = dest.with_name(dest.name + ".old")
        if dest.exists():
            shutil.rmtree(old, ignore_errors=True)
            dest.rename(old)
        staging.rename(dest)
        shutil.rmtree(old, ignore_errors=True)
        return DeployOutcome(True, f"wrote {request.version} into {dest}", {"dir": str(dest)})

    def observe(self, repo: Path, environment: str, artifact: str) -> tuple[bool, str | None]:
        return True, deployed_version(self.base(repo), environment, artifact)


def deployed_version(base: Path, environment: str, artifact: str) -> str | None:
    """What the directory holds now (the demo shows drift by editing it)."""
    marker = target_dir(base, environment, artifact) / MARKER_FILE
    try:
        return json.loads(marker.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None
