"""What a report compares: two commits and how people name them.

- a pull/merge request: its head against the merge base with the target branch;
- a stage move: the new version's commit against the version the stage held before;
- the CLI: two refs, a version against the one before it, or a candidate against what a stage
  holds now.

Only names and commits are worked out here; reading the files at them is ``metrics``' job.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gitops.errors import GitopsError, UsageError
from gitops.registry.git import run_git
from gitops.registry.tags import ASSIGNMENT, UNASSIGNMENT
from gitops.report.model import Side

if TYPE_CHECKING:
    from gitops.ci.context import Context
    from gitops.registry.moves import StageMove
    from gitops.registry.reader import Registry
    from gitops.registry.state import Artifact, Version

Links = Callable[[str], str]  # a commit sha or tag name -> a page for people ("": none)


def no_links(_: str) -> str:
    return ""


@dataclass(frozen=True)
class Comparison:
    kind: str  # "pull_request", "stage_move", "refs", "version", "stage"
    title: str  # plain text; the template escapes it
    base: Side | None  # None: nothing before it (first version in the stage)
    head: Side
    artifact: str | None = None
    stage: str | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class HeldVersion:
    """A version a stage held, and the tag that put it there."""

    version: str
    sha: str
    tag: str


def resolve(repo: Path, ref: str) -> str:
    """The commit ``ref`` names (branch, tag, sha, ``HEAD~1``); a clear error if none."""
    if not ref or ref.startswith("-"):
        raise UsageError(f"not a revision: {ref!r}")
    try:
        out = run_git(
            repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"
        )
    except GitopsError:
        raise UsageError(f"no commit named {ref!r} in {repo}") from None
    return out.decode().strip()


def refs(repo: Path, base: str, head: str, links: Links = no_links) -> Comparison:
    base_sha, head_sha = resolve(repo, base), resolve(repo, head)
    return Comparison(
        "refs",
        f"{head} compared with {base}",
        Side(base, base_sha, links(base_sha)),
        Side(head, head_sha, links(head_sha)),
    )


def _find_version(artifact: Artifact, version: str) -> Version | None:
    for v in artifact.versions:
        if v.version == version:
            return v
    return None


def _artifact(registry: Registry, name: str) -> Artifact:
    from gitops.registry.views import find_artifact

    return find_artifact(registry, name)


def _version_side(registry: Registry, name: str, version: str, links: Links) -> Side:
    found = _find_version(_artifact(registry, name), version)
    if found is None:
        raise UsageError(f"{name} has no version {version!r}")
    tag = _registration_tag(found)
    return Side(
        f"{name}@{version}", found.commit, links(tag) if tag else links(found.commit), version
    )


def _registration_tag(version: Version) -> str:
    return next((e.tag for e in reversed(version.registrations) if e.tag), "")


def version(registry: Registry, name: str, number: str, links: Links = no_links) -> Comparison:
    """``NAME@VERSION`` against the registered version just below it (SemVer order)."""
    artifact = _artifact(registry, name)
    head = _version_side(registry, name, number, links)
    ordered = [v.version for v in artifact.get_versions(sort="semver")][::-1]  # ascending
    base = None
    if number in ordered and ordered.index(number) > 0:
        base = _version_side(registry, name, ordered[ordered.index(number) - 1], links)
    title = f"{name} {number}" + (f" compared with {base.version}" if base else "")
    notes = () if base else (f"{name} has no registered version before {number}",)
    return Comparison("version", title, base, head, artifact=name, notes=notes)


def candidate(
    registry: Registry, name: str, stage: str, number: str | None = None, links: Links = no_links
) -> Comparison:
    """A candidate (``number``, else the latest registered version) against what ``stage``
    holds now."""
    from gitops.registry.moves import stage_holders

    artifact = _artifact(registry, name)
    if number is None:
        latest = artifact.latest_version()
        if latest is None:
            raise UsageError(f"{name} has no registered version to compare with {stage}")
        number = latest.version
    head = _version_side(registry, name, number, links)
    held = stage_holders(registry, only=[name]).get((name, stage))
    base = _version_side(registry, name, held.version, links) if held else None
    what = f"{name} {number} for {stage}"
    title = what + (f" compared with {held.version} in {stage}" if held else "")
    notes = () if held else (f"first version in {stage}: {stage} holds no version of {name}",)
    return Comparison("stage", title, base, head, artifact=name, stage=stage, notes=notes)


def stage_move(registry: Registry, move: StageMove, links: Links = no_links) -> Comparison | None:
    """The moved-to version against the one the stage held before; None for a vacate."""
    if move.to_version is None or move.to_commit is None:
        return None
    head = Side(f"{move.artifact}@{move.to_version}", move.to_commit, links(move.tag),
                move.to_version)  # fmt: skip
    base = None
    if move.from_version is not None:
        base = _version_side(registry, move.artifact, move.from_version, links)
    title = f"{move.artifact} {move.to_version} in {move.stage}"
    if base is not None:
        title += f" (was {move.from_version})"
    notes = () if base else (f"first version in {move.stage}",)
    return Comparison("stage_move", title, base, head, move.artifact, move.stage, notes)


def stage_history(registry: Registry, name: str, stage: str, count: int) -> list[HeldVersion]:
    """The last ``count`` versions ``stage`` held, oldest first, from the registry's own
    assignment tags (an unassignment ends a holding; the same version twice in a row is one)."""
    if count <= 0:
        return []
    artifact = registry.state.artifacts.get(name)
    if artifact is None:
        return []
    commits = {v.version: v.commit for v in artifact.versions}
    held: list[HeldVersion] = []
    for event in reversed(artifact.events_desc):  # oldest first
        if event.stage != stage or event.kind not in (ASSIGNMENT, UNASSIGNMENT):
            continue
        if event.kind == UNASSIGNMENT or event.version is None:
            continue
        if held and held[-1].version == event.version:
            continue
        sha = commits.get(event.version, event.commit)
        held.append(HeldVersion(event.version, sha, event.tag or ""))
    return held[-count:]


def merge_base(
    repo: Path, head: str, target: str, fetch: Sequence[str], log: Callable[[str], None]
) -> str:
    """The merge base of ``head`` and ``target``; when the clone is too shallow to have one,
    fetch the missing history from origin (``fetch``: refspecs) and say so."""
    try:
        return run_git(repo, "merge-base", head, target).decode().strip()
    except GitopsError:
        pass
    shallow = run_git(repo, "rev-parse", "--is-shallow-repository").strip() == b"true"
    why = "the clone is shallow" if shallow else "the merge base is not in the clone"
    log(f"report: {why}: fetching the history of the target branch from origin to find it")
    args = ["fetch", "--quiet", "--no-tags", "--no-recurse-submodules", "--no-write-fetch-head"]
    if shallow:
        args.append("--unshallow")
    try:
        run_git(repo, *args, "origin", *fetch)
        return run_git(repo, "merge-base", head, target).decode().strip()
    except GitopsError as exc:
        raise GitopsError(
            f"no merge base of the pull request and {target}: {exc}. "
            'Fix: check out with `fetch-depth: 0` (GitLab: GIT_DEPTH: "0")'
        ) from None


def pull_request(repo: Path, ctx: Context, log: Callable[[str], None]) -> Comparison:
    """The PR/MR head against its merge base with the target branch."""
    head_sha = ctx.head_sha or ctx.sha
    if not head_sha:
        raise GitopsError("the event names no head commit for the pull request")
    base_sha = ctx.diff_base_sha  # GitLab says it; GitHub gives the target's tip
    if not base_sha:
        target = ctx.base_sha or f"refs/remotes/origin/{ctx.base_ref}"
        refspec = f"+refs/heads/{ctx.base_ref}:refs/remotes/origin/{ctx.base_ref}"
        if not _has_commit(repo, head_sha):
            refspec_head = [head_sha]
        else:
            refspec_head = []
        base_sha = merge_base(repo, head_sha, target, [refspec, *refspec_head], log)
    short = f"{head_sha[:7]}"
    title = f"{ctx.pr_label}: {ctx.pr_title}" if ctx.pr_title else ctx.pr_label
    return Comparison(
        "pull_request",
        title,
        Side(
            f"{ctx.base_ref or 'base'} (merge base {base_sha[:7]})",
            base_sha,
            ctx.commit_url(base_sha),
        ),
        Side(f"{ctx.head_ref or 'head'} ({short})", head_sha, ctx.commit_url(head_sha)),
    )


def _has_commit(repo: Path, sha: str) -> bool:
    try:
        run_git(repo, "cat-file", "-e", f"{sha}^{{commit}}")
    except GitopsError:
        return False
    return True


def touched_artifacts(repo: Path, registry: Registry, base: str, head: str) -> list[str]:
    """Artifacts whose path (dvc.yaml or artifacts.yaml) has a file changed between the two
    commits, in registry order."""
    from gitops.deploy.plan import artifact_info

    out = run_git(repo, "diff", "--name-only", "-z", "--no-renames", base, head, "--")
    changed = [p for p in out.decode("utf-8", "replace").split("\0") if p]
    touched = []
    for name, info in artifact_info(registry).items():
        if not info.path:
            continue
        subdir = name.rpartition(":")[0]
        path = f"{subdir}/{info.path}" if subdir else info.path
        path = path.strip("/")
        if any(f == path or f.startswith(path + "/") for f in changed):
            touched.append(name)
    return touched
