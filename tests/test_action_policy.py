"""A hand-pushed stage tag is checked against its stage's policy before anything deploys: a
refused move leaves its environments as they are, the run fails saying which rule and how to
meet it, and nothing is deleted; an allowed one deploys as before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cienv import Origin, Run, checkout_like_github, run_github
from gitutil import git
from test_action_github import tag_push

T0 = 1_760_000_000


def _origin(tmp_path: Path, policy: str) -> Origin:
    o = Origin(tmp_path)
    local = f"{{driver: local, dir: {json.dumps(str(tmp_path / 'deployed'))}}}"
    config = (
        "state: {forge_records: false, store: file}\n"
        "environments:\n"
        f"  staging: {{stage: staging, deploy: {local}, allow_unknown_stage: true}}\n"
        f"  prod: {{stage: prod, deploy: {local}}}\n"
        f"policies:\n  prod:\n{policy}"
    )
    sha = o.dev.commit(files={"gitops.yaml": config, "model.pkl": "w1"}, epoch=T0)
    o.dev.tag("churn@v1.0.0", sha, epoch=T0 + 10)
    return o


def test_a_refused_tag_deploys_nothing_and_says_why(tmp_path: Path) -> None:
    o = _origin(tmp_path, "    approvals: 1\n")
    o.dev.tag("churn#prod#1", o.dev.rev("churn@v1.0.0"), epoch=T0 + 20,
              tagger=("Mallory", "m@example.com"))  # fmt: skip
    o.publish()
    run = tag_push(tmp_path, o, "churn#prod#1")
    assert run.code == 1
    assert "churn#prod#1 is not deployed: policy approvals" in run.stdout
    assert "gitops promote churn v1.0.0 prod" in run.outputs["error"]
    assert not (tmp_path / "deployed" / "prod").exists()
    assert run.outputs["deployments"] == "[]"
    assert git(o.bare, "tag", "--list", "churn#prod#1") == "churn#prod#1"  # nothing deleted


def test_an_allowed_tag_deploys(tmp_path: Path) -> None:
    o = _origin(tmp_path, "    actors: [Ops]\n")
    o.dev.tag("churn#prod#1", o.dev.rev("churn@v1.0.0"), epoch=T0 + 20,
              tagger=("Ops", "ops@example.com"))  # fmt: skip
    o.publish()
    run = tag_push(tmp_path, o, "churn#prod#1")
    assert run.code == 0, run.stdout + run.stderr
    assert "policies: every stage move is allowed" in run.stdout
    assert (tmp_path / "deployed" / "prod" / "churn" / "model.pkl").read_text() == "w1"


def test_only_the_refused_stage_is_held(tmp_path: Path) -> None:
    """Two tags in one event: staging has no policy and deploys; prod's is refused."""
    o = _origin(tmp_path, "    after: [staging]\n")
    sha = o.dev.rev("churn@v1.0.0")
    o.dev.tag("churn#staging#1", sha, epoch=T0 + 20)
    o.dev.tag("churn#prod#2", sha, epoch=T0 + 21)
    o.publish()
    run = tag_push(tmp_path, o, "churn#prod#2", ref="churn#staging#1 churn#prod#2")
    assert run.code == 1
    assert "in staging (stage staging): v1.0.0 has not run there" in run.outputs["error"]
    assert (tmp_path / "deployed" / "staging" / "churn" / "model.pkl").exists()
    assert not (tmp_path / "deployed" / "prod").exists()


def _signed_tag(o: Origin, tmp: Path, key: str) -> None:
    """churn#prod#1 signed with the SSH key ``key`` (made here), by the tagger Ops."""
    env = {"GIT_COMMITTER_NAME": "Ops", "GIT_COMMITTER_EMAIL": "ops@example.com",
           "GIT_COMMITTER_DATE": f"{T0 + 20} +0000"}  # fmt: skip
    git(o.dev.path, "-c", "gpg.format=ssh", "-c", f"user.signingKey={tmp / key}", "tag", "-s",
        "-m", "prod", "churn#prod#1", o.dev.rev("churn@v1.0.0"), env=env)  # fmt: skip


def _keys(tmp: Path) -> str:
    """Two SSH keys, ``ops`` and ``stranger``; returns the allowed-signers line of ``ops``."""
    import subprocess

    for name in ("ops", "stranger"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f",
                        str(tmp / name)], check=True, timeout=60)  # fmt: skip
    return f"ops@example.com {(tmp / 'ops.pub').read_text().strip()}\n"


def tag_push_at(tmp: Path, o: Origin, tag: str, now: str) -> Run:
    """``tag_push`` with the clock set to ``now`` (GITOPS_NOW; empty: the real clock)."""
    ws = checkout_like_github(o, tmp / "ws", tag)
    tag_object = git(o.dev.path, "rev-parse", f"refs/tags/{tag}")
    payload = {"ref": f"refs/tags/{tag}", "before": "0" * 40, "after": tag_object,
               "created": True, "deleted": False,
               "head_commit": {"id": o.dev.rev(tag)}}  # fmt: skip
    env = {"GITOPS_NOW": now} if now else {}
    return run_github(tmp, ws, "push", payload, f"refs/tags/{tag}", tag_object, extra_env=env)


# Each rule, allowed and refused, on a hand-pushed stage tag (the PR side: test_promote_land.py,
# the rules themselves: test_promote_policy.py).
RULES = {
    # rule: (policy lines, GITOPS_NOW, allowed case?, expected error when refused)
    "actors-refused": ("    actors: [alice]\n", "", False, "Tagger may not promote into prod"),
    "actors-allowed": ("    actors: [tagger]\n", "", True, ""),  # logins: any case
    "freeze-refused": (
        "    freeze: [{from: 2026-12-20, to: 2026-12-27, tz: Europe/Berlin}]\n",
        "2026-12-24T12:00:00+01:00", False, "prod is frozen now",
    ),
    "freeze-allowed": (
        "    freeze: [{from: 2026-12-20, to: 2026-12-27, tz: Europe/Berlin}]\n",
        "2026-12-28T12:00:00+01:00", True, "",
    ),
    "gates-refused": ("    gates: true\n", "", False, "gate auc failed"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(RULES))
def test_each_rule_on_a_hand_pushed_tag(tmp_path: Path, case: str) -> None:
    policy, now, allowed, expected = RULES[case]
    o = _origin(tmp_path, policy)
    if case.startswith("gates"):
        o.dev.commit(files={"gitops.yaml": (o.dev.path / "gitops.yaml").read_text()
                            + "reports:\n  gates:\n    auc: {min: 0.9}\n",
                            "metrics.json": '{"auc": 0.5}'}, epoch=T0 + 15)  # fmt: skip
        o.dev.tag("churn@v1.1.0", "HEAD", epoch=T0 + 16)
        o.dev.tag("churn#prod#1", o.dev.rev("churn@v1.1.0"), epoch=T0 + 20)
    else:
        o.dev.tag("churn#prod#1", o.dev.rev("churn@v1.0.0"), epoch=T0 + 20)
    o.publish()
    run = tag_push_at(tmp_path, o, "churn#prod#1", now)
    if allowed:
        assert run.code == 0, run.stdout + run.stderr
        assert (tmp_path / "deployed" / "prod" / "churn").is_dir()
    else:
        assert run.code == 1
        assert expected in run.outputs["error"]
        assert not (tmp_path / "deployed" / "prod").exists()
        assert git(o.bare, "tag", "--list", "churn#prod#1") == "churn#prod#1"  # kept


@pytest.mark.parametrize("signer", ["ops", "stranger", None])
def test_signed_tags_on_a_hand_pushed_tag(tmp_path: Path, signer: str | None) -> None:
    o = _origin(tmp_path, "    signed_tags: true\n")
    line = _keys(tmp_path)
    o.dev.commit(files={".gitops/allowed_signers": line}, epoch=T0 + 15)
    if signer is None:
        o.dev.tag("churn#prod#1", o.dev.rev("churn@v1.0.0"), epoch=T0 + 20,
                  tagger=("Ops", "ops@example.com"))  # fmt: skip
    else:
        _signed_tag(o, tmp_path, signer)
    o.publish()
    run = tag_push(tmp_path, o, "churn#prod#1")
    if signer == "ops":
        assert run.code == 0, run.stdout + run.stderr
        assert (tmp_path / "deployed" / "prod" / "churn" / "model.pkl").read_text() == "w1"
    else:
        assert run.code == 1
        assert "policy signed_tags: tag churn#prod#1 does not verify" in run.outputs["error"]
        assert not (tmp_path / "deployed" / "prod").exists()


def test_the_tagged_commits_own_allowed_signers_do_not_count(tmp_path: Path) -> None:
    """A version's commit that lists its own key in .gitops/allowed_signers vouches for
    nothing: the default branch's file is the one that counts."""
    o = _origin(tmp_path, "    signed_tags: true\n")
    line = _keys(tmp_path)
    o.dev.commit(files={".gitops/allowed_signers": line}, epoch=T0 + 15)  # main: ops only
    git(o.dev.path, "checkout", "-q", "-b", "side")
    stranger = f"ops@example.com {(tmp_path / 'stranger.pub').read_text().strip()}\n"
    side = o.dev.commit(files={".gitops/allowed_signers": stranger}, epoch=T0 + 16)
    o.dev.tag("churn@v1.1.0", side, epoch=T0 + 17)
    env = {"GIT_COMMITTER_NAME": "Ops", "GIT_COMMITTER_EMAIL": "ops@example.com"}
    git(o.dev.path, "-c", "gpg.format=ssh", "-c", f"user.signingKey={tmp_path / 'stranger'}",
        "tag", "-s", "-m", "prod", "churn#prod#1", side, env=env)  # fmt: skip
    git(o.dev.path, "checkout", "-q", "main")
    o.publish()
    git(o.dev.path, "push", "-q", "origin", "side")
    run = tag_push(tmp_path, o, "churn#prod#1")
    assert run.code == 1
    assert "policy signed_tags: tag churn#prod#1 does not verify" in run.outputs["error"]
    assert not (tmp_path / "deployed" / "prod").exists()
