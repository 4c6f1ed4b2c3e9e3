"""What a policy check says: the rules a candidate breaks, each with how to meet it.

Pure data, shared by the policy check (``gitops.promote.policy``), promotion PRs (a failing
status and a comment), the merge job and hand-pushed tags (not deployed, the run fails).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Candidate:
    """A version asking to enter a stage, and what is known about who and how."""

    artifact: str
    version: str
    commit: str
    stage: str
    actor: str  # who promotes: the PR's merger or requester, or the tag's tagger
    now: datetime  # timezone-aware; injected, so tests never sleep
    tag: str | None = None  # the stage tag, when one exists (its signature is checked)
    approvals: tuple[str, ...] | None = None  # approvers of the PR/MR; None: not a PR
    labels: tuple[str, ...] = ()  # the PR/MR's labels (an override label lifts a freeze)


@dataclass(frozen=True)
class Violation:
    rule: str  # "order", "soak", "actors", "approvals", "signed_tags", "gates", "freeze"
    message: str  # what is wrong, plain text: "v1.3.0 has not run healthy in staging"
    fix: str  # how to meet it: "deploy it to staging first (gitops promote churn v1.3.0 staging)"


@dataclass(frozen=True)
class Decision:
    violations: tuple[Violation, ...] = ()
    notes: tuple[str, ...] = field(default=())  # recorded facts: "freeze lifted by label hotfix"

    @property
    def allowed(self) -> bool:
        return not self.violations
