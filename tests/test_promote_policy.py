"""Promotion policies: every rule allowed and refused, on a real registry repo, with time
injected (never slept), real SSH keys for signed tags, and `gitops check-policy` as a process."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_fixtures import T0, gitops
from gitutil import BASE_ENV, Repo, git

from gitops.config import GitopsConfig
from gitops.deploy.state import Deployed, EnvironmentState, LiveState
from gitops.promote import freeze, policy
from gitops.promote.decision import Candidate, Decision, Violation
from gitops.promote.settings import FreezeWindow
from gitops.registry.reader import Registry, load_registry
from gitops.report.model import GateReport, GateResult, GateStatus

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # a Wednesday
ENVIRONMENTS = {
    "staging": {"stage": "staging"},
    "prod": {"stage": "prod"},
}


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    """churn v1.0.0 .. v1.2.0 on three commits, nothing assigned."""
    repo = Repo(tmp_path_factory.mktemp("policy") / "repo")
    for i, number in enumerate(("v1.0.0", "v1.1.0", "v1.2.0")):
        sha = repo.commit(files={"model.txt": f"{i}\n"}, epoch=T0 + 100 * i)
        repo.tag(f"churn@{number}", sha, epoch=T0 + 100 * i + 10)
    return load_registry(repo.path)


def _config(rules: dict[str, Any], **extra: Any) -> GitopsConfig:
    return GitopsConfig.model_validate({"environments": ENVIRONMENTS, "policies": rules, **extra})


def _candidate(**changes: Any) -> Candidate:
    base: dict[str, Any] = {
        "artifact": "churn",
        "version": "v1.1.0",
        "commit": "0" * 40,
        "stage": "prod",
        "actor": "alice",
        "now": NOW,
    }
    return Candidate(**{**base, **changes})


def _entry(version: str | None, at: datetime, status: str = "deployed", **more: Any) -> Deployed:
    return Deployed(version=version, status=status, at=at.isoformat(), **more)  # type: ignore[arg-type]


def _state(env: str, *entries: Deployed) -> LiveState:
    """One environment's document: ``entries`` newest first (the first is live)."""
    doc = EnvironmentState(
        deployed={"churn": entries[0]} if entries else {},
        history={"churn": list(entries[1:])} if len(entries) > 1 else {},
    )
    return LiveState({env: doc})


def _check(
    registry: Registry,
    rules: dict[str, Any],
    candidate: Candidate | None = None,
    state: LiveState | None = None,
    **kwargs: Any,
) -> Decision:
    config = _config(rules, **kwargs.pop("extra", {}))
    return policy.check(
        candidate or _candidate(),
        config,
        registry=registry,
        state=state or LiveState(),
        repo=registry.root,
        **kwargs,
    )


def _rules(decision: Decision) -> list[str]:
    return [v.rule for v in decision.violations]


# -- no policy ---------------------------------------------------------------------------------


def test_a_stage_without_a_policy_allows_anything(registry: Registry) -> None:
    decision = _check(registry, {"staging": {"approvals": 3, "actors": ["nobody"]}})
    assert decision.allowed and decision.violations == () and decision.notes == ()
    assert not _check(registry, {"prod": {"approvals": 3}}).allowed  # the same rule does bite


# -- order -------------------------------------------------------------------------------------


def test_order_refuses_a_version_that_never_ran_in_the_stage_before(registry: Registry) -> None:
    state = _state("staging", _entry("v1.0.0", NOW - timedelta(days=3)))
    decision = _check(registry, {"prod": {"after": ["staging"]}}, state=state)
    assert _rules(decision) == ["order"]
    (v,) = decision.violations
    assert "staging" in v.message and "v1.1.0 has not run there (it runs v1.0.0)" in v.message
    assert "gitops promote churn v1.1.0 staging" in v.fix


def test_order_allows_a_version_proven_healthy_there_even_after_it_moved_on(
    registry: Registry,
) -> None:
    state = _state(
        "staging",
        _entry("v1.2.0", NOW - timedelta(hours=1)),
        _entry("v1.1.0", NOW - timedelta(days=2)),
    )
    assert _check(registry, {"prod": {"after": ["staging"]}}, state=state).allowed


def test_order_refuses_a_version_that_failed_there(registry: Registry) -> None:
    state = _state(
        "staging",
        _entry("v1.0.0", NOW - timedelta(hours=1), "rolled-back", attempted="v1.1.0"),
        _entry("v1.0.0", NOW - timedelta(days=2)),
    )
    (v,) = _check(registry, {"prod": {"after": ["staging"]}}, state=state).violations
    assert v.rule == "order" and "failed there and was rolled back" in v.message
    assert "fix it" in v.fix


def test_order_refuses_when_no_environment_runs_the_stage_before(registry: Registry) -> None:
    """`after: [qa]` with no environment on qa: nothing can vouch for it, never a silent pass."""
    (v,) = _check(registry, {"prod": {"after": ["qa"]}}).violations
    assert v.rule == "order" and "no environment runs churn in qa" in v.message
    assert "policies.prod.after" in v.fix


# -- soak --------------------------------------------------------------------------------------


def test_soak_refuses_before_the_time_and_allows_after(registry: Registry) -> None:
    deployed = NOW - timedelta(hours=5)
    state = _state("staging", _entry("v1.1.0", deployed))
    rules = {"prod": {"after": ["staging"], "soak": "24h"}}
    (v,) = _check(registry, rules, state=state).violations
    assert v.rule == "soak" and "for 5h of the 24h soak" in v.message
    assert "wait until 2026-12-03 07:00 UTC (19h more)" in v.fix
    later = _candidate(now=deployed + timedelta(hours=24))
    assert _check(registry, rules, later, state).allowed
    just_before = _candidate(now=deployed + timedelta(hours=24) - timedelta(seconds=1))
    assert _rules(_check(registry, rules, just_before, state)) == ["soak"]


def test_soak_counts_only_the_time_it_ran_before_it_was_replaced(registry: Registry) -> None:
    """v1.1.0 ran 2h in staging, then v1.2.0 replaced it: days later it has still soaked 2h."""
    start = NOW - timedelta(days=5)
    state = _state(
        "staging",
        _entry("v1.2.0", start + timedelta(hours=2)),
        _entry("v1.1.0", start),
    )
    (v,) = _check(registry, {"prod": {"after": ["staging"], "soak": "1d"}}, state=state).violations
    assert v.rule == "soak" and "for 2h before v1.2.0 replaced it" in v.message
    long_enough = _check(registry, {"prod": {"after": ["staging"], "soak": "2h"}}, state=state)
    assert long_enough.allowed


def test_soak_carries_on_through_a_failed_attempt_of_another_version(registry: Registry) -> None:
    """A failed deploy of v1.2.0 rolled back to v1.1.0: v1.1.0 kept running."""
    start = NOW - timedelta(days=2)
    state = _state(
        "staging",
        _entry("v1.1.0", start + timedelta(hours=1), "rolled-back", attempted="v1.2.0"),
        _entry("v1.1.0", start),
    )
    assert _check(registry, {"prod": {"after": ["staging"], "soak": "36h"}}, state=state).allowed


# -- actors ------------------------------------------------------------------------------------


def test_actors_allow_a_listed_user_whatever_the_case(registry: Registry) -> None:
    assert _check(registry, {"prod": {"actors": ["Alice", "bob"]}}).allowed
    (v,) = _check(registry, {"prod": {"actors": ["bob"]}}).violations
    assert v.rule == "actors" and "alice may not promote into prod (allowed: bob)" in v.message


def test_actors_ask_the_forge_for_teams(registry: Registry) -> None:
    asked: list[tuple[str, str]] = []
    teams = {"acme/ml-leads": {"alice"}, "acme/sre": {"carol"}}

    def members(team: str, user: str) -> bool:
        asked.append((team, user))
        return user in teams.get(team, set())

    rules = {"prod": {"actors": ["bob", "@acme/sre", "@acme/ml-leads"]}}
    assert _check(registry, rules, members=members).allowed
    assert ("acme/ml-leads", "alice") in asked
    refused = _check(registry, rules, _candidate(actor="mallory"), members=members)
    assert _rules(refused) == ["actors"]


def test_actors_with_teams_and_no_way_to_ask_is_a_violation(registry: Registry) -> None:
    (v,) = _check(registry, {"prod": {"actors": ["bob", "@acme/sre"]}}).violations
    assert v.rule == "actors" and "could not be checked" in v.message
    assert "token" in v.fix
    # a listed user needs no forge
    assert _check(registry, {"prod": {"actors": ["alice", "@acme/sre"]}}).allowed


# -- approvals ---------------------------------------------------------------------------------


def test_approvals_a_hand_pushed_tag_needs_a_reviewed_pr(registry: Registry) -> None:
    (v,) = _check(registry, {"prod": {"approvals": 1}}).violations
    assert v.rule == "approvals" and "needs a reviewed promotion PR" in v.message
    assert "gitops promote churn v1.1.0 prod" in v.fix


def test_approvals_count_distinct_approvers(registry: Registry) -> None:
    rules = {"prod": {"approvals": 2}}
    (v,) = _check(registry, rules, _candidate(approvals=("bob", "Bob"))).violations
    assert "has 1 approval of 2" in v.message and "1 more reviewer must" in v.fix
    assert _check(registry, rules, _candidate(approvals=("bob", "carol"))).allowed
    assert _check(registry, {"prod": {"approvals": 0}}).allowed  # none needed: no PR is fine


# -- freeze windows ----------------------------------------------------------------------------


def _window(**fields: Any) -> FreezeWindow:
    return FreezeWindow.model_validate(fields)


def test_freeze_dates_are_whole_days_in_the_window_zone() -> None:
    window = _window(**{"from": "2026-12-20", "to": "2026-12-27", "tz": "Europe/Berlin"})
    # 23:30 UTC on the 19th is 00:30 on the 20th in Berlin: frozen
    closes = freeze.closes_at(window, datetime(2026, 12, 19, 23, 30, tzinfo=UTC))
    assert closes is not None and closes.isoformat() == "2026-12-28T00:00:00+01:00"
    assert freeze.closes_at(window, datetime(2026, 12, 19, 22, 30, tzinfo=UTC)) is None
    # the last day counts whole, in Berlin: 22:59 UTC on the 27th is 23:59 there
    assert freeze.closes_at(window, datetime(2026, 12, 27, 22, 59, tzinfo=UTC)) is not None
    assert freeze.closes_at(window, datetime(2026, 12, 27, 23, 0, tzinfo=UTC)) is None


def test_freeze_weekly_times_run_past_midnight_and_keep_to_their_days() -> None:
    """Friday 18:00 to Saturday 08:00 in New York (UTC-5 in December)."""
    window = _window(days=["fri"], tz="America/New_York", **{"from": "18:00", "to": "08:00"})

    def at(day: int, hour: int, minute: int = 0) -> datetime | None:
        return freeze.closes_at(window, datetime(2026, 12, day, hour, minute, tzinfo=UTC))

    assert at(4, 22, 59) is None  # Fri 17:59 in New York
    friday_evening = at(4, 23, 0)  # Fri 18:00 in New York (already Saturday in Berlin)
    assert friday_evening is not None
    assert friday_evening.isoformat() == "2026-12-05T08:00:00-05:00"
    assert at(5, 12, 59) is not None  # Sat 07:59 in New York: still Friday's window
    assert at(5, 13, 0) is None  # Sat 08:00
    assert at(3, 23, 30) is None  # Thu 18:30 in New York: not a Friday
    assert at(5, 23, 30) is None  # Sat 18:30: the window is Friday's only


def test_freeze_the_same_instant_is_frozen_in_one_zone_and_not_in_another() -> None:
    instant = datetime(2026, 12, 7, 7, 30, tzinfo=UTC)  # Monday 08:30 Berlin, 02:30 Los Angeles
    office = {"from": "08:00", "to": "18:00", "days": ["mon", "tue", "wed", "thu", "fri"]}
    assert freeze.closes_at(_window(tz="Europe/Berlin", **office), instant) is not None
    assert freeze.closes_at(_window(tz="America/Los_Angeles", **office), instant) is None


def test_freeze_from_equal_to_is_the_whole_day_across_a_dst_change() -> None:
    """Sunday 2026-03-29: Berlin goes from +01:00 to +02:00; the whole Sunday is frozen."""
    window = _window(days=["sun"], tz="Europe/Berlin", **{"from": "00:00", "to": "00:00"})
    assert freeze.closes_at(window, datetime(2026, 3, 28, 22, 59, tzinfo=UTC)) is None  # Sat
    closes = freeze.closes_at(window, datetime(2026, 3, 28, 23, 0, tzinfo=UTC))  # Sun 00:00
    assert closes is not None and closes.isoformat() == "2026-03-30T00:00:00+02:00"
    assert freeze.closes_at(window, datetime(2026, 3, 29, 21, 59, tzinfo=UTC)) is not None
    assert freeze.closes_at(window, datetime(2026, 3, 29, 22, 0, tzinfo=UTC)) is None  # Mon


def test_freeze_refuses_in_a_window_and_the_override_label_lifts_it_on_record(
    registry: Registry,
) -> None:
    rules = {
        "prod": {
            "freeze": [
                {"from": "2026-12-01", "to": "2026-12-03", "tz": "UTC", "reason": "year end"}
            ],
            "override_label": "hotfix",
        }
    }
    (v,) = _check(registry, rules).violations
    assert v.rule == "freeze" and "prod is frozen now" in v.message and "year end" in v.message
    assert "wait until it closes at 2026-12-04 00:00 UTC" in v.fix and "'hotfix'" in v.fix
    lifted = _check(registry, rules, _candidate(labels=("bug", "hotfix")))
    assert lifted.allowed
    (note,) = lifted.notes
    assert "lifted by label 'hotfix'" in note and "alice" in note and "year end" in note
    # another label, or a stage without an override label, lifts nothing
    assert not _check(registry, rules, _candidate(labels=("urgent",))).allowed
    no_override = {"prod": {"freeze": rules["prod"]["freeze"]}}
    refused = _check(registry, no_override, _candidate(labels=("hotfix",)))
    assert _rules(refused) == ["freeze"] and "label" not in refused.violations[0].fix
    # outside the window: allowed, nothing noted
    after = _check(registry, rules, _candidate(now=datetime(2026, 12, 4, 0, 0, tzinfo=UTC)))
    assert after.allowed and after.notes == ()


# -- gates -------------------------------------------------------------------------------------

GATES = {"reports": {"gates": {"accuracy": {"min": 0.8}}}}


def _gates(status: GateStatus) -> GateReport:
    reason = "accuracy 0.7 < min 0.8" if status is GateStatus.FAIL else "accuracy 0.9 >= min 0.8"
    return GateReport(results=(GateResult("accuracy", "accuracy", "metrics.json", status, reason),))


def test_gates_failed_gates_are_violations(registry: Registry) -> None:
    (v,) = _check(registry, {"prod": {}}, gates=_gates(GateStatus.FAIL), extra=GATES).violations
    assert v.rule == "gates" and "accuracy 0.7 < min 0.8" in v.message
    assert _check(registry, {"prod": {}}, gates=_gates(GateStatus.PASS), extra=GATES).allowed
    off = _check(registry, {"prod": {"gates": False}}, gates=_gates(GateStatus.FAIL), extra=GATES)
    assert off.allowed


def test_gates_configured_but_not_evaluated_is_a_violation(registry: Registry) -> None:
    (v,) = _check(registry, {"prod": {}}, extra=GATES).violations
    assert v.rule == "gates" and "not evaluated" in v.message
    assert "gitops report churn@v1.1.0 --stage prod" in v.fix
    assert _check(registry, {"prod": {}}).allowed  # no gates configured: nothing to evaluate


# -- several rules at once, and the Markdown -----------------------------------------------------


def test_every_rule_broken_is_listed_at_once(registry: Registry) -> None:
    rules = {
        "prod": {
            "after": ["staging"],
            "actors": ["bob"],
            "approvals": 1,
            "freeze": [{"from": "00:00", "to": "00:00"}],
        }
    }
    decision = _check(registry, rules)
    assert _rules(decision) == ["order", "actors", "approvals", "freeze"]


def test_describe_escapes_what_people_wrote() -> None:
    decision = Decision(
        (Violation("freeze", "frozen: <img src=x> [click](http://evil) @acme/sre", "wait `x`"),),
        ("lifted by label '**hot**'",),
    )
    text = policy.describe(decision)
    assert "**Policy: refused** (1 rule not met)" in text
    assert re.search(r"(?<!\\)[<\[`@]", text) is None  # nothing unescaped that could bite
    assert "\\<img" in text and "\\@acme" in text and "\\`x\\`" in text
    assert "\\*\\*hot\\*\\*" in text and "Notes:" in text
    assert policy.describe(Decision()).startswith("**Policy: allowed.**")


# -- signed tags (real SSH keys) ----------------------------------------------------------------


def _keygen(path: Path, comment: str) -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return path


def _signed_tag(repo: Repo, name: str, key: Path | None) -> None:
    args = ["tag", "-a", name, "-m", f"tag {name}"]
    config: list[str] = []
    if key is not None:
        config = ["-c", "gpg.format=ssh", "-c", f"user.signingkey={key}"]
        args = ["tag", "-s", name, "-m", f"tag {name}"]
    git(repo.path, *config, *args)


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen")
def test_signed_tags_verify_with_the_repository_allowed_signers(tmp_path: Path) -> None:
    ours = _keygen(tmp_path / "release", "release@acme")
    stranger = _keygen(tmp_path / "stranger", "someone@else")
    repo = Repo(tmp_path / "repo")
    public = (ours.with_suffix(".pub")).read_text().split()[:2]
    sha = repo.commit(files={".gitops/allowed_signers": f"release@acme {' '.join(public)}\n"})
    repo.tag("churn@v1.1.0", sha)
    _signed_tag(repo, "churn#prod#1", ours)
    _signed_tag(repo, "churn#prod#2", stranger)
    _signed_tag(repo, "churn#prod#3", None)
    registry = load_registry(repo.path)
    rules = {"prod": {"signed_tags": True}}

    def check(tag: str | None) -> Decision:
        return _check(registry, rules, _candidate(tag=tag))

    assert check("churn#prod#1").allowed
    (v,) = check("churn#prod#2").violations
    assert v.rule == "signed_tags" and "does not verify" in v.message
    assert "No principal matched" in v.message and ".gitops/allowed_signers" in v.fix
    (v,) = check("churn#prod#3").violations
    assert "no signature found" in v.message
    (v,) = check("churn#prod#9").violations
    assert "not found" in v.message
    (v,) = check(None).violations
    assert "needs a signed stage tag" in v.message
    # without the allowed-signers file (at HEAD: a file only in the work tree does not
    # count) even our own key does not verify
    git(repo.path, "rm", "-q", ".gitops/allowed_signers")
    assert check("churn#prod#1").allowed  # not committed yet: HEAD still lists the key
    repo.commit("no signers")
    (v,) = check("churn#prod#1").violations
    assert "no .gitops/allowed_signers on HEAD" in v.message


# -- gitops check-policy, as a process ---------------------------------------------------------


def _cli_repo(path: Path, rules: dict[str, Any], **extra: Any) -> Repo:
    """churn v1.0.0 and v1.1.0 with metrics, v1.0.0 in prod; a local-driver staging and prod."""
    config = {
        "environments": {
            "staging": {"stage": "staging", "deploy": {"driver": "local"}},
            "prod": {"stage": "prod", "deploy": {"driver": "local"}},
        },
        "policies": rules,
        **extra,
    }
    repo = Repo(path)
    c1 = repo.commit(
        files={
            "artifacts.yaml": "churn: {type: model, path: model.txt}\n",
            "model.txt": "1\n",
            "metrics.json": json.dumps({"accuracy": 0.9}),
            "gitops.yaml": yaml.safe_dump(config, sort_keys=False),
            ".gitignore": ".gitops/\n",
        },
        epoch=T0,
    )
    repo.tag("churn@v1.0.0", c1, epoch=T0 + 10)
    repo.tag("churn#prod#1", c1, epoch=T0 + 20)
    repo.tag("churn#staging#2", c1, epoch=T0 + 21)
    c2 = repo.commit(
        files={"model.txt": "2\n", "metrics.json": json.dumps({"accuracy": 0.7})}, epoch=T0 + 30
    )
    repo.tag("churn@v1.1.0", c2, epoch=T0 + 40)
    return repo


def _run(repo: Repo, *args: str) -> subprocess.CompletedProcess:
    return gitops(repo.path, *args, env=BASE_ENV)


def test_cli_order_refused_then_allowed_after_a_real_deploy_to_staging(tmp_path: Path) -> None:
    repo = _cli_repo(tmp_path / "repo", {"prod": {"after": ["staging"]}})
    refused = _run(repo, "check-policy", "churn", "v1.1.0", "prod")
    assert refused.returncode == 1, refused.stderr
    assert refused.stdout.startswith("refused: churn v1.1.0 into prod\n")
    assert "  order: in staging (stage staging): v1.1.0 has not run there" in refused.stdout
    assert "    how to meet it: promote it to staging first" in refused.stdout
    assert "Traceback" not in refused.stderr
    repo.tag("churn#staging#3", repo.rev("churn@v1.1.0"), epoch=T0 + 50)
    applied = _run(repo, "apply", "-e", "staging")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    allowed = _run(repo, "check-policy", "churn", "v1.1.0", "prod")
    assert (allowed.returncode, allowed.stdout) == (0, "allowed: churn v1.1.0 into prod\n")


def test_cli_builds_the_gate_report_against_what_the_stage_holds(tmp_path: Path) -> None:
    repo = _cli_repo(tmp_path / "repo", {"prod": {}}, reports={"gates": {"accuracy": {"min": 0.8}}})
    refused = _run(repo, "check-policy", "churn", "v1.1.0", "prod", "--markdown")
    assert refused.returncode == 1, refused.stderr
    assert "**gates**" in refused.stdout and "0\\.7" in refused.stdout
    assert _run(repo, "check-policy", "churn", "v1.0.0", "prod").returncode == 0


def test_cli_passes_actor_approvals_labels_and_now(tmp_path: Path) -> None:
    rules = {
        "prod": {
            "actors": ["alice"],
            "approvals": 2,
            "freeze": [{"from": "18:00", "to": "08:00", "tz": "Europe/Berlin"}],
            "override_label": "hotfix",
        }
    }
    repo = _cli_repo(tmp_path / "repo", rules)
    base = ("check-policy", "churn", "v1.1.0", "prod")
    ok = ("--actor", "alice", "--approvals", "2", "--now", "2026-12-02T10:00:00Z")
    assert _run(repo, *base, *ok).returncode == 0
    night = ("--actor", "alice", "--approvals", "2", "--now", "2026-12-02T21:00:00+01:00")
    frozen = _run(repo, *base, *night)
    assert frozen.returncode == 1 and "  freeze: prod is frozen now" in frozen.stdout
    lifted = _run(repo, *base, *night, "--label", "hotfix")
    assert lifted.returncode == 0 and "note: freeze window" in lifted.stdout
    who = _run(repo, *base, "--actor", "mallory", "--now", "2026-12-02T10:00:00")
    assert who.returncode == 1
    assert "actors: mallory may not promote" in who.stdout
    assert "approvals: prod needs a reviewed promotion PR" in who.stdout


def test_cli_a_stage_without_policy_is_allowed(tmp_path: Path) -> None:
    repo = _cli_repo(tmp_path / "repo", {"prod": {"approvals": 5}})
    result = _run(repo, "check-policy", "churn", "v1.1.0", "staging")
    assert result.returncode == 0 and "no policy for stage staging" in result.stdout


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("churn", "v9.9.9", "prod"), "churn has no version 'v9.9.9'"),
        (("nope", "v1.0.0", "prod"), "artifact 'nope' is not in the registry"),
        (("churn", "v1.1.0", "prd"), "unknown stage 'prd'"),
        (("churn", "v1.1.0", "prod", "--now", "tomorrow"), "--now 'tomorrow': use ISO 8601"),
        (("churn", "v1.1.0", "prod", "--tag", "churn#prod#7"), "no tag 'churn#prod#7'"),
    ],
)
def test_cli_usage_errors_exit_2_with_one_line(
    tmp_path: Path, args: tuple[str, ...], error: str
) -> None:
    repo = _cli_repo(tmp_path / "repo", {"prod": {"approvals": 1}})
    result = _run(repo, "check-policy", *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("error: ") and error in result.stderr
    assert result.stderr.count("\n") == 1 and result.stdout == ""


def test_cli_checks_the_signature_of_the_tag_that_put_the_version_in_the_stage(
    tmp_path: Path,
) -> None:
    """A hand-pushed, unsigned prod tag: check-policy finds it and says it does not verify."""
    repo = _cli_repo(tmp_path / "repo", {"prod": {"signed_tags": True}})
    result = _run(repo, "check-policy", "churn", "v1.0.0", "prod")
    assert result.returncode == 1, result.stderr
    assert "signed_tags: tag churn#prod#1 does not verify: error: no signature found" in (
        result.stdout
    )
    unplaced = _run(repo, "check-policy", "churn", "v1.1.0", "prod")
    assert "needs a signed stage tag: none" in unplaced.stdout
