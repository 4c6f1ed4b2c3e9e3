"""Automatic proposals in the scheduled reconcile (issue 12, part 4): the action run as the
runners run it, the time injected through GITOPS_NOW (never slept), the PR/MR on the test forge
as GitHub and as GitLab. Before the soak: no PR and the log says why; after it: one PR/MR with
the request file and the report; again: the same PR/MR, no new commit, no edit."""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cienv import TOKEN, Origin, Run, checkout_like_github, run_github, run_gitlab
from forge_fixtures import forge_fixture  # noqa: F401  (the `forge` fixture)
from forge_server import ACTIONS_BOT_LOGIN, ForgeServer

from gitops.forge.github import GitHub
from gitops.forge.gitlab import GitLab
from gitops.promote.request import branch_name, parse_request, request_path

T0 = 1_760_000_000
BOT_TOKEN = "glpat-bot0123456789abcd"
PATH = request_path("prod", "churn")
BRANCH = branch_name("prod", "churn")
DEPLOY = "import os, sys; sys.exit(os.environ['GITOPS_VERSION'] == os.environ['FAIL_VERSION'])"


def config(fail: str = "none", extra: str = "") -> str:
    run = json.dumps([sys.executable, "-c", DEPLOY])
    deploy = f"{{driver: command, run: {run}, env: {{FAIL_VERSION: {fail}}}}}"
    return (
        "state: {store: file, forge_records: false}\n"
        "environments:\n"
        f"  staging: {{stage: staging, deploy: {deploy}}}\n"
        f"  prod: {{stage: prod, deploy: {deploy}}}\n"
        "policies:\n"
        "  staging:\n"
        "    promote: {to: prod, when: healthy, soak: 24h}\n" + extra
    )


def origin_with(tmp: Path, cfg: str) -> Origin:
    """churn v1.0.0 in prod; v1.1.0 (a better auc) in staging, about to be deployed there."""
    o = Origin(tmp)
    d = o.dev
    c1 = d.commit(files={"gitops.yaml": cfg, "metrics.json": '{"auc": 0.80}'}, epoch=T0)
    d.tag("churn@v1.0.0", c1, epoch=T0 + 10)
    d.tag("churn#prod#1", c1, epoch=T0 + 20)
    c2 = d.commit(files={"metrics.json": '{"auc": 0.85}'}, epoch=T0 + 100)
    d.tag("churn@v1.1.0", c2, epoch=T0 + 110)
    d.tag("churn#staging#2", c2, epoch=T0 + 120)
    o.publish()
    return o


def with_fraud(o: Origin) -> Origin:
    """A second artifact in staging, so two promotions fall due together."""
    o.dev.tag("fraud@v2.0.0", o.dev.rev(), epoch=T0 + 400)
    o.dev.tag("fraud#staging#1", o.dev.rev(), epoch=T0 + 410)
    o.publish()
    return o


def iso(when: datetime) -> str:
    return when.isoformat()


class Scheduler:
    """Scheduled runs of one platform on one workspace (the file store stays in it)."""

    def __init__(
        self,
        tmp: Path,
        origin: Origin,
        forge: ForgeServer,
        platform: str,
        can_create_prs: bool = True,
    ) -> None:
        self.tmp, self.origin, self.forge, self.platform = tmp, origin, forge, platform
        self.ws = checkout_like_github(origin, tmp / "ws", None)
        if platform == "github":
            forge.add_user(ACTIONS_BOT_LOGIN, TOKEN, kind="github-app")
            head = origin.dev.rev()
            forge.add_repo("acme/models", head_sha=head, actions_can_create_prs=can_create_prs)
        else:
            forge.add_project("acme/models", project_id=42, head_sha=origin.dev.rev())
            forge.add_user("gitops-bot", BOT_TOKEN, kind="gitlab-project")

    def run(self, now: datetime | None = None, **extra: str) -> Run:
        clock = {"GITOPS_NOW": iso(now)} if now is not None else {}
        sha = self.origin.dev.rev()
        if self.platform == "github":
            payload = {
                "schedule": "17 5 * * *",
                "repository": {"full_name": "acme/models", "default_branch": "main"},
            }
            env = {"GITHUB_API_URL": self.forge.github_url, **clock, **extra}
            return run_github(
                self.tmp, self.ws, "schedule", payload, "refs/heads/main", sha, extra_env=env
            )
        variables = {
            "CI_PIPELINE_SOURCE": "schedule",
            "CI_COMMIT_BRANCH": "main",
            "CI_DEFAULT_BRANCH": "main",
            "CI_COMMIT_SHA": sha,
            "CI_API_V4_URL": self.forge.gitlab_url,
            "GITOPS_TOKEN": BOT_TOKEN,
            **clock,
            **extra,
        }
        return run_gitlab(self.tmp, self.ws, variables)

    def proposals(self, run: Run) -> list[str]:
        key = "proposals" if self.platform == "github" else "GITOPS_PROPOSALS"
        return json.loads(run.outputs[key])

    def open_prs(self) -> list[int]:
        if self.platform == "github":
            pulls = self.forge.repo("acme/models").pulls
            return [n for n, p in pulls.items() if p.state == "open"]
        mrs = self.forge.project("acme/models").mrs
        return [n for n, m in mrs.items() if m.state == "opened"]

    def body(self, number: int) -> str:
        if self.platform == "github":
            return self.forge.repo("acme/models").pulls[number].body or ""
        return self.forge.project("acme/models").mrs[number].description or ""

    def writes(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.forge.requests if r.method != "GET"]


@pytest.mark.parametrize("platform", ["github", "gitlab"])
def test_a_proposal_appears_after_the_soak_and_not_before_and_only_once(
    tmp_path: Path, forge: ForgeServer, platform: str
) -> None:
    s = Scheduler(tmp_path, origin_with(tmp_path, config()), forge, platform)
    first = s.run()  # deploys v1.1.0 to staging: its soak starts now
    start = datetime.now(UTC)
    assert first.code == 0, first.stdout + first.stderr
    assert "proposal: churn v1.1.0 for prod: not yet, soaked " in first.stdout
    assert "of 24h in staging (due " in first.stdout
    assert s.proposals(first) == [] and s.open_prs() == [] and s.writes() == []
    assert "## Proposals" in first.summary and "No promotion is due." in first.summary

    early = s.run(start + timedelta(hours=23))  # a day later, less an hour: still not
    assert early.code == 0 and s.open_prs() == [] and s.writes() == []
    assert "not yet, soaked 23h" in early.stdout

    later = s.run(start + timedelta(hours=25))
    assert later.code == 0, later.stdout + later.stderr
    [number] = s.open_prs()
    [url] = s.proposals(later)
    assert url.endswith(f"/pull/{number}" if platform == "github" else f"/merge_requests/{number}")
    request = parse_request(forge.file("acme/models", BRANCH, PATH) or b"", PATH)
    assert (request.artifact, request.version, request.stage) == ("churn", "v1.1.0", "prod")
    assert request.commit == s.origin.dev.rev("churn@v1.1.0")
    assert request.requested_by == "gitops"  # the pipeline proposes
    assert request.reason.startswith("ran healthy in staging since ")
    body = s.body(number)
    assert "compared with v1\\.0\\.0 in prod" in body  # the report: candidate vs the stage
    assert "| `prod` | `churn` | update | `v1.0.0` | `v1.1.0` |" in body  # and the plan
    assert "## Proposals" in later.summary and "opened" in later.summary
    assert TOKEN not in later.everything() and BOT_TOKEN not in later.everything()

    tip = forge.commit("acme/models", BRANCH)
    before = len(forge.requests)
    again = s.run(start + timedelta(hours=26))  # the next hour: the same PR, untouched
    assert again.code == 0, again.stdout + again.stderr
    assert s.proposals(again) == [url] and s.open_prs() == [number]
    assert forge.commit("acme/models", BRANCH) == tip  # no new commit
    assert [r.method for r in forge.requests[before:] if r.method != "GET"] == []  # no edit
    assert "already proposed in " in again.stdout
    assert s.body(number) == body


@pytest.mark.parametrize("platform", ["github", "gitlab"])
def test_nothing_is_proposed_once_the_target_holds_it(
    tmp_path: Path, forge: ForgeServer, platform: str
) -> None:
    origin = origin_with(tmp_path, config())
    s = Scheduler(tmp_path, origin, forge, platform)
    start = datetime.now(UTC)
    assert s.run().code == 0
    origin.dev.tag("churn#prod#3", origin.dev.rev("churn@v1.1.0"), epoch=T0 + 300)
    origin.publish()
    run = s.run(start + timedelta(days=3))
    assert run.code == 0, run.stdout + run.stderr
    assert "proposal: no promotion is due" in run.stdout
    assert "churn v1.1.0 for prod" not in run.stdout
    assert s.proposals(run) == [] and s.open_prs() == [] and s.writes() == []


@pytest.mark.parametrize("platform", ["github", "gitlab"])
def test_a_failed_deploy_in_the_source_stage_proposes_nothing(
    tmp_path: Path, forge: ForgeServer, platform: str
) -> None:
    s = Scheduler(tmp_path, origin_with(tmp_path, config(fail="v1.1.0")), forge, platform)
    start = datetime.now(UTC)
    assert s.run().code == 1  # the deploy to staging failed: the reconcile fails
    run = s.run(start + timedelta(days=3))
    assert "proposal: churn v1.1.0 for prod: not yet, not healthy in staging yet: v1.1.0 " in (
        run.stdout
    )
    assert s.proposals(run) == [] and s.open_prs() == []
    assert [w for w in s.writes() if "pull" in w or "merge_requests" in w] == []


def test_gitlab_job_token_warns_once_and_proposes_nothing(
    tmp_path: Path, forge: ForgeServer
) -> None:
    s = Scheduler(tmp_path, origin_with(tmp_path, config()), forge, "gitlab")
    start = datetime.now(UTC)
    assert s.run(GITOPS_TOKEN="").code == 0
    run = s.run(start + timedelta(hours=25), GITOPS_TOKEN="")
    assert run.code == 0, run.stdout + run.stderr  # the reconcile itself went fine
    warnings = [line for line in run.stdout.splitlines() if "not proposed" in line]
    assert len(warnings) == 1 and "churn v1.1.0 for prod" in warnings[0]
    assert "GITOPS_TOKEN" in warnings[0]
    assert s.proposals(run) == [] and forge.requests == []


def test_github_token_that_may_not_open_prs_warns_once_and_goes_no_further(
    tmp_path: Path, forge: ForgeServer
) -> None:
    """Two due promotions; GitHub refuses the first PR (Actions may not create pull requests
    in this repository): one warning, and the second is not tried with the same token."""
    origin = with_fraud(origin_with(tmp_path, config()))
    s = Scheduler(tmp_path, origin, forge, "github", can_create_prs=False)
    start = datetime.now(UTC)
    assert s.run().code == 0
    run = s.run(start + timedelta(hours=25))
    assert run.code == 0, run.stdout + run.stderr
    warnings = [line for line in run.stdout.splitlines() if line.startswith("::warning")]
    assert len(warnings) == 1, run.stdout
    assert "churn v1.1.0 for prod not proposed: the token may not open it" in warnings[0]
    assert "proposal: not tried with this token: 1 more" in run.stdout
    assert s.proposals(run) == [] and s.open_prs() == []
    assert forge.file("acme/models", branch_name("prod", "fraud"), "README.md") is None


@pytest.mark.parametrize("platform", ["github", "gitlab"])
def test_a_forge_failure_on_one_proposal_is_a_warning_and_the_others_go_on(
    tmp_path: Path, forge: ForgeServer, platform: str
) -> None:
    origin = with_fraud(origin_with(tmp_path, config()))
    s = Scheduler(tmp_path, origin, forge, platform)
    start = datetime.now(UTC)
    assert s.run().code == 0
    where = "contents/" if platform == "github" else "repository/commits"
    forge.inject("PUT" if platform == "github" else "POST", where, 409, times=1)
    run = s.run(start + timedelta(hours=25))
    assert run.code == 0, run.stdout + run.stderr
    failed = [line for line in run.stdout.splitlines() if "not proposed" in line]
    assert len(failed) == 1 and "churn v1.1.0 for prod not proposed" in failed[0]
    [url] = s.proposals(run)  # fraud's went on
    [number] = s.open_prs()
    assert "fraud" in s.body(number)


@pytest.mark.parametrize("platform", ["github", "gitlab"])
def test_forge_clients_make_no_commit_and_no_edit_when_nothing_changed(
    tmp_path: Path, forge: ForgeServer, platform: str
) -> None:
    """GitHub's contents API makes an empty commit of an unchanged file, and every PATCH is
    an edit in the PR's timeline: the clients skip both when nothing changed."""
    if platform == "github":
        forge.add_user("alice", "ghp_alice0123456789", kind="github")
        forge.add_repo("acme/models")
        client: GitHub | GitLab = GitHub(forge.github_url, "acme/models", "ghp_alice0123456789")
    else:
        forge.add_user("alice", "glpat-alice0123456789", kind="gitlab")
        forge.add_project("acme/models", project_id=42)
        client = GitLab(forge.gitlab_url, "acme/models", "glpat-alice0123456789")
    tip = forge.commit("acme/models", "main")
    assert tip is not None
    assert client.create_branch("topic", tip.sha)
    first = client.commit_files("topic", {"a.yaml": "x: 1\n"}, "add a")
    pr = client.open_pr("topic", "main", "Title", "Body <b>")
    writes = len([r for r in forge.requests if r.method != "GET"])
    assert client.commit_files("topic", {"a.yaml": "x: 1\n"}, "add a again") == first
    assert client.open_pr("topic", "main", "Title", "Body <b>") == pr
    assert len([r for r in forge.requests if r.method != "GET"]) == writes
    assert client.file_text("topic", "a.yaml") == "x: 1\n"
    assert client.file_text("topic", "missing.yaml") is None
    second = client.commit_files("topic", {"a.yaml": "x: 2\n"}, "change a")  # a change: written
    assert second != first and forge.commit("acme/models", "topic").parents == [first]
    assert client.open_pr("topic", "main", "Title", "Body 2").number == pr.number
    assert len([r for r in forge.requests if r.method != "GET"]) == writes + 2


def test_the_summary_section_escapes_what_it_did_not_write() -> None:
    """Forge messages and reasons reach the summary: no HTML, no mention, no table break."""
    from gitops.ci.propose_step import Outcome, markdown
    from gitops.promote.propose import Due, NotYet

    item = Due("churn", "v1.1.0", "c" * 40, "staging", "prod", "2026-12-05T00:00:00+00:00")
    hostile = "<img src=x onerror=alert(1)> @everyone | [x](https://evil.example)"
    text = markdown(
        [Outcome(item, "failed", detail=hostile)],
        [NotYet("fraud", "v2.0.0", "staging", "prod", hostile)],
    )
    assert "## Proposals" in text and "| `churn` | `v1.1.0` | `staging` → `prod` | failed |" in text
    for raw in ("<img", "@everyone", "](https", "| [x]"):
        assert not re.search(r"(?<!\\)" + re.escape(raw), text), raw  # only escaped
    assert "\\<img src\\=x" in text and "\\@everyone" in text
    assert all(line.count("|") - line.count("\\|") in (0, 6) for line in text.splitlines())


@pytest.mark.parametrize("platform", ["github", "gitlab"])
def test_a_proposal_closed_without_merging_is_not_reopened_every_hour(
    tmp_path: Path, forge: ForgeServer, platform: str
) -> None:
    s = Scheduler(tmp_path, origin_with(tmp_path, config()), forge, platform)
    assert s.run().code == 0
    start = datetime.now(UTC)
    opened = s.run(start + timedelta(hours=25))
    [number] = s.open_prs()
    with forge.lock:  # a reviewer closes it: not this version
        if platform == "github":
            forge.repo("acme/models").pulls[number].state = "closed"
        else:
            forge.project("acme/models").mrs[number].state = "closed"
    before = len(forge.requests)
    run = s.run(start + timedelta(hours=26))
    assert run.code == 0, run.stdout + run.stderr
    assert s.open_prs() == [] and s.proposals(run) == [] and s.proposals(opened) != []
    assert [r.method for r in forge.requests[before:] if r.method != "GET"] == []
    assert "not proposed again, gitops/promote/prod/churn already asks for it" in run.stdout
    assert "declined" in run.summary


def test_a_dry_run_names_the_due_promotions_and_writes_nothing(
    tmp_path: Path, forge: ForgeServer
) -> None:
    s = Scheduler(tmp_path, origin_with(tmp_path, config()), forge, "github")
    assert s.run().code == 0
    start = datetime.now(UTC)
    run = s.run(start + timedelta(hours=25), **{"INPUT_DRY-RUN": "true"})
    assert run.code == 0, run.stdout + run.stderr
    assert "proposal: dry run, not proposed: churn v1.1.0 for prod" in run.stdout
    assert s.proposals(run) == [] and forge.requests == []
    assert "| not proposed | dry run |" in run.summary
