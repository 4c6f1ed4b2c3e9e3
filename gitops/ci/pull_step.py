"""The action's ``pull: true``: the pushed tag's version in the workspace, at its path.

gto-action's ``pull`` runs ``dvc pull $path`` in the checkout. Here the bytes come the way a
deploy gets them (``gitops.artifacts``): from Git, or DVC's cache or remote, every file checked
against its hash, and the version is the tag's, whatever commit is checked out. They are put in
place by a rename, so a failed fetch leaves nothing half-written; the job's later steps read
them from the output ``pulled-path``. A version without a path annotated fails, as gto-action's
does.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from gitops.artifacts.fetch import ORIGINS, fetch
from gitops.artifacts.resolve import GIT, files_count, human_size, resolve
from gitops.ci import summary
from gitops.ci.context import Context
from gitops.ci.reporter import Reporter
from gitops.errors import GitopsError
from gitops.registry.git import run_git
from gitops.registry.moves import Changes


def run(ctx: Context, repo: Path, changes: Changes, reporter: Reporter, record: object) -> None:
    """Fetch and place the tag's version; a failure fails the run (``record.fail``) and the
    rest of the run goes on."""
    tag = summary.primary_tag(changes)
    if tag is None or tag.artifact is None or not tag.version or tag.deleted:
        reporter.warning("pull: the event pushed no tag of an artifact version: nothing pulled")
        return
    path = summary.annotation(changes, repo, tag)["path"]
    label = f"pull: {tag.artifact} {tag.version}"
    if not path:
        message = f"{label}: no path for it in artifacts.yaml or dvc.yaml: nothing to pull"
        reporter.error(message)
        record.fail(message, 1)  # type: ignore[attr-defined]
        return
    try:
        with reporter.group(f"Pull {tag.artifact} {tag.version}"):
            placed = pull(repo, tag.artifact, path, _commit(changes, tag.artifact, tag.version))
            reporter.log(f"{label}: {placed[1]}")
    except GitopsError as exc:
        reporter.error(f"{label}: {exc}")
        record.fail(f"{label}: {exc}", 1)  # type: ignore[attr-defined]
        return
    record.pulled = os.path.relpath(placed[0], ctx.workspace)  # type: ignore[attr-defined]


def _commit(changes: Changes, artifact: str, version: str) -> str:
    found = changes.registry.state.artifacts.get(artifact)
    for v in found.versions if found is not None else ():
        if v.version == version:
            return v.commit
    raise GitopsError(f"{artifact} {version} is not in the registry")


def pull(repo: Path, artifact: str, path: str, commit: str) -> tuple[Path, str]:
    """(where the version now is, what was done) for ``artifact`` at ``commit``."""
    source = resolve(repo, artifact, path, commit)
    target = repo / source.path if source.path else repo
    if source.kind == GIT and run_git(repo, "rev-parse", "HEAD").decode().strip() == commit:
        return target, "already in the checkout (it is kept in Git)"
    if not source.path:
        raise GitopsError("no path annotated: the whole tree is not pulled over the checkout")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".gitops-pull-", dir=target.parent))
    try:
        fetched = fetch(repo, source, staging)
        if target.is_symlink() or target.exists():  # an earlier pull's: removed with staging
            target.rename(staging / ".previous")
        fetched.path.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    size = human_size(fetched.bytes)
    done = f"{files_count(fetched.files)}, {size}, from {ORIGINS[fetched.origin]}"
    return target, done
