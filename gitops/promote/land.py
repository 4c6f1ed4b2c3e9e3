"""Land a merged promotion request: the stage tag ``name#stage#N`` on the version's commit,
made only when the stage's policy allows it, with the merger as tagger and the PR, requester,
approvers and any lifted freeze written in its message (the durable record ``audit`` reads).

The tag is created in the local clone; pushing it is the caller's (``gitops.ci.merge_step``),
as is deciding what a lost race means. A refused request leaves no tag behind: the one made
here for the signature check was never pushed, and is removed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from gitops.promote.decision import Candidate, Decision
from gitops.promote.request import PromotionRequest
from gitops.registry.git import run_git

if TYPE_CHECKING:
    from gitops.config import GitopsConfig
    from gitops.deploy.state import LiveState
    from gitops.forge.base import MergedPullRequest
    from gitops.promote.policy import Members
    from gitops.registry.reader import Registry
    from gitops.registry.signing import Signing
    from gitops.report.compare import Links
    from gitops.report.model import GateReport

# Lines of a stage tag's message that ``audit`` reads back (one "Key: value" each).
PROMOTION, REQUESTED_BY, APPROVED_BY, MERGED_BY, LIFTED = (
    "Promotion",
    "Requested by",
    "Approved by",
    "Merged by",
    "Freeze lifted",
)


@dataclass(frozen=True)
class Merger:
    """Who merged: the forge's word (``merged_by``), else the merge commit's committer."""

    name: str
    email: str
    source: str  # "forge" or "commit"


@dataclass(frozen=True)
class Landing:
    request: PromotionRequest
    outcome: str  # "tagged" (made here, not pushed yet), "refused"
    tag: str = ""
    pr_url: str = ""
    merged_by: str = ""
    decision: Decision | None = None


def committer(repo: Path, sha: str) -> Merger:
    """The committer of ``sha``: who merged, when the forge cannot say."""
    out = run_git(repo, "log", "-1", "--format=%cn%x00%ce", sha, "--")
    name, _, email = out.decode("utf-8", "replace").strip().partition("\0")
    return Merger(name or "unknown", email, "commit")


def tag_message(
    request: PromotionRequest,
    pr: MergedPullRequest | None,
    merger: Merger,
    approvals: Sequence[str] | None,
    notes: Sequence[str],
) -> str:
    """GTO's assignment message, then the record of the promotion, one ``Key: value`` line
    each (every value on one line: a reason or name cannot add lines of its own)."""
    from gitops.safetext import one_line

    r = request
    lines = [f"Assigning stage {r.stage} to artifact {r.artifact} version {r.version}", ""]
    if pr is not None and pr.url:
        lines.append(f"{PROMOTION}: {one_line(pr.url)}")
    lines.append(f"{REQUESTED_BY}: {one_line(r.requested_by)}")
    if approvals:
        lines.append(f"{APPROVED_BY}: {one_line(', '.join(approvals))}")
    lines.append(f"{MERGED_BY}: {one_line(merger.name)}")
    lines += [f"{LIFTED}: {one_line(note)}" for note in notes]
    return "\n".join(lines) + "\n"


def land(
    root: Path,
    registry: Registry,
    config: GitopsConfig | None,
    state: LiveState | None,
    request: PromotionRequest,
    *,
    pr: MergedPullRequest | None,
    approvals: list[str] | None,
    merger: Merger,
    now: datetime,
    members: Members | None = None,
    signing: Signing | None = None,
    links: Links | None = None,
    run_url: str = "",
) -> Landing:
    """Check the stage's policy for ``request`` as merged by ``merger`` and, if allowed, create
    its stage tag (GTO's next counter) in ``root``. ``approvals`` None: no PR/MR was found
    (the request reached the branch without review)."""
    from gitops.deploy.state import LiveState
    from gitops.promote import policy
    from gitops.registry.write import assign

    policy_of = config.policies.get(request.stage) if config is not None else None
    labels = tuple(pr.labels) if pr is not None else ()
    candidate = Candidate(
        request.artifact,
        request.version,
        request.commit,
        request.stage,
        merger.name,
        now,
        approvals=tuple(approvals) if approvals is not None else None,
        labels=labels,
    )
    gates = None
    if policy_of is not None and policy_of.gates:
        assert config is not None
        gates = candidate_gates(root, registry, config, request, links, run_url)
    decision = Decision()
    if policy_of is not None:  # the rules that need no tag, before one exists
        assert config is not None
        decision = policy.check(candidate, config, registry=registry, state=state or LiveState(),
                                repo=root, members=members, gates=gates,
                                skip=frozenset({"signed_tags"}))  # fmt: skip
        if not decision.allowed:
            return Landing(request, "refused", pr_url=_url(pr), merged_by=merger.name,
                           decision=decision)  # fmt: skip
    message = tag_message(request, pr, merger, approvals, decision.notes)
    made = assign(root, request.artifact, request.stage, version=request.version,
                  message=message, tagger=(merger.name, merger.email), signing=signing,
                  registry=registry)  # fmt: skip
    tag = made[-1]
    if policy_of is not None and policy_of.signed_tags:
        assert config is not None
        signed = policy.check(replace(candidate, tag=tag), config, registry=registry,
                              state=state or LiveState(), repo=root, members=members,
                              gates=gates)  # fmt: skip
        if not signed.allowed:
            run_git(root, "tag", "--delete", tag)  # ours, never pushed
            return Landing(request, "refused", pr_url=_url(pr), merged_by=merger.name,
                           decision=signed)  # fmt: skip
    return Landing(request, "tagged", tag=tag, pr_url=_url(pr), merged_by=merger.name,
                   decision=decision)  # fmt: skip


def _url(pr: MergedPullRequest | None) -> str:
    return pr.url if pr is not None else ""


def candidate_gates(
    root: Path,
    registry: Registry,
    config: GitopsConfig,
    request: PromotionRequest,
    links: Links | None,
    run_url: str,
) -> GateReport:
    """The gates of the candidate's report against what the stage holds now."""
    from gitops.promote.open import Candidate as Asked
    from gitops.promote.open import candidate_report
    from gitops.registry.moves import stage_holders
    from gitops.report.compare import no_links

    held = stage_holders(registry, only=[request.artifact]).get((request.artifact, request.stage))
    asked = Asked(request.artifact, request.version, request.commit, request.stage,
                  held.version if held else None)  # fmt: skip
    report = candidate_report(root, registry, config, asked, "", links or no_links, run_url)
    return report.gates
