"""The policy check: may this version enter this stage now? (``policies:`` in gitops.yaml)

One function for promotion PRs, their merge and hand-pushed tags alike, so a rule cannot be
met one way and dodged another. It only decides: it reads the registry, the state store the
caller loaded and, for signed tags, asks ``git verify-tag``; team membership is asked of the
forge through ``members`` by the caller. Every rule broken is a Violation with how to meet it;
nothing that cannot be checked passes silently.

Rules, in this order (all are checked: a refusal lists every rule broken at once):

- order (``after``): in each listed stage, every environment that runs the artifact has the
  version proven (``gitops.deploy.order.proof``: its newest word there is a healthy deploy).
  A listed stage where no environment runs the artifact cannot prove anything: a violation.
- soak: each such proof has run for at least ``soak``, from its deploy until ``now`` or until a
  different version replaced it there (it proved itself for that long, not merely long ago).
- actors: the actor is a listed user (case-insensitive, as logins are) or a member of a listed
  team/group (``@org/team``: ``members("org/team", actor)``).
- approvals: distinct approvers of the PR/MR; a hand-pushed tag (no PR) has none to count.
- freeze: no window open at ``now`` (``gitops.promote.freeze``); the override label on the PR
  lifts it, and the lift is recorded as a note.
- gates: the gate report of the candidate against what the stage holds must pass; with gates
  configured and no report given, that is a violation too.
- signed_tags: the stage tag verifies (``gitops.promote.signature``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from gitops.markdown import escape
from gitops.promote.decision import Candidate, Decision, Violation
from gitops.promote.times import parse, span

if TYPE_CHECKING:
    from gitops.config import GitopsConfig
    from gitops.deploy.state import Deployed, LiveState
    from gitops.promote.settings import StagePolicy
    from gitops.registry.reader import Registry
    from gitops.report.model import GateReport

Members = Callable[[str, str], bool]  # (team without its "@", user) -> is a member


def check(
    candidate: Candidate,
    config: GitopsConfig,
    *,
    registry: Registry,
    state: LiveState,
    repo: Path,
    members: Members | None = None,
    gates: GateReport | None = None,
    skip: frozenset[str] = frozenset(),
    signers_ref: str = "HEAD",
) -> Decision:
    """Every rule of ``config.policies[candidate.stage]`` applied to ``candidate``; a stage
    without a policy allows anything (module docstring). ``skip``: rules that cannot be
    checked yet (a merge job before its tag exists: ``signed_tags``; an open PR, whose merger
    is not known: ``actors`` too). ``signers_ref``: the
    commit whose ``.gitops/allowed_signers`` counts (the default branch's)."""
    policy = config.policies.get(candidate.stage) if config.policies else None
    if policy is None:
        return Decision()
    violations: list[Violation] = []
    notes: list[str] = []
    violations += _order(candidate, policy, config, registry, state)
    if "actors" not in skip:
        violations += _actors(candidate, policy, members)
    violations += _approvals(candidate, policy)
    violations += _freeze(candidate, policy, notes)
    violations += _gates(candidate, policy, config, gates)
    if "signed_tags" not in skip:
        violations += _signed(candidate, policy, repo, signers_ref)
    return Decision(tuple(violations), tuple(notes))


def _order(
    candidate: Candidate,
    policy: StagePolicy,
    config: GitopsConfig,
    registry: Registry,
    state: LiveState,
) -> list[Violation]:
    from gitops.deploy.order import proof, waits
    from gitops.deploy.plan import artifact_info, served_artifacts

    name, version = candidate.artifact, candidate.version
    info = artifact_info(registry) if policy.after else {}
    found: list[Violation] = []
    for stage in policy.after:
        envs = [
            env
            for env in config.environments_for(stage)
            if name in served_artifacts(config.environments[env], registry, info)
        ]
        if not envs:
            found.append(
                Violation(
                    "order",
                    f"no environment runs {name} in {stage}, so nothing can show {version} "
                    f"ran healthy there",
                    f"bind an environment of gitops.yaml to stage {stage} that runs {name}, or "
                    f"take {stage} out of policies.{candidate.stage}.after",
                )
            )
            continue
        for wait in waits(state, envs, name, version):
            if wait.failed:
                fix = (
                    f"fix it and promote a new version through {stage}, or deploy {version} "
                    f"to {wait.upstream} again until it is healthy there"
                )
            else:
                fix = (
                    f"promote it to {stage} first (gitops promote {name} {version} {stage}) "
                    "and let it deploy healthy there"
                )
            found.append(
                Violation("order", f"in {wait.upstream} (stage {stage}): {wait.reason}", fix)
            )
        if policy.soak:
            for env in envs:
                record = proof(state, env, name, version)
                if record is not None:
                    found += _soak(candidate, policy, state, env, record)
    return found


def _soak(
    candidate: Candidate, policy: StagePolicy, state: LiveState, env: str, record: Deployed
) -> list[Violation]:
    """``record`` (the proof in ``env``) has run for ``policy.soak``, from its deploy until
    now or until another version replaced it."""
    version, needed = candidate.version, timedelta(seconds=policy.soak_seconds)
    since = parse(record.at)
    if since is None:
        return [
            Violation(
                "soak",
                f"the state store has no time for {version}'s deploy to {env}",
                f"deploy {version} to {env} again so its soak of {policy.soak} can be timed",
            )
        ]
    until, replaced_by = run_end(state, env, candidate.artifact, record)
    end = until if until is not None else candidate.now
    ran = max(end - since, timedelta(0))
    if ran >= needed:
        return []
    if replaced_by is not None:
        return [
            Violation(
                "soak",
                f"{version} ran healthy in {env} for {span(ran)} before {replaced_by} replaced "
                f"it; it must soak {policy.soak}",
                f"deploy {version} to {env} again and let it run {policy.soak}",
            )
        ]
    ready = since + needed
    return [
        Violation(
            "soak",
            f"{version} has run healthy in {env} for {span(ran)} of the {policy.soak} soak",
            f"wait until {ready.astimezone(candidate.now.tzinfo):%Y-%m-%d %H:%M %Z} "
            f"({span(needed - ran)} more)",
        )
    ]


def run_end(
    state: LiveState, env: str, artifact: str, record: Deployed
) -> tuple[datetime | None, str | None]:
    """When the run ``record`` started ended, and by which version: the first newer entry
    that runs another version (None, None: it still runs). Public: automatic proposals
    (``gitops.promote.propose``) time a soak the same way."""
    live = state.live(env, artifact)
    entries = [e for e in (live,) if e is not None] + state.history(env, artifact)
    index = next((i for i, e in enumerate(entries) if e is record), None)
    if index is None:
        return None, None
    for newer in reversed(entries[:index]):  # oldest of the newer ones first
        if newer.version != record.version:
            return parse(newer.at), newer.version or "nothing"
    return None, None


def _actors(candidate: Candidate, policy: StagePolicy, members: Members | None) -> list[Violation]:
    if policy.actors is None:
        return []
    actor = candidate.actor
    users = [a for a in policy.actors if not a.startswith("@")]
    teams = [a[1:] for a in policy.actors if a.startswith("@")]
    if actor.lower() in {u.lower() for u in users}:
        return []
    allowed = ", ".join(policy.actors) or "nobody"
    if teams and members is None:
        return [
            Violation(
                "actors",
                f"{actor} is not a listed user, and team membership could not be checked "
                f"(allowed: {allowed})",
                "run the check where the forge can be asked (CI, or with a token that may read "
                "team/group members)",
            )
        ]
    if members is not None and any(members(team, actor) for team in teams):
        return []
    return [
        Violation(
            "actors",
            f"{actor} may not promote into {candidate.stage} (allowed: {allowed})",
            f"ask one of them to promote it, or add {actor} to policies.{candidate.stage}.actors",
        )
    ]


def _approvals(candidate: Candidate, policy: StagePolicy) -> list[Violation]:
    needed = policy.approvals
    if not needed:
        return []
    if candidate.approvals is None:
        return [
            Violation(
                "approvals",
                f"{candidate.stage} needs a reviewed promotion PR ({needed} approval"
                f"{'s' if needed != 1 else ''}); this change has none",
                f"open one with `gitops promote {candidate.artifact} {candidate.version} "
                f"{candidate.stage}` and have it approved",
            )
        ]
    have = len({a.lower() for a in candidate.approvals})
    if have >= needed:
        return []
    return [
        Violation(
            "approvals",
            f"the promotion PR has {have} approval{'s' if have != 1 else ''} of {needed}",
            f"{needed - have} more reviewer{'s' if needed - have != 1 else ''} must approve it",
        )
    ]


def _freeze(candidate: Candidate, policy: StagePolicy, notes: list[str]) -> list[Violation]:
    from gitops.promote import freeze

    found: list[Violation] = []
    label = policy.override_label
    lifted = label is not None and label in candidate.labels
    for window in policy.freeze:
        closes = freeze.closes_at(window, candidate.now)
        if closes is None:
            continue
        what = f"freeze window {freeze.describe(window)}"
        why = f": {window.reason}" if window.reason else ""
        if lifted:
            notes.append(f"{what}{why} lifted by label {label!r} (actor {candidate.actor})")
            continue
        fix = f"wait until it closes at {closes:%Y-%m-%d %H:%M} {window.tz}"
        if label is not None:
            fix += f", or for an emergency add the label {label!r} to the promotion PR"
        found.append(Violation("freeze", f"{candidate.stage} is frozen now, {what}{why}", fix))
    return found


def _gates(
    candidate: Candidate, policy: StagePolicy, config: GitopsConfig, gates: GateReport | None
) -> list[Violation]:
    if not policy.gates:
        return []
    if gates is None:
        if not config.reports.gates:
            return []
        return [
            Violation(
                "gates",
                f"the metric gates were not evaluated for {candidate.version}",
                f"check with the report (gitops report {candidate.artifact}@{candidate.version}"
                f" --stage {candidate.stage})",
            )
        ]
    return [
        Violation(
            "gates",
            f"gate {failed.gate} failed: {failed.reason}",
            f"promote a version that passes it, or change reports.gates ({failed.gate})",
        )
        for failed in gates.failed
    ]


def _signed(
    candidate: Candidate, policy: StagePolicy, repo: Path, signers_ref: str
) -> list[Violation]:
    if not policy.signed_tags:
        return []
    from gitops.promote.signature import ALLOWED_SIGNERS, verify_tag

    fix = (
        f"sign the stage tag with a key listed in {ALLOWED_SIGNERS} (SSH: "
        "git -c gpg.format=ssh -c user.signingkey=KEY tag -s ...) or in the runner's GPG keyring"
    )
    if candidate.tag is None:
        return [Violation("signed_tags", f"{candidate.stage} needs a signed stage tag: none", fix)]
    result = verify_tag(repo, candidate.tag, signers_ref)
    if result.ok:
        return []
    return [Violation("signed_tags", f"tag {candidate.tag} does not verify: {result.detail}", fix)]


def describe(decision: Decision) -> str:
    """Markdown for a PR comment or a job summary: the verdict, each broken rule with its fix,
    and the notes; every text escaped (names and reasons come from people)."""
    if decision.allowed:
        lines = ["**Policy: allowed.**"]
    else:
        count = len(decision.violations)
        lines = [f"**Policy: refused** ({count} rule{'s' if count != 1 else ''} not met):", ""]
        for v in decision.violations:
            lines.append(f"- **{escape(v.rule)}**: {escape(v.message)}  ")
            lines.append(f"  how to meet it: {escape(v.fix)}")
    if decision.notes:
        lines += ["", "Notes:", ""]
        lines += [f"- {escape(note)}" for note in decision.notes]
    return "\n".join(lines) + "\n"
