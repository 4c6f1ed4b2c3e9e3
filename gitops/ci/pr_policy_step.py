"""The policy verdict on a promotion PR/MR: one that adds or changes a request file under
``.gitops/promotions/``. It gets a commit status ``gitops/policy`` on its head (failure names the
broken rules) and a section of the sticky comment saying each rule and how to meet it, so a
violation is never silent. The merge job checks again with who merged; this is what reviewers
see before.

Checked now: order and soak, approvals, labels against freeze windows, the metric gates. Not
yet: who may promote (``actors``: the merger is not known before the merge) and the signature
(the stage tag does not exist yet). Both are named in the comment as checked at the merge.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gitops.ci.context import Context
from gitops.ci.reporter import Reporter
from gitops.errors import GitopsError

if TYPE_CHECKING:
    from gitops.config import GitopsConfig
    from gitops.forge.base import Forge
    from gitops.promote.decision import Decision
    from gitops.promote.request import PromotionRequest
    from gitops.registry.reader import Registry

STATUS_CONTEXT = "gitops/policy"
LATER = frozenset({"actors", "signed_tags"})  # need the merger, the tag


def has_requests(repo: Path, sha: str) -> bool:
    """Whether ``sha``'s tree has promotion requests at all: one ``ls-tree``, so a PR of a
    repository without promotions pays nothing more."""
    from gitops.promote.request import FOLDER
    from gitops.registry.git import run_git

    try:
        return bool(run_git(repo, "ls-tree", "--name-only", sha, "--", FOLDER).strip())
    except GitopsError:
        return False


def run(
    ctx: Context,
    repo: Path,
    config: GitopsConfig,
    registry: Registry,
    reporter: Reporter,
) -> str:
    """The policy section of the PR/MR's comment ("" for a PR without promotion requests);
    the commit status is set on the way."""
    from gitops.promote.merge import requests_in_push
    from gitops.report.compare import pull_request

    head = ctx.head_sha or ctx.sha
    if not head or not has_requests(repo, head):
        return ""
    base = pull_request(repo, ctx, reporter.log).base
    assert base is not None
    requests = requests_in_push(repo, base.sha, head)
    if not requests:
        return ""
    from gitops.forge import forge_for

    forge = None if not ctx.token else forge_for(ctx, log=reporter.log)
    approvals, labels = _review(ctx, forge, reporter)
    sections, refused = [], []
    with reporter.group("Promotion policy"):
        for request in requests:
            decision = _decide(ctx, repo, config, registry, request, approvals, labels)
            what = f"{request.artifact} {request.version} -> {request.stage}"
            for v in decision.violations:
                reporter.log(f"policy: {what}: {v.rule}: {v.message}. Fix: {v.fix}.")
            if not decision.allowed:
                refused.append((request, decision))
            sections.append(_section(request, decision, config))
    _status(ctx, forge, head, refused, reporter)
    return "\n".join(sections)


def _review(
    ctx: Context, forge: Forge | None, reporter: Reporter
) -> tuple[tuple[str, ...] | None, tuple[str, ...]]:
    """Who approves the PR/MR now and its labels; (None, ()) when the forge cannot say (then
    ``approvals`` is a broken rule whose fix is to run where the forge answers)."""
    if forge is None or ctx.pr_number is None:
        return None, ()
    try:
        return tuple(forge.approvers(ctx.pr_number)), tuple(forge.labels(ctx.pr_number))
    except GitopsError as exc:
        reporter.warning(f"could not read the approvals and labels of {ctx.pr_label}: {exc}")
        return None, ()


def _decide(
    ctx: Context,
    repo: Path,
    config: GitopsConfig,
    registry: Registry,
    request: PromotionRequest,
    approvals: tuple[str, ...] | None,
    labels: tuple[str, ...],
) -> Decision:
    from gitops.ci.deploy_step import read_state
    from gitops.ci.report_step import _links
    from gitops.promote import times
    from gitops.promote.decision import Candidate, Decision
    from gitops.promote.land import candidate_gates
    from gitops.promote.merge import pending
    from gitops.promote.policy import check

    [item] = pending(registry, [request])
    if item.state in ("unknown-version", "moved"):
        from gitops.promote.decision import Violation

        fix = f"ask again: gitops promote {request.artifact} VERSION {request.stage}"
        return Decision((Violation("request", item.detail, fix),))
    policy = config.policies.get(request.stage)
    if policy is None:
        return Decision()
    gates = None
    if policy.gates:
        gates = candidate_gates(repo, registry, config, request, _links(ctx), ctx.run_url)
    state = read_state(ctx, config, repo)
    candidate = Candidate(request.artifact, request.version, request.commit, request.stage,
                          "", times.now(), approvals=approvals, labels=labels)  # fmt: skip
    return check(candidate, config, registry=registry, state=state, repo=repo, gates=gates,
                 skip=LATER)  # fmt: skip


def _section(request: PromotionRequest, decision: Decision, config: GitopsConfig) -> str:
    from gitops.markdown import code
    from gitops.promote.policy import describe

    r = request
    head = f"### Promotion of {code(r.artifact, False)} {code(r.version, False)} to " \
           f"{code(r.stage, False)}\n\n"  # fmt: skip
    policy = config.policies.get(r.stage)
    later = []
    if policy is not None and policy.actors is not None:
        who = ", ".join(code(a, False) for a in policy.actors) or "nobody"
        later.append(f"merged by one of {who}")
    if policy is not None and policy.signed_tags:
        later.append("the stage tag verifies (signed by the merge job)")
    tail = ""
    if later:
        tail = "\nChecked at the merge: " + "; ".join(later) + ".\n"
    return head + describe(decision) + tail


def _status(
    ctx: Context,
    forge: Forge | None,
    head: str,
    refused: list[tuple[PromotionRequest, Decision]],
    reporter: Reporter,
) -> None:
    if forge is None or ctx.read_only_token:
        return
    if refused:
        rules = dict.fromkeys(v.rule for _, d in refused for v in d.violations)
        state, text = "failure", "policy not met: " + ", ".join(rules)
    else:
        state, text = "success", "every policy rule met so far (who merges: at the merge)"
    try:
        forge.set_commit_status(head, state, STATUS_CONTEXT, text[:140], ctx.run_url)
    except GitopsError as exc:
        reporter.warning(f"could not set the commit status {STATUS_CONTEXT}: {exc}")
