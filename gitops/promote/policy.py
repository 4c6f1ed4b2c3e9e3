"""Whether a version may enter a stage: the stage's policy (``policies:`` in gitops.yaml) checked
against what the registry, the state store and the forge say.

One place for every caller: a promotion PR (a failing status and a comment), the merge job, a
hand-pushed tag (not deployed, the run fails) and ``gitops check-policy``. Each broken rule is a
``Violation`` that says how to meet it; nothing is silent. Pure but for ``git verify-tag`` (the
signature of a stage tag) and ``members`` (team/group membership, asked of the forge by the
caller).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

from gitops.deploy.order import proof
from gitops.promote.decision import Candidate, Decision, Violation
from gitops.promote.times import human, when

if TYPE_CHECKING:
    from gitops.config import GitopsConfig
    from gitops.deploy.state import LiveState
    from gitops.promote.settings import FreezeWindow, StagePolicy
    from gitops.report.model import GateReport

ALLOWED_SIGNERS = ".gitops/allowed_signers"
Members = Callable[[str, str], bool]  # (team or group, user) -> member?


def check(
    candidate: Candidate,
    config: GitopsConfig,
    *,
    state: LiveState,
    repo: Path,
    members: Members | None = None,
    gates: GateReport | None = None,
) -> Decision:
    """Every rule of the candidate's stage, in a fixed order; no policy: allowed."""
    policy = config.policies.get(candidate.stage)
    if policy is None:
        return Decision()
    violations: list[Violation] = []
    notes: list[str] = []
    violations += _order(candidate, policy, config, state)
    violations += _actors(candidate, policy, members)
    violations += _approvals(candidate, policy)
    violations += _freeze(candidate, policy, notes)
    if policy.gates and gates is not None:
        violations += [
            Violation(
                "gates",
                f"gate failed: {r.reason}",
                "improve the metric, or change the gate in gitops.yaml through a reviewed change",
            )  # fmt: skip
            for r in gates.failed
        ]
    if policy.signed_tags:
        violations += _signature(candidate, repo)
    return Decision(tuple(violations), tuple(notes))


def _order(
    c: Candidate, policy: StagePolicy, config: GitopsConfig, state: LiveState
) -> list[Violation]:
    out = []
    for stage in policy.after:
        environments = config.environments_for(stage)
        if not environments:
            out.append(Violation("order", f"no environment serves {stage}, so {c.version} "
                                 f"cannot have run there", f"bind an environment to stage "
                                 f"{stage} in gitops.yaml"))  # fmt: skip
            continue
        for env in environments:
            record = proof(state, env, c.artifact, c.version)
            if record is None:
                out.append(Violation(
                    "order", f"{c.version} has not run healthy in {env} ({stage})",
                    f"promote it to {stage} first: gitops promote {c.artifact} {c.version} "
                    f"{stage}"))  # fmt: skip
                continue
            if policy.soak:
                since = when(record.at)
                waited = (c.now - since).total_seconds()
                if waited < policy.soak_seconds:
                    left = policy.soak_seconds - waited
                    out.append(Violation(
                        "soak", f"{c.version} has run healthy in {env} for {human(waited)}; "
                        f"{c.stage} asks for {policy.soak}",
                        f"wait {human(left)} more (until "
                        f"{datetime.fromtimestamp(c.now.timestamp() + left, UTC):%Y-%m-%d %H:%M} "
                        "UTC)"))  # fmt: skip
    return out


def _actors(c: Candidate, policy: StagePolicy, members: Members | None) -> list[Violation]:
    if policy.actors is None:
        return []
    users = [a for a in policy.actors if not a.startswith("@")]
    groups = [a[1:] for a in policy.actors if a.startswith("@")]
    if c.actor in users:
        return []
    if groups and members is None:
        return [Violation("actors", f"{c.actor or 'someone unknown'} is not among "
                          f"{', '.join(users) or 'the listed users'}, and teams/groups "
                          f"({', '.join(groups)}) cannot be checked without the forge API",
                          "run where the forge API is reachable with a token that may read "
                          "team/group members")]  # fmt: skip
    for group in groups:
        assert members is not None
        if c.actor and members(group, c.actor):
            return []
    allowed = ", ".join(policy.actors)
    return [Violation("actors", f"{c.actor or 'someone unknown'} may not promote into "
                      f"{c.stage} (allowed: {allowed})",
                      f"ask one of {allowed} to promote it")]  # fmt: skip


def _approvals(c: Candidate, policy: StagePolicy) -> list[Violation]:
    need = policy.approvals
    if need <= 0:
        return []
    if c.approvals is None:
        fix = f"open one: gitops promote {c.artifact} {c.version} {c.stage}"
        return [Violation("approvals", f"{c.stage} needs a promotion PR with {need} "
                          "approval(s); this stage change was not reviewed", fix)]  # fmt: skip
    others = [a for a in dict.fromkeys(c.approvals) if a != c.actor]
    if len(others) < need:
        return [Violation("approvals", f"{len(others)} of {need} approval(s) (the promoter's "
                          "own does not count)", f"get {need - len(others)} more review "
                          "approval(s)")]  # fmt: skip
    return []


def _freeze(c: Candidate, policy: StagePolicy, notes: list[str]) -> list[Violation]:
    out = []
    for window in policy.freeze:
        if not is_open(window, c.now):
            continue
        what = describe_window(window)
        label = policy.override_label
        if label and label in c.labels:
            notes.append(f"freeze {what} lifted by the label {label!r} (recorded)")
            continue
        fix = f"wait until it ends, or add the label {label!r} for an emergency" if label else (
            "wait until it ends")  # fmt: skip
        reason = f": {window.reason}" if window.reason else ""
        out.append(Violation("freeze", f"{c.stage} is frozen {what}{reason}", fix))
    return out


def is_open(window: FreezeWindow, now: datetime) -> bool:
    """Whether ``now`` (aware) falls in the window, read in the window's time zone."""
    from zoneinfo import ZoneInfo

    local = now.astimezone(ZoneInfo(window.tz))
    if isinstance(window.start, date) and not isinstance(window.start, datetime):
        return window.start <= local.date() <= window.end  # type: ignore[operator]
    assert isinstance(window.start, time) and isinstance(window.end, time)
    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[local.weekday()]
    if window.days is not None and day not in window.days:
        return False
    clock = local.time().replace(tzinfo=None)
    if window.start <= window.end:
        return window.start <= clock <= window.end
    return clock >= window.start or clock <= window.end  # across midnight


def describe_window(window: FreezeWindow) -> str:
    days = f" on {', '.join(window.days)}" if window.days else ""
    return f"from {window.start} to {window.end}{days} ({window.tz})"


def _signature(c: Candidate, repo: Path) -> list[Violation]:
    fix = (f"sign the stage tag (git -c gpg.format=ssh tag -s, with a key listed in "
           f"{ALLOWED_SIGNERS}, or GPG) and push it again")  # fmt: skip
    if not c.tag:
        return [Violation("signed_tags", f"{c.stage} needs a signed stage tag; there is none "
                          "yet", fix)]  # fmt: skip
    ok, why = verify_tag(repo, c.tag)
    if ok:
        return []
    return [Violation("signed_tags", f"the signature of {c.tag} does not verify: {why}", fix)]


def verify_tag(repo: Path, tag: str) -> tuple[bool, str]:
    """``git verify-tag``: SSH signatures against the repository's allowed signers file (as it
    is at HEAD), GPG against the keyring. (ok, git's reason on one line)."""
    signers = repo / ALLOWED_SIGNERS
    args = ["git", "-C", str(repo)]
    with tempfile.TemporaryDirectory() as tmp:
        if signers.is_file():
            copy = Path(tmp) / "allowed_signers"  # never a path a tag could point elsewhere
            copy.write_bytes(signers.read_bytes())
            args += ["-c", f"gpg.ssh.allowedSignersFile={copy}"]
        args += ["verify-tag", "--", f"refs/tags/{tag}"]
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
        try:
            done = subprocess.run(args, capture_output=True, text=True, timeout=60, env=env,
                                  check=False)  # fmt: skip
        except (OSError, subprocess.TimeoutExpired) as exc:
            return False, str(exc)
    lines = [line for line in (done.stderr or "").splitlines() if line.strip()]
    if done.returncode == 0:
        return True, ""
    return False, (lines[-1] if lines else f"git verify-tag exited {done.returncode}")


def describe(decision: Decision) -> str:
    """Markdown for a PR comment or a summary: each broken rule and how to meet it."""
    from gitops.markdown import escape

    if decision.allowed:
        head = "**Policy: ✅ allowed**"
    else:
        head = f"**Policy: ❌ {len(decision.violations)} rule(s) broken**"
    lines = [head, ""]
    lines += [f"- **{escape(v.rule)}**: {escape(v.message)}. Fix: {escape(v.fix)}."
              for v in decision.violations]  # fmt: skip
    lines += [f"- {escape(n)}" for n in decision.notes]
    return "\n".join(lines).rstrip() + "\n"
