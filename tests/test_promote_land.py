"""The merge half of a promotion, end to end (issue 12, part 2): `gitops promote` opens the PR
on the test forge, the test merges it for real in the repository (and tells the forge, as the
merge button would), then the action runs on the push to the default branch as the runners do.
It must tag with GTO's counter, the merger as tagger and the PR in the message, deploy in the
same run, and make exactly one tag and one deploy however often it runs or races."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cienv import TOKEN, Origin, Run, checkout_like_github, run_github, run_gitlab
from forge_fixtures import forge_fixture  # noqa: F401  (the `forge` fixture)
from forge_server import ACTIONS_BOT_LOGIN, ForgeServer
from gitutil import git

from gitops.config import load_config
from gitops.forge.github import GitHub
from gitops.forge.gitlab import GitLab
from gitops.promote import open as opening
from gitops.promote.request import branch_name, request_path

ROOT = Path(__file__).resolve().parent.parent
GTO = Path(sys.executable).parent / "gto"
T0 = 1_760_000_000
NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
PATH = request_path("prod", "churn")
BRANCH = branch_name("prod", "churn")
GL_TOKEN = "glpat-bot0123456789abcd"


def config(tmp: Path, policy: str = "") -> str:
    local = f"{{driver: local, dir: {json.dumps(str(tmp / 'deployed'))}}}"
    text = (
        "state: {forge_records: false}\n"
        "environments:\n"
        f"  staging: {{stage: staging, deploy: {local}}}\n"
        f"  prod: {{stage: prod, deploy: {local}, allow_unknown_stage: true}}\n"
    )
    return text + (f"policies:\n  prod:\n{policy}" if policy else "")


def registry(tmp: Path, policy: str = "") -> Origin:
    """churn v1.0.0 in staging, v1.1.0 registered; both on main of a bare origin."""
    o = Origin(tmp)
    c1 = o.dev.commit(files={"gitops.yaml": config(tmp, policy), "model.pkl": "w1"}, epoch=T0)
    o.dev.tag("churn@v1.0.0", c1, epoch=T0 + 10)
    o.dev.tag("churn#staging#1", c1, epoch=T0 + 20)
    c2 = o.dev.commit(files={"model.pkl": "w2"}, epoch=T0 + 100)
    o.dev.tag("churn@v1.1.0", c2, epoch=T0 + 110)
    o.publish()
    return o


def open_pr(o: Origin, client: GitHub | GitLab) -> int:
    pr = opening.promote(o.dev.path, client, load_config(o.dev.path), "churn", "v1.1.0", "prod",
                         "auc up 2 points", "alice", NOW, "main")  # fmt: skip
    return pr.number


def merge_for_real(o: Origin, forge: ForgeServer, content: bytes, committer: str) -> str:
    """The PR's request file merged into main with a merge commit, pushed to origin; returns
    the merge commit."""
    dev = o.dev.path
    git(dev, "checkout", "-q", "-b", BRANCH)
    (dev / PATH).parent.mkdir(parents=True, exist_ok=True)
    (dev / PATH).write_bytes(content)
    git(dev, "add", PATH)
    git(dev, "commit", "-q", "-m", "Promote churn v1.1.0 to prod")
    git(dev, "checkout", "-q", "main")
    env = {"GIT_COMMITTER_NAME": committer, "GIT_COMMITTER_EMAIL": "noreply@forge.example"}
    git(dev, "merge", "-q", "--no-ff", "-m", f"Merge {BRANCH}", BRANCH, env=env)
    git(dev, "push", "-q", "origin", "main")
    return o.dev.rev("main")


def push_event(tmp: Path, o: Origin, before: str, after: str, forge: ForgeServer,
               ws: Path | None = None, **extra: str) -> Run:  # fmt: skip
    """The action on GitHub's push event for main, in ``ws`` (default: a fresh checkout)."""
    ws = ws or checkout_like_github(o, tmp / "ws", None)
    payload = {
        "ref": "refs/heads/main",
        "before": before,
        "after": after,
        "created": False,
        "deleted": False,
        "repository": {"full_name": "acme/models", "default_branch": "main"},
        "head_commit": {"id": after},
    }
    env = {"GITHUB_API_URL": forge.github_url, "GITHUB_ACTOR": "bob", **extra}
    tmp.mkdir(parents=True, exist_ok=True)
    return run_github(tmp, ws, "push", payload, "refs/heads/main", after, extra_env=env)


def stage_tags(o: Origin) -> list[str]:
    return git(o.bare, "tag", "--list", "churn#prod#*").split()


def state_tip(o: Origin) -> str:
    return git(o.bare, "rev-parse", "--verify", "-q", "refs/heads/gitops/state", check=False)


def github_merged(tmp: Path, forge: ForgeServer, policy: str = "") -> tuple[Origin, str, str, int]:
    """A promotion PR on GitHub, approved by carol, merged by bob: (origin, before, after, #)."""
    o = registry(tmp, policy)
    forge.add_user("alice", "ghp_alice0123456789", kind="github")
    forge.add_user("bob", "ghp_bob0123456789abc", kind="github")
    forge.add_user("carol", "ghp_carol0123456789", kind="github")
    forge.add_user(ACTIONS_BOT_LOGIN, TOKEN, kind="github-app")
    before = o.dev.rev("main")
    forge.add_repo("acme/models", head_sha=before)
    number = open_pr(o, GitHub(forge.github_url, "acme/models", "ghp_alice0123456789"))
    forge.add_review("acme/models", number, "carol")
    content = forge.file("acme/models", BRANCH, PATH)
    assert content is not None
    after = merge_for_real(o, forge, content, "GitHub")
    forge.merge_pr("acme/models", number, merged_by="bob", sha=after)
    return o, before, after, number


def test_github_merge_tags_with_the_merger_and_deploys_in_the_same_run(
    tmp_path: Path, forge: ForgeServer
) -> None:
    o, before, after, number = github_merged(tmp_path, forge)
    run = push_event(tmp_path, o, before, after, forge)
    assert run.code == 0, run.stdout + run.stderr
    assert stage_tags(o) == ["churn#prod#2"]  # GTO's counter: 1 + the highest #N (staging#1)
    tagger = git(o.bare, "for-each-ref", "--format=%(taggername) %(taggeremail)",
                 "refs/tags/churn#prod#2")  # fmt: skip
    bob = forge.github.user("bob").id
    assert tagger == f"bob <{bob}+bob@users.noreply.github.com>"  # the forge's merged_by
    message = git(o.bare, "tag", "--list", "--format=%(contents)", "churn#prod#2")
    assert message.startswith("Assigning stage prod to artifact churn version v1.1.0\n")
    url = f"{forge.base_url}/acme/models/pull/{number}"  # the forge's html_url
    assert f"Promotion: {url}" in message
    assert "Requested by: alice" in message and "Approved by: carol" in message
    assert git(o.bare, "rev-parse", "churn#prod#2^{commit}") == o.dev.rev("churn@v1.1.0")
    deployed = tmp_path / "deployed" / "prod" / "churn" / "model.pkl"
    assert deployed.read_text() == "w2"  # deployed by this very run
    assert "## Promotions" in run.summary and "tagged `churn#prod#2`" in run.summary
    assert "## Audit" in run.summary and "carol" in run.summary
    assert git(o.bare, "cat-file", "-t", f"{after}:{PATH}") == "blob"  # the record stays
    assert TOKEN not in run.everything()

    # a re-run of the same job: nothing more
    tip = state_tip(o)
    again = push_event(tmp_path / "rerun", o, before, after, forge,
                       checkout_like_github(o, tmp_path / "ws2", None))  # fmt: skip
    assert again.code == 0, again.stdout + again.stderr
    assert "nothing to do: prod already holds it" in again.stdout
    assert stage_tags(o) == ["churn#prod#2"] and state_tip(o) == tip

    # GTO reads the tag as we do
    verify = tmp_path / "verify"
    git(tmp_path, "clone", "-q", str(o.bare), str(verify))
    for args in (["show", "churn", "--json"], ["check-ref", "churn#prod#2", "--json"]):
        theirs = subprocess.run([str(GTO), *args], cwd=verify, capture_output=True, text=True,
                                check=True, timeout=120).stdout  # fmt: skip
        ours = subprocess.run([sys.executable, "-m", "gitops", *args], cwd=verify, text=True,
                              capture_output=True, check=True, timeout=120).stdout  # fmt: skip
        assert json.loads(ours) == json.loads(theirs), args

    # the audit tells who and when
    audit = subprocess.run([sys.executable, "-m", "gitops", "audit", "churn", "--json"],
                           cwd=verify, capture_output=True, text=True, check=True,
                           timeout=120, env={**os.environ, "GITHUB_ACTIONS": "true"})  # fmt: skip
    [story] = [s for s in json.loads(audit.stdout) if s["tag"] == "churn#prod#2"]
    assert (story["requested_by"], story["approved_by"], story["merged_by"]) == (
        "alice", ["carol"], "bob")  # fmt: skip
    assert story["pr_url"] == url
    assert [(d["environment"], d["status"]) for d in story["deploys"]] == [("prod", "deployed")]


def test_two_racing_merge_jobs_make_one_tag_and_one_deploy(
    tmp_path: Path, forge: ForgeServer
) -> None:
    o, before, after, _ = github_merged(tmp_path, forge)
    stale = tmp_path / "stale.git"  # what the second job's fetch saw: origin before the first
    shutil.copytree(o.bare, stale)
    ws2 = checkout_like_github(o, tmp_path / "ws2", None)
    git(ws2, "remote", "set-url", "origin", str(stale))
    git(ws2, "remote", "set-url", "--push", "origin", str(o.bare))

    first = push_event(tmp_path / "one", o, before, after, forge,
                       checkout_like_github(o, tmp_path / "ws1", None))  # fmt: skip
    assert first.code == 0, first.stdout + first.stderr
    tip = state_tip(o)
    second = push_event(tmp_path / "two", o, before, after, forge, ws2)
    assert second.code == 0, second.stdout + second.stderr
    assert "another run tagged it first" in second.stdout
    assert stage_tags(o) == ["churn#prod#2"]
    assert state_tip(o) == tip  # the second deployed nothing
    assert "churn#prod#2" not in git(ws2, "tag", "--list", "churn#prod#*").split() or (
        git(ws2, "rev-parse", "churn#prod#2") == git(o.bare, "rev-parse", "churn#prod#2")
    )  # its own tag was dropped for the remote's


def test_a_refused_merge_makes_no_tag_and_says_which_rule(
    tmp_path: Path, forge: ForgeServer
) -> None:
    o, before, after, _ = github_merged(tmp_path, forge, "    approvals: 2\n")
    run = push_event(tmp_path, o, before, after, forge)
    assert run.code == 1
    assert "policy approvals" in run.outputs["error"] and "1 approval of 2" in run.outputs["error"]
    assert stage_tags(o) == []
    assert not (tmp_path / "deployed" / "prod").exists()
    assert "refused by the policy \\(approvals\\)" in run.summary  # Markdown-escaped


@pytest.mark.parametrize("actors", ["carol", "Bob"])
def test_the_merger_must_be_an_allowed_actor(
    tmp_path: Path, forge: ForgeServer, actors: str
) -> None:
    o, before, after, _ = github_merged(tmp_path, forge, f"    actors: [{actors}]\n")
    run = push_event(tmp_path, o, before, after, forge)
    if actors == "Bob":  # logins compare without case
        assert run.code == 0, run.stdout + run.stderr
        assert stage_tags(o) == ["churn#prod#2"]
        return
    assert run.code == 1
    assert "bob may not promote into prod (allowed: carol)" in run.outputs["error"]
    assert stage_tags(o) == []


def test_a_push_without_requests_is_an_ordinary_branch_push(
    tmp_path: Path, forge: ForgeServer
) -> None:
    o = registry(tmp_path)
    before = o.dev.rev("main")
    after = o.dev.commit(files={"README.md": "docs"}, epoch=T0 + 500)
    o.publish()
    forge.add_user(ACTIONS_BOT_LOGIN, TOKEN, kind="github-app")
    forge.add_repo("acme/models", head_sha=before)
    run = push_event(tmp_path, o, before, after, forge)
    assert run.code == 0, run.stdout + run.stderr
    assert "Promotions" not in run.stdout + run.summary
    assert forge.requests == []  # not one API call
    assert stage_tags(o) == []


def test_gitlab_merge_tags_with_the_merge_user_and_deploys(
    tmp_path: Path, forge: ForgeServer
) -> None:
    o = registry(tmp_path)
    forge.add_user("alice", "glpat-alice0123456789", kind="gitlab")
    forge.add_user("bob", "glpat-bob0123456789ab", kind="gitlab")
    forge.add_user("carol", "glpat-carol012345678", kind="gitlab")
    forge.add_user("gitops-bot", GL_TOKEN, kind="gitlab-project")
    before = o.dev.rev("main")
    forge.add_project("acme/models", project_id=42, head_sha=before)
    client = GitLab(forge.gitlab_url, "acme/models", "glpat-alice0123456789",
                    server_url="https://gitlab.example.com")  # fmt: skip
    iid = open_pr(o, client)
    forge.approve_mr("acme/models", iid, "carol")
    content = forge.file("acme/models", BRANCH, PATH)
    assert content is not None
    after = merge_for_real(o, forge, content, "Administrator")
    forge.merge_mr("acme/models", iid, merged_by="bob", sha=after)
    # the project's URL as the runner's clone URL: here a path on this machine
    server = tmp_path / "srv"
    (server / "acme").mkdir(parents=True)
    (server / "acme" / "models.git").symlink_to(o.bare)
    git(o.bare, "config", "receive.advertisePushOptions", "true")  # as GitLab does
    hook = o.bare / "hooks" / "pre-receive"  # what GitLab reads: the push options
    hook.write_text(f'#!/bin/sh\nenv | grep GIT_PUSH_OPTION_ >> "{tmp_path / "options"}"\n')
    hook.chmod(0o755)
    ws = checkout_like_github(o, tmp_path / "ws", None)
    variables = {
        "CI_PIPELINE_SOURCE": "push",
        "CI_COMMIT_BRANCH": "main",
        "CI_COMMIT_REF_NAME": "main",
        "CI_DEFAULT_BRANCH": "main",
        "CI_COMMIT_SHA": after,
        "CI_COMMIT_BEFORE_SHA": before,
        "CI_API_V4_URL": forge.gitlab_url,
        "CI_SERVER_URL": f"file://{server}",
        "GITOPS_TOKEN": GL_TOKEN,
    }
    run = run_gitlab(tmp_path, ws, variables)
    assert run.code == 0, run.stdout + run.stderr
    assert stage_tags(o) == ["churn#prod#2"]
    tagger = git(o.bare, "for-each-ref", "--format=%(taggername)", "refs/tags/churn#prod#2")
    assert tagger == "bob"  # GitLab's merge_user, not the merge commit's committer
    message = git(o.bare, "tag", "--list", "--format=%(contents)", "churn#prod#2")
    assert f"/acme/models/-/merge_requests/{iid}" in message and "Approved by: carol" in message
    assert (tmp_path / "deployed" / "prod" / "churn" / "model.pkl").read_text() == "w2"
    assert GL_TOKEN not in run.everything()
    assert "GIT_PUSH_OPTION_0=ci.skip" in (tmp_path / "options").read_text()  # no 2nd deploy


@pytest.mark.parametrize("merger", ["forge", "commit"])
def test_without_a_forge_answer_the_committer_is_the_merger(
    tmp_path: Path, forge: ForgeServer, merger: str
) -> None:
    """A request committed straight to main (no PR): the merge commit's committer tags it;
    without a token the forge is not asked at all."""
    o = registry(tmp_path)
    before = o.dev.rev("main")
    forge.add_user(ACTIONS_BOT_LOGIN, TOKEN, kind="github-app")
    forge.add_repo("acme/models", head_sha=before)
    from gitops.promote.request import PromotionRequest

    request = PromotionRequest("churn", "v1.1.0", "prod", o.dev.rev("churn@v1.1.0"), "alice",
                               "hotfix", "2026-12-05T09:00:00Z")  # fmt: skip
    after = merge_for_real(o, forge, request.to_yaml().encode(), "Dora")
    extra = {} if merger == "forge" else {"INPUT_TOKEN": ""}
    run = push_event(tmp_path, o, before, after, forge, **extra)
    assert run.code == 0, run.stdout + run.stderr
    tagger = git(o.bare, "for-each-ref", "--format=%(taggername)", "refs/tags/churn#prod#2")
    assert tagger == "Dora"
    assert "merged by Dora [commit]" in run.stdout


def ssh_key(folder: Path, name: str) -> tuple[str, str]:
    """(private key text, public key line) of a new ed25519 key."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(path)],
                   check=True, timeout=60)  # fmt: skip
    return path.read_text(), (folder / f"{name}.pub").read_text().strip()


@pytest.mark.parametrize("signer", ["ci", "stranger", "none"])
def test_signed_stage_tags_are_made_with_the_ci_key_and_verified_before_the_push(
    tmp_path: Path, forge: ForgeServer, signer: str
) -> None:
    ci_key, ci_pub = ssh_key(tmp_path / "keys", "ci")
    stranger_key, _ = ssh_key(tmp_path / "keys", "stranger")
    o, before, after, _ = github_merged(tmp_path, forge, "    signed_tags: true\n")
    # the allowed signers, reviewed like any file: the CI key may sign for whoever merged
    git(o.dev.path, "checkout", "-q", "main")
    o.dev.commit(files={".gitops/allowed_signers": f"* {ci_pub}\n"}, epoch=T0 + 900)
    git(o.dev.path, "merge", "-q", "--no-edit", "main")
    o.publish()
    head = o.dev.rev("main")
    extra = {"GITOPS_SIGNING_KEY": {"ci": ci_key, "stranger": stranger_key, "none": ""}[signer]}
    run = push_event(tmp_path, o, before, head, forge, **extra)
    if signer == "ci":
        assert run.code == 0, run.stdout + run.stderr
        assert stage_tags(o) == ["churn#prod#2"]
        git(o.dev.path, "fetch", "-q", "origin", "+refs/tags/*:refs/tags/*")
        signers = f"gpg.ssh.allowedSignersFile={o.dev.path / '.gitops/allowed_signers'}"
        verify = subprocess.run(["git", "-C", str(o.dev.path), "-c", signers, "verify-tag",
                                 "churn#prod#2"], capture_output=True, text=True, timeout=60,
                                check=False)  # fmt: skip
        assert verify.returncode == 0, verify.stderr
        assert (tmp_path / "deployed" / "prod" / "churn" / "model.pkl").read_text() == "w2"
    else:
        assert run.code == 1
        assert "policy signed_tags" in run.outputs["error"]
        assert stage_tags(o) == []
        assert not (tmp_path / "deployed" / "prod").exists()
    assert ci_key.strip().splitlines()[1] not in run.everything()  # the key never shows


FREEZE = (
    "    freeze:\n"
    "      - {from: 2026-12-20, to: 2026-12-27, tz: Europe/Berlin, reason: holidays}\n"
    "    override_label: hotfix\n"
)


@pytest.mark.parametrize("label", [None, "hotfix"])
def test_a_freeze_holds_the_merge_unless_the_override_label_is_on_the_pr(
    tmp_path: Path, forge: ForgeServer, label: str | None
) -> None:
    o, before, after, number = github_merged(tmp_path, forge, FREEZE)
    if label:
        forge.label_pr("acme/models", number, label)
    run = push_event(tmp_path, o, before, after, forge, GITOPS_NOW="2026-12-24T10:00:00+01:00")
    if label is None:
        assert run.code == 1
        assert "policy freeze: prod is frozen now" in run.outputs["error"]
        assert "add the label 'hotfix'" in run.outputs["error"]
        assert stage_tags(o) == []
        return
    assert run.code == 0, run.stdout + run.stderr
    message = git(o.bare, "tag", "--list", "--format=%(contents)", "churn#prod#2")
    assert "Freeze lifted: freeze window 2026-12-20..2026-12-27 (Europe/Berlin): holidays " \
           "lifted by label 'hotfix' (actor bob)" in message  # fmt: skip
    assert "lifted by label 'hotfix'" in run.stdout  # a warning in the log as well
    assert "lifted by label" in run.summary  # and the audit in the summary (escaped)
    outside = push_event(tmp_path / "later", o, before, after, forge,
                         GITOPS_NOW="2026-12-28T10:00:00+01:00")  # fmt: skip
    assert outside.code == 0 and stage_tags(o) == ["churn#prod#2"]  # done: nothing more
