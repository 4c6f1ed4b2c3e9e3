"""The merge half of a promotion: which promotion requests a push to the default branch
brought in, and which of them still need their stage tag.

A request whose stage already holds its version needs nothing: a re-run of the merge job, or
the second of two racing merges, makes no second tag (the tag push itself is the last guard:
a rejected push means someone else made it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gitops.errors import GitopsError
from gitops.promote.request import FOLDER, PromotionRequest, parse_request
from gitops.registry.git import read_paths_at, run_git

ZERO_SHA = "0" * 40  # git's "no commit" (a new branch's before)

if TYPE_CHECKING:
    from gitops.registry.reader import Registry


@dataclass(frozen=True)
class Pending:
    request: PromotionRequest
    state: str  # "to-tag", "done" (the stage holds the version), "unknown-version", "moved"
    detail: str = ""


def requests_in_push(repo: Path, before: str, after: str) -> list[PromotionRequest]:
    """The request files added or changed between ``before`` and ``after`` (a new branch, or
    an unknown ``before``: every request file at ``after``), parsed; a broken one is a
    YamlFileError with its file and line."""
    if before and before != ZERO_SHA:
        out = run_git(repo, "diff", "--name-only", "-z", "--no-renames", "--diff-filter=AM",
                      before, after, "--", FOLDER)  # fmt: skip
    else:
        out = run_git(repo, "ls-tree", "-r", "-z", "--name-only", after, "--", FOLDER)
    paths = [p for p in out.decode("utf-8", "replace").split("\0")
             if p.startswith(FOLDER + "/") and p.endswith(".yaml")]  # fmt: skip
    specs = [f"{after}:{p}" for p in paths]
    found = read_paths_at(repo, specs, max_size=1 << 16)
    requests = []
    for path, spec in zip(paths, specs, strict=True):
        at = found.get(spec)
        if at is None or at.content is None:
            raise GitopsError(f"{path}: cannot read the promotion request at {after[:7]}")
        requests.append(parse_request(at.content, path))
    return requests


def pending(registry: Registry, requests: list[PromotionRequest]) -> list[Pending]:
    """What each request still needs, from the registry as it is now."""
    from gitops.registry.moves import stage_holders

    holders = stage_holders(registry)
    out = []
    for request in requests:
        artifact = registry.state.artifacts.get(request.artifact)
        version = None
        if artifact is not None:
            version = next((v for v in artifact.versions if v.version == request.version), None)
        if version is None:
            out.append(Pending(request, "unknown-version",
                               f"{request.artifact} has no version {request.version}"))  # fmt: skip
            continue
        if version.commit != request.commit:
            out.append(Pending(request, "moved", f"{request.artifact} {request.version} is on "
                               f"{version.commit[:7]} now, not {request.commit[:7]} as "
                               "requested"))  # fmt: skip
            continue
        held = holders.get((request.artifact, request.stage))
        if held is not None and held.version == request.version:
            out.append(Pending(request, "done", f"{request.stage} already holds it"))
            continue
        out.append(Pending(request, "to-tag"))
    return out
