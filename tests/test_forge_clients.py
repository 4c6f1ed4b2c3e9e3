"""Our GitHub and GitLab clients against the test forge: a real HTTP server on 127.0.0.1 that
paginates, authenticates, limits and fails like the real APIs."""

from __future__ import annotations

import time

import pytest
from forge_fixtures import forge_fixture, ghes_forge_fixture  # noqa: F401  (fixtures)
from forge_server import ACTIONS_BOT_LOGIN, ForgeServer
from openapi_check import SPEC_PATH, OpenApi

from gitops.errors import GitopsError
from gitops.forge.base import ForgePermissionError, marker
from gitops.forge.github import GitHub
from gitops.forge.gitlab import GitLab
from gitops.forge.http import ForgeError, RetryPolicy

FAST = RetryPolicy(backoff_factor=0.05, backoff_max=0.5, jitter=0.0, max_wait=5)
APP_TOKEN = "ghs_" + "a" * 36
PAT = "ghp_" + "b" * 36
REPO = "acme/models"


def github(forge: ForgeServer, token: str = APP_TOKEN, **kw: object) -> GitHub:
    return GitHub(forge.github_url, REPO, token, retry=kw.pop("retry", FAST), **kw)  # type: ignore[arg-type]


@pytest.fixture
def gh(forge: ForgeServer) -> ForgeServer:
    forge.add_user(ACTIONS_BOT_LOGIN, APP_TOKEN, kind="github-app")
    forge.add_user("octocat", PAT)
    forge.add_repo(REPO, files={"README.md": "hello\n"})
    forge.add_pr(REPO, 7, head_ref="feature", title="Promote churn")
    return forge


def requests_to(forge: ForgeServer, method: str, pattern: str) -> int:
    return len(forge.find(method, pattern))


# --- sticky comments ---------------------------------------------------------------------------


def test_sticky_comment_is_created_then_updated_in_two_requests_each(gh: ForgeServer) -> None:
    client = github(gh)
    first = client.upsert_comment(7, "report", "## Report v1")
    assert (first.action, first.requests) == ("created", 2)  # list + create
    second = client.upsert_comment(7, "report", "## Report v2")
    assert (second.action, second.requests) == ("updated", 2)  # list + update
    [comment] = gh.comments(REPO, 7)
    assert comment.body == f"{marker('report')}\n## Report v2"
    assert comment.user == ACTIONS_BOT_LOGIN
    assert second.url == first.url
    third = client.upsert_comment(7, "report", "## Report v2")
    assert (third.action, third.requests) == ("unchanged", 1)


def test_sticky_comment_found_on_page_three_among_copied_markers(gh: ForgeServer) -> None:
    tagged = marker("report")
    for i in range(250):
        if i == 220:
            gh.add_comment(REPO, 7, f"{tagged}\nold report", ACTIONS_BOT_LOGIN)
        elif i in (5, 120, 240):  # someone pasted our marker into their own comments
            gh.add_comment(REPO, 7, f"quoting: {tagged}\nfake", "mallory")
        else:
            gh.add_comment(REPO, 7, f"comment {i}", "octocat")
    result = github(gh).upsert_comment(7, "report", "new report")
    assert result.action == "updated"
    assert result.requests == 4  # 3 pages of 100 + 1 update
    bodies = {c.user: c.body for c in gh.comments(REPO, 7) if tagged in c.body}
    assert bodies[ACTIONS_BOT_LOGIN] == f"{tagged}\nnew report"
    assert all("fake" in c.body for c in gh.comments(REPO, 7) if c.user == "mallory")
    assert requests_to(gh, "PATCH", r"/issues/comments/\d+$") == 1


def test_a_personal_token_asks_who_it_is_once(gh: ForgeServer) -> None:
    gh.add_comment(REPO, 7, f"{marker('r')}\nby someone else", "mallory")
    client = github(gh, PAT)
    result = client.upsert_comment(7, "r", "mine")
    assert (result.action, result.requests) == ("created", 3)  # list + /user + create
    assert requests_to(gh, "GET", r"^/user$") == 1


def test_new_and_off_modes(gh: ForgeServer) -> None:
    client = github(gh)
    client.upsert_comment(7, "r", "one", mode="new")
    client.upsert_comment(7, "r", "two", mode="new")
    assert client.upsert_comment(7, "r", "three", mode="off").action == "skipped"
    assert [c.body.split("\n")[1] for c in gh.comments(REPO, 7)] == ["one", "two"]


def test_a_70k_report_is_cut_below_the_limit_with_a_note(gh: ForgeServer) -> None:
    body = "\n\n".join(f"| row {i} | " + "x" * 60 + " |" for i in range(1000))
    assert len(body) > 65_536
    result = github(gh).upsert_comment(7, "r", body, full_text_at="https://ci/run/1")
    assert result.truncated
    [comment] = gh.comments(REPO, 7)
    assert len(comment.body) <= 65_536
    assert "this report was cut at" in comment.body
    assert "The full report is in https://ci/run/1." in comment.body
    kept = comment.body.split("\n\n> **Note:**")[0]
    assert kept.endswith(" |")  # cut at a clean boundary, not mid-row


# --- retries, limits, timeouts -----------------------------------------------------------------


def test_two_429s_then_success_waits_as_told(gh: ForgeServer) -> None:
    gh.inject("POST", r"/comments$", 429, times=2, headers={"Retry-After": "1"})
    started = time.monotonic()
    result = github(gh).upsert_comment(7, "r", "body")
    elapsed = time.monotonic() - started
    assert result.action == "created"
    assert 2.0 <= elapsed < 6.0  # honoured Retry-After twice, nothing more
    assert requests_to(gh, "POST", r"/comments$") == 3


def test_three_500s_then_success(gh: ForgeServer) -> None:
    client = github(gh)
    client.upsert_comment(7, "r", "one")
    gh.inject("PATCH", r"/issues/comments/", 500, times=3)
    assert client.upsert_comment(7, "r", "two").action == "updated"
    assert requests_to(gh, "PATCH", r"/issues/comments/") == 4


def test_persistent_502_fails_clearly_after_the_retries(gh: ForgeServer) -> None:
    gh.inject("GET", r"/comments$", 502, times=None, body={"message": "Server Error"})
    with pytest.raises(ForgeError) as info:
        github(gh).upsert_comment(7, "r", "x")
    assert str(info.value).startswith(f"GET /repos/{REPO}/issues/7/comments failed with HTTP 502")
    assert requests_to(gh, "GET", r"/comments$") == 6  # 1 + 5 retries


def test_secondary_rate_limit_is_waited_out(gh: ForgeServer) -> None:
    gh.inject_secondary_rate_limit("POST", r"/comments$", retry_after=1)
    started = time.monotonic()
    assert github(gh).upsert_comment(7, "r", "x").action == "created"
    assert time.monotonic() - started >= 1.0


def test_primary_rate_limit_waits_for_the_reset(gh: ForgeServer) -> None:
    gh.set_rate_limit("github", 1, reset_in=1.5)
    client = github(gh)
    started = time.monotonic()
    assert client.upsert_comment(7, "r", "x").action == "created"  # 2nd request waits for reset
    assert time.monotonic() - started >= 1.0


def test_a_slow_forge_times_out_within_the_configured_time(gh: ForgeServer) -> None:
    gh.inject("GET", r"/comments$", None, times=None, delay=3.0)
    client = github(gh, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(ForgeError, match=r"no answer within 0.5 s \(timeout\)"):
        client.upsert_comment(7, "r", "x")
    assert time.monotonic() - started < 2.5  # 0.5 s, one read retry for a GET, no more


def test_a_read_only_token_gets_advice_not_a_bare_403(gh: ForgeServer) -> None:
    readonly = "ghs_" + "c" * 36
    gh.add_user("github-actions", readonly, kind="github-app", read_only=True)
    with pytest.raises(ForgePermissionError, match="read-only GITHUB_TOKEN"):
        github(gh, readonly).upsert_comment(7, "r", "x")
    assert requests_to(gh, "POST", r"/comments$") == 1  # a real 403 is not retried


def test_the_token_never_appears_in_errors_or_logs(gh: ForgeServer) -> None:
    lines: list[str] = []
    bad = "ghp_" + "z" * 36
    client = GitHub(gh.github_url, REPO, bad, retry=FAST, log=lines.append)
    with pytest.raises(ForgeError) as info:
        client.upsert_comment(7, "r", "x")
    assert "Bad credentials" in str(info.value)
    good = github(gh, log=lines.append)
    good.upsert_comment(7, "r", "x")
    everything = "\n".join([str(info.value), repr(info.value), *lines])
    assert bad not in everything and APP_TOKEN not in everything
    assert any("-> 201" in line for line in lines)


# --- PRs, branches, files, deployments, statuses -----------------------------------------------


def test_open_pr_then_update_the_same_one(gh: ForgeServer) -> None:
    client = github(gh)
    base = gh.branch_sha(REPO, "main")
    assert client.create_branch("promote/churn-prod", base) is True
    assert client.create_branch("promote/churn-prod", base) is False  # exists: left alone
    client.commit_files("promote/churn-prod", {"promotions/churn.yaml": "prod: v1\n"}, "promote")
    first = client.open_pr("promote/churn-prod", "main", "Promote churn v1", "body 1")
    client.commit_files("promote/churn-prod", {"promotions/churn.yaml": "prod: v2\n"}, "again")
    second = client.open_pr("promote/churn-prod", "main", "Promote churn v2", "body 2")
    assert first.number == second.number and second.title == "Promote churn v2"
    assert gh.file(REPO, "promote/churn-prod", "promotions/churn.yaml") == b"prod: v2\n"
    head = gh.branch_sha(REPO, "promote/churn-prod")
    assert client.find_pr_for_commit(head).number == first.number
    assert client.find_pr_for_branch("promote/churn-prod").number == first.number


def test_deployment_for_a_tag_ignores_failing_checks(gh: ForgeServer) -> None:
    gh.add_status(REPO, "main", "failure", context="ci/tests")
    client = github(gh)
    sha = gh.branch_sha(REPO, "main")
    deployment = client.create_deployment("prod", "main", sha, "churn v1.2.0", {"v": "1.2.0"})
    client.set_deployment_status(deployment, "success", "deployed", "https://ci/run/1")
    client.set_commit_status(sha, "success", "gitops/prod", "churn v1.2.0 deployed")
    [sent] = gh.find("POST", r"/deployments$")
    assert sent.json["auto_merge"] is False and sent.json["required_contexts"] == []


def test_every_github_request_matches_the_openapi_description() -> None:
    if not SPEC_PATH.exists():
        pytest.skip(f"{SPEC_PATH} is not on this machine")
    api = OpenApi()
    with ForgeServer(github_link_style="repos") as forge:
        forge.add_user(ACTIONS_BOT_LOGIN, APP_TOKEN, kind="github-app")
        forge.add_user("octocat", PAT)
        forge.add_repo(REPO, files={"README.md": "hello\n"})
        forge.add_pr(REPO, 7, head_ref="feature")
        for i in range(120):
            forge.add_comment(REPO, 7, f"c{i}")
        client = github(forge)
        client.upsert_comment(7, "r", "one")
        client.upsert_comment(7, "r", "two")
        base = forge.branch_sha(REPO, "main")
        client.create_branch("b", base)
        client.commit_files("b", {"a.txt": "1\n"}, "m")
        client.commit_files("b", {"a.txt": "2\n"}, "m")
        client.open_pr("b", "main", "t", "body")
        client.open_pr("b", "main", "t2", "body")
        client.find_pr_for_commit(base)
        deployment = client.create_deployment("prod", "main", base, "d", {"a": 1})
        client.set_deployment_status(deployment, "success", "ok", "https://x")
        client.set_commit_status(base, "pending", "gitops", "d", "https://x")
        problems = [
            p
            for r in forge.requests
            if r.forge == "github"
            for p in api.problems(r.method, r.path, r.query, r.json)
        ]
        assert len(forge.requests) >= 15
    assert problems == []


def test_github_enterprise_prefix(ghes_forge: ForgeServer) -> None:
    ghes_forge.add_user(ACTIONS_BOT_LOGIN, APP_TOKEN, kind="github-app")
    ghes_forge.add_repo(REPO)
    ghes_forge.add_pr(REPO, 3, head_ref="f")
    assert ghes_forge.github_url.endswith("/api/v3")
    assert github(ghes_forge).upsert_comment(3, "r", "x").action == "created"


# --- GitLab ------------------------------------------------------------------------------------

GL_TOKEN = "glpat-" + "d" * 20
JOB_TOKEN = "glcbt-" + "e" * 20


@pytest.fixture
def gl(forge: ForgeServer) -> ForgeServer:
    forge.add_user("gitops-bot", GL_TOKEN, kind="gitlab-project")
    forge.add_user("alice", JOB_TOKEN, kind="gitlab-job", project=REPO)
    forge.add_project(REPO, project_id=42, files={"README.md": "hi\n"})
    forge.add_mr(42, 5, source_branch="feature")
    return forge


def gitlab(forge: ForgeServer, token: str = GL_TOKEN, kind: str = "private") -> GitLab:
    return GitLab(
        forge.gitlab_url, REPO, token, token_kind=kind, server_url="https://gl.example", retry=FAST
    )


def test_gitlab_sticky_note_among_250(gl: ForgeServer) -> None:
    tagged = marker("report")
    for i in range(250):
        author = "gitops-bot" if i == 230 else "alice"
        body = f"{tagged}\nold" if i in (3, 230) else f"note {i}"
        gl.add_note(42, 5, body, author)
    client = gitlab(gl)
    result = client.upsert_comment(5, "report", "new")
    assert result.action == "updated"
    ours = [n for n in gl.notes(42, 5) if n.author == "gitops-bot"]
    assert [n.body for n in ours] == [f"{tagged}\nnew"]
    assert [n.body for n in gl.notes(42, 5) if n.author == "alice" and tagged in n.body] == [
        f"{tagged}\nold"
    ]
    assert result.url.startswith("https://gl.example/acme/models/-/merge_requests/5#note_")


def test_gitlab_job_token_gets_a_clear_message_and_sends_nothing(gl: ForgeServer) -> None:
    client = gitlab(gl, JOB_TOKEN, kind="job")
    with pytest.raises(ForgePermissionError) as info:
        client.upsert_comment(5, "r", "x")
    assert "CI_JOB_TOKEN cannot write merge request comments" in str(info.value)
    assert "GITOPS_TOKEN" in str(info.value)
    assert requests_to(gl, "POST", r"/notes$") == 0
    assert JOB_TOKEN not in str(info.value)


def test_gitlab_job_token_fails_before_any_request_even_with_our_marker_in_a_note(
    gl: ForgeServer,
) -> None:
    gl.add_note(42, 5, f"{marker('r')}\npasted", "alice")
    client = gitlab(gl, JOB_TOKEN, kind="job")
    with pytest.raises(ForgePermissionError, match="GITOPS_TOKEN"):
        client.upsert_comment(5, "r", "x")
    with pytest.raises(ForgePermissionError, match="GITOPS_TOKEN"):
        client.whoami()
    assert client.request_count == 0
    assert gl.find(forge="gitlab") == []


def test_each_forge_names_its_pull_requests_its_own_way(gl: ForgeServer) -> None:
    assert gitlab(gl).pr_name(7) == "merge request !7"
    assert GitHub(gl.github_url, REPO, "ghp_x" * 4).pr_name(7) == "pull request #7"


def test_gitlab_job_token_can_record_deployments(gl: ForgeServer) -> None:
    client = gitlab(gl, JOB_TOKEN, kind="job")
    sha = gl.branch_sha(42, "main")
    deployment = client.create_deployment("prod", "main", sha, is_tag=False)
    client.set_deployment_status(deployment, "success")
    [sent] = gl.find("PUT", r"/deployments/\d+$")
    assert sent.json == {"status": "success"}


def test_gitlab_merge_request_opened_then_updated(gl: ForgeServer) -> None:
    client = gitlab(gl)
    base = gl.branch_sha(42, "main")
    assert client.create_branch("promote/x", base) is True
    assert client.create_branch("promote/x", base) is False
    client.commit_files("promote/x", {"p.yaml": "v: 1\n"}, "one")
    client.commit_files("promote/x", {"p.yaml": "v: 2\n"}, "two")
    first = client.open_pr("promote/x", "main", "Promote", "d1")
    second = client.open_pr("promote/x", "main", "Promote again", "d2")
    assert first.number == second.number and second.title == "Promote again"
    assert gl.file(42, "promote/x", "p.yaml") == b"v: 2\n"


def test_gitlab_429_retry_after(gl: ForgeServer) -> None:
    gl.inject("GET", r"/notes$", 429, times=1, headers={"Retry-After": "1"}, body="Retry later\n")
    started = time.monotonic()
    assert gitlab(gl).upsert_comment(5, "r", "x").action == "created"
    assert time.monotonic() - started >= 1.0


def test_an_oversized_report_is_cut_into_valid_markdown_with_every_section_closed(
    gh: ForgeServer,
) -> None:
    """A 2,000-metric report is near twice GitHub's limit: the comment is cut at a row, every
    table row keeps its cells, and the folded section and code fences it was cut in are
    closed (the checks of the report's golden tests, on the comment as posted)."""
    from report_samples import many
    from test_report_render import check_markdown

    from gitops.report.render import markdown

    body = markdown(many(2000))
    assert len(body) > 65_536 * 1.5
    result = github(gh).upsert_comment(7, "r", body, full_text_at="https://ci/run/1")
    assert result.truncated
    [comment] = gh.comments(REPO, 7)
    assert len(comment.body) <= 65_536
    assert comment.body.startswith(marker("r") + "\n")
    check_markdown(comment.body.removeprefix(marker("r") + "\n"))
    assert comment.body.count("<details>") == comment.body.count("</details>")
    assert comment.body.count("```") % 2 == 0
    assert "The full report is in https://ci/run/1." in comment.body


# --- approvals and membership (for promotion policies) -----------------------------------------


def test_github_approvers_are_latest_reviews_that_approve(gh: ForgeServer) -> None:
    gh.add_review(REPO, 7, "alice", "APPROVED")
    gh.add_review(REPO, 7, "bob", "APPROVED")
    gh.add_review(REPO, 7, "bob", "CHANGES_REQUESTED")  # bob took it back
    gh.add_review(REPO, 7, "carol", "APPROVED")
    gh.add_review(REPO, 7, "carol", "COMMENTED")  # a later comment keeps carol's approval
    gh.add_review(REPO, 7, "dave", "APPROVED")
    gh.add_review(REPO, 7, "dave", "DISMISSED")
    assert sorted(github(gh).approvers(7)) == ["alice", "carol"]


def test_github_team_membership_needs_a_token_that_may_read_members(gh: ForgeServer) -> None:
    gh.add_team("acme", "ml-leads", ["alice"])
    workflow_token = "ghs_" + "w" * 36  # GITHUB_TOKEN: repository permissions only
    gh.add_user("wf-bot[bot]", workflow_token, kind="github-app",
                permissions={"contents": "read", "pull-requests": "write"})  # fmt: skip
    pat = github(gh, PAT)
    assert pat.is_member("acme/ml-leads", "alice") is True
    assert pat.is_member("acme/ml-leads", "mallory") is False
    assert pat.is_member("acme/no-such-team", "alice") is False
    with pytest.raises(ForgePermissionError, match="members: read"):
        github(gh, workflow_token).is_member("acme/ml-leads", "alice")
    with pytest.raises(GitopsError, match="org/team"):
        pat.is_member("ml-leads", "alice")


def test_gitlab_approvers_and_group_membership(gl: ForgeServer) -> None:
    gl.approve_mr(42, 5, "alice")
    gl.approve_mr(42, 5, "bob")
    gl.add_group("acme/ml-leads", ["alice"])
    client = gitlab(gl)
    assert client.approvers(5) == ["alice", "bob"]
    assert client.is_member("acme/ml-leads", "alice") is True
    assert client.is_member("acme/ml-leads", "bob") is False
    assert client.is_member("acme/ml-leads", "nobody") is False
    assert client.is_member("acme/other", "alice") is False
