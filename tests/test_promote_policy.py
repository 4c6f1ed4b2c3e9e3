"""Policies: every rule allowed and refused, on real repositories and state (order and soak with
injected time, actors with a membership answer, approvals, freeze windows across time zones,
gates, signed tags with real SSH keys: an allowed signer and a stranger)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from gitutil import Repo, git

from gitops.config import load_config
from gitops.deploy.apply import RunInfo, apply
from gitops.deploy.store import FileStore
from gitops.promote.decision import Candidate
from gitops.promote.policy import check, describe
from gitops.registry.reader import load_registry
from gitops.report.model import GateReport, GateResult, GateStatus

T = 1_767_225_600


def _repo(tmp_path: Path, policy: str) -> tuple[Repo, FileStore]:
    local = f"{{driver: local, dir: {json.dumps(str(tmp_path / 'deploy'))}}}"
    cfg = (
        "environments:\n"
        f"  staging: {{stage: staging, deploy: {local}}}\n"
        f"  prod: {{stage: prod, deploy: {local}}}\n"
        f"policies:\n  prod:\n{policy}"
    )
    r = Repo(tmp_path / "r")
    r.commit(files={"gitops.yaml": cfg, "m.pkl": "1", ".gitignore": ".gitops/state/\n"}, epoch=T)
    r.tag("churn@v1.0.0", epoch=T + 1)
    return r, FileStore(r.path / ".gitops" / "state")


def _deploy_to_staging(r: Repo, store: FileStore) -> None:
    r.tag("churn#staging#1", ref=r.rev("churn@v1.0.0"), epoch=T + 2)
    config = load_config(r.path)
    assert config is not None
    apply(load_registry(r.path), config, store, RunInfo(actor="ci"), ["staging"], log=print)


def _decide(r: Repo, store: FileStore, **kw: object):  # noqa: ANN202
    config = load_config(r.path)
    assert config is not None
    state, _ = store.read(list(config.environments))
    fields = {"artifact": "churn", "version": "v1.0.0", "commit": r.rev("churn@v1.0.0"),
              "stage": "prod", "actor": "alice", "now": datetime.now(UTC)}  # fmt: skip
    members = kw.pop("members", None)
    gates = kw.pop("gates", None)
    fields.update(kw)
    return check(Candidate(**fields), config, state=state, repo=r.path, members=members,  # type: ignore[arg-type]
                 gates=gates)  # fmt: skip


def test_no_policy_allows(tmp_path: Path) -> None:
    r, store = _repo(tmp_path, "    gates: true\n")
    assert _decide(r, store, stage="staging").allowed


def test_order_and_soak(tmp_path: Path) -> None:
    r, store = _repo(tmp_path, "    after: [staging]\n    soak: 24h\n")
    refused = _decide(r, store)
    assert [v.rule for v in refused.violations] == ["order"]
    assert "has not run healthy in staging" in refused.violations[0].message
    assert "gitops promote churn v1.0.0 staging" in refused.violations[0].fix
    _deploy_to_staging(r, store)
    now = datetime.now(UTC)
    early = _decide(r, store, now=now + timedelta(hours=2))
    assert [v.rule for v in early.violations] == ["soak"] and "wait 22.0h" in early.violations[
        0
    ].fix
    assert _decide(r, store, now=now + timedelta(hours=24, minutes=5)).allowed


def test_actors_users_and_teams(tmp_path: Path) -> None:
    r, store = _repo(tmp_path, '    actors: [alice, "@acme/ml-leads"]\n')
    assert _decide(r, store, actor="alice").allowed
    team = {("acme/ml-leads", "bob")}
    assert _decide(r, store, actor="bob", members=lambda g, u: (g, u) in team).allowed
    refused = _decide(r, store, actor="mallory", members=lambda g, u: (g, u) in team)
    assert [v.rule for v in refused.violations] == ["actors"]
    assert "mallory may not promote into prod" in refused.violations[0].message
    unknown = _decide(r, store, actor="bob")  # no forge: the team cannot be asked
    assert "cannot be checked" in unknown.violations[0].message


def test_approvals_need_a_reviewed_pr_and_not_ones_own(tmp_path: Path) -> None:
    r, store = _repo(tmp_path, "    approvals: 2\n")
    hand = _decide(r, store)  # a hand-pushed tag
    assert [v.rule for v in hand.violations] == ["approvals"]
    assert "needs a promotion PR" in hand.violations[0].message
    assert not _decide(r, store, approvals=("alice", "bob")).allowed  # alice is the promoter
    assert _decide(r, store, approvals=("bob", "carol", "bob")).allowed


def test_freeze_windows_in_their_time_zone_and_the_override_label(tmp_path: Path) -> None:
    policy = (
        "    freeze:\n"
        "      - {from: 2026-12-24, to: 2026-12-26, tz: Europe/Berlin, reason: holidays}\n"
        '      - {days: [fri], from: "15:00", to: "23:59", tz: America/New_York}\n'
        "    override_label: emergency\n"
    )
    r, store = _repo(tmp_path, policy)
    # 2026-12-23 23:30 UTC is already the 24th in Berlin
    xmas = _decide(r, store, now=datetime(2026, 12, 23, 23, 30, tzinfo=UTC))
    assert [v.rule for v in xmas.violations] == ["freeze"] and "holidays" in xmas.violations[
        0
    ].message
    assert _decide(r, store, now=datetime(2026, 12, 23, 22, 30, tzinfo=UTC)).allowed
    # Friday 2026-12-04 21:00 UTC is 16:00 in New York: frozen; 19:00 UTC is 14:00 there
    assert not _decide(r, store, now=datetime(2026, 12, 4, 21, 0, tzinfo=UTC)).allowed
    assert _decide(r, store, now=datetime(2026, 12, 4, 19, 0, tzinfo=UTC)).allowed
    lifted = _decide(r, store, now=datetime(2026, 12, 4, 21, 0, tzinfo=UTC), labels=("emergency",))
    assert lifted.allowed and "lifted by the label 'emergency'" in lifted.notes[0]


def test_failed_gates_are_violations_unless_the_policy_ignores_them(tmp_path: Path) -> None:
    failed = GateReport((GateResult("acc", "acc", "metrics.json", GateStatus.FAIL,
                                    "acc 0.6 < min 0.7"),))  # fmt: skip
    r, store = _repo(tmp_path, "    gates: true\n")
    refused = _decide(r, store, gates=failed)
    assert [v.message for v in refused.violations] == ["gate failed: acc 0.6 < min 0.7"]
    r2, store2 = _repo(tmp_path / "two", "    gates: false\n")
    assert _decide(r2, store2, gates=failed).allowed


def _ssh_key(tmp_path: Path, name: str) -> tuple[Path, str]:
    key = tmp_path / f"{name}_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)],
                   check=True, timeout=60)  # fmt: skip
    return key, (tmp_path / f"{name}_key.pub").read_text().strip()


def _signed_tag(r: Repo, name: str, key: Path) -> None:
    git(r.path, "-c", "gpg.format=ssh", "-c", f"user.signingkey={key}", "tag", "-s", "-m",
        f"promote {name}", name, r.rev("churn@v1.0.0"))  # fmt: skip


def test_signed_tags_verify_against_the_allowed_signers_in_the_repo(tmp_path: Path) -> None:
    r, store = _repo(tmp_path, "    signed_tags: true\n")
    trusted, trusted_pub = _ssh_key(tmp_path, "release")
    stranger, _ = _ssh_key(tmp_path, "stranger")
    r.commit(files={".gitops/allowed_signers": f"release@example.com {trusted_pub}\n"})
    git(r.path, "config", "user.email", "release@example.com")
    _signed_tag(r, "churn#prod#1", trusted)
    assert _decide(r, store, tag="churn#prod#1").allowed
    git(r.path, "config", "user.email", "mallory@example.com")
    _signed_tag(r, "churn#prod#2", stranger)
    refused = _decide(r, store, tag="churn#prod#2")
    assert [v.rule for v in refused.violations] == ["signed_tags"]
    assert "does not verify" in refused.violations[0].message
    r.tag("churn#prod#3", ref=r.rev("churn@v1.0.0"), epoch=T + 50)  # annotated, unsigned
    assert not _decide(r, store, tag="churn#prod#3").allowed
    assert "there is none yet" in _decide(r, store).violations[0].message


def test_describe_escapes_and_says_the_fix(tmp_path: Path) -> None:
    from test_report_render import check_markdown

    r, store = _repo(tmp_path, '    actors: ["@team|x"]\n    approvals: 1\n')
    text = describe(_decide(r, store, actor="<b>@bob</b>", members=lambda g, u: False))
    check_markdown(text)
    assert "<b>" not in text and "Fix:" in text


def test_check_policy_command_exit_codes(tmp_path: Path) -> None:
    r, _ = _repo(tmp_path, "    approvals: 1\n")
    base = [sys.executable, "-m", "gitops", "check-policy", "churn", "v1.0.0", "prod", "-r",
            str(r.path)]  # fmt: skip
    refused = subprocess.run(base, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "approvals" in refused.stdout and "fix:" in refused.stdout
    ok = subprocess.run([*base, "--approvals", "bob"], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = subprocess.run([*base[:5], "v9", "prod", "-r", str(r.path)], capture_output=True,
                         text=True, timeout=60)  # fmt: skip
    assert bad.returncode == 2 and "v9" in bad.stderr


@pytest.mark.parametrize("now", ["2026-13-01", "yesterday"])
def test_check_policy_refuses_a_bad_time(tmp_path: Path, now: str) -> None:
    r, _ = _repo(tmp_path, "    approvals: 0\n")
    done = subprocess.run([sys.executable, "-m", "gitops", "check-policy", "churn", "v1.0.0",
                           "prod", "-r", str(r.path), "--now", now], capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2 and "--now" in done.stderr and "Traceback" not in done.stderr
