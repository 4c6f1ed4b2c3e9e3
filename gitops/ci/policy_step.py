"""Policies for tags pushed by hand: before a tag event deploys, each stage move is checked
against its stage's policy (``gitops.promote.policy``). A refused move is not deployed: the
environments of its stage are left as they are, the run fails with each broken rule and how to
meet it, and nothing is deleted (the tag stays; Git is put right by people)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from gitops.ci.context import Context
from gitops.ci.reporter import Reporter
from gitops.errors import GitopsError
from gitops.promote import times

if TYPE_CHECKING:
    from gitops.config import GitopsConfig
    from gitops.promote.decision import Decision
    from gitops.registry.moves import Changes
    from gitops.report.model import Report


def refused_stages(
    ctx: Context,
    config: GitopsConfig,
    changes: Changes,
    reports: Sequence[Report],
    reporter: Reporter,
    now: datetime | None = None,
    signers_ref: str = "HEAD",
) -> dict[str, list[str]]:
    """Stage -> the messages of its refused moves (empty: every move may deploy)."""
    moves = [m for m in changes.moves if m.to_version and m.stage in config.policies]
    if not moves:
        return {}
    from gitops.ci.deploy_step import read_state
    from gitops.promote.decision import Candidate
    from gitops.promote.policy import check

    state = read_state(ctx, config, changes.registry.root)
    members = _members(ctx, reporter)
    refused: dict[str, list[str]] = {}
    when = now or times.now()
    for move in moves:
        assert move.to_version is not None and move.to_commit is not None
        gates = next((r.gates for r in reports if r.head.sha == move.to_commit), None)
        candidate = Candidate(move.artifact, move.to_version, move.to_commit, move.stage,
                              move.actor, when, tag=move.tag)  # fmt: skip
        decision = check(candidate, config, registry=changes.registry, state=state,
                         repo=changes.registry.root, members=members, gates=gates,
                         signers_ref=signers_ref)  # fmt: skip
        for note in decision.notes:
            reporter.log(f"policy: {note}")
        if not decision.allowed:
            refused.setdefault(move.stage, []).extend(_messages(move.tag, decision))
    return refused


def _messages(tag: str, decision: Decision) -> list[str]:
    return [
        f"{tag} is not deployed: policy {v.rule}: {v.message}. Fix: {v.fix}."
        for v in decision.violations
    ]


def _members(ctx: Context, reporter: Reporter):  # noqa: ANN202 - Members | None
    """Team/group membership through the forge, when there is one to ask."""
    if not ctx.token or ctx.platform.value == "local":
        return None
    from gitops.forge import forge_for

    forge = forge_for(ctx, log=reporter.log)
    return None if forge is None else forge.is_member


def default_branch_ref(ctx: Context, env: Mapping[str, str], repo: Path) -> str:
    """The default branch's tip, fetched into ``refs/gitops/default-branch``: its
    ``.gitops/allowed_signers`` is the one that counts (a tag's checkout has the tagged
    commit's, which anyone who can register a version could have written)."""
    from gitops.ci.promote_step import default_branch
    from gitops.promote.signature import ALLOWED_SIGNERS
    from gitops.registry.git import run_git

    try:
        branch = default_branch(ctx, env)
    except GitopsError:  # the event does not say: ask origin where its HEAD points
        said = run_git(repo, "ls-remote", "--symref", "origin", "HEAD").decode()
        found = [line.split()[1] for line in said.splitlines() if line.startswith("ref: ")]
        if not found:
            raise GitopsError("cannot tell the repository's default branch, whose "
                              f"{ALLOWED_SIGNERS} counts") from None  # fmt: skip
        branch = found[0].removeprefix("refs/heads/")
    ref = "refs/gitops/default-branch"
    try:
        run_git(repo, "fetch", "--quiet", "--no-tags", "--depth=1", "origin",
                f"+refs/heads/{branch}:{ref}")  # fmt: skip
    except GitopsError as exc:
        raise GitopsError(f"cannot fetch the default branch {branch!r} to read its allowed "
                          f"signers: {exc}") from None  # fmt: skip
    return ref
