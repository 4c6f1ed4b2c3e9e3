"""Tests of the test forge itself, with plain `requests`: if these pass, client tests that use the
forge are testing against GitHub's and GitLab's behaviour, not against a stub's."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from forge_fixtures import forge_fixture, ghes_forge_fixture  # noqa: F401
from forge_server import ACTIONS_BOT_LOGIN, ForgeServer, encode_project

GH = "ghp_writer"
GL = "glpat-writer"
JOB = "glcbt-job"
REPO = "/repos/acme/models"
PROJECT = "/projects/acme%2Fmodels"
SPEC_PATH = Path("/work/shared/data/openapi/github-api-subset.json")


def gh(
    forge: ForgeServer, method: str, path: str, token: str | None = GH, **kw: Any
) -> requests.Response:
    headers = kw.pop("headers", {})
    if token:
        headers.setdefault("Authorization", f"Bearer {token}")
    return requests.request(method, forge.github_url + path, headers=headers, timeout=5, **kw)


def gl(
    forge: ForgeServer,
    method: str,
    path: str,
    token: str | None = GL,
    header: str = "PRIVATE-TOKEN",
    **kw: Any,
) -> requests.Response:
    headers = kw.pop("headers", {})
    if token:
        headers.setdefault(header, token)
    return requests.request(method, forge.gitlab_url + path, headers=headers, timeout=5, **kw)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture
def github(forge: ForgeServer) -> ForgeServer:
    """acme/models with PR #1 (head `feat`, one commit ahead of main) and a writer token."""
    forge.add_user("octocat", GH)
    forge.add_repo("acme/models")
    forge.add_pr("acme/models", 1, head_ref="feat", author="octocat")
    return forge


@pytest.fixture
def gitlab(forge: ForgeServer) -> ForgeServer:
    """Project 7 acme/models with MR !1 (source `feat`), a PAT and a job token for it."""
    forge.add_user("alice", GL, kind="gitlab")
    forge.add_user("alice", JOB, kind="gitlab-job", project="acme/models")
    forge.add_project("acme/models", project_id=7)
    forge.add_mr(7, 1, source_branch="feat", author="alice")
    return forge


# --- GitHub: pagination ----------------------------------------------------------------------


def test_github_250_comments_page_by_100_with_githubs_link_header(github: ForgeServer) -> None:
    ids = [github.add_comment("acme/models", 1, f"c{i}", "someone").id for i in range(250)]
    first = gh(github, "GET", f"{REPO}/issues/1/comments", params={"per_page": 100})
    repo_id = github.repo("acme/models").id
    base = f"{github.github_url}/repositories/{repo_id}/issues/1/comments?per_page=100"
    assert first.headers["Link"] == f'<{base}&page=2>; rel="next", <{base}&page=3>; rel="last"'
    auth = {"Authorization": f"Bearer {GH}"}
    second = requests.get(first.links["next"]["url"], headers=auth, timeout=5)
    assert second.headers["Link"] == (
        f'<{base}&page=1>; rel="prev", <{base}&page=3>; rel="next", '
        f'<{base}&page=3>; rel="last", <{base}&page=1>; rel="first"'
    )
    third = requests.get(second.links["next"]["url"], headers=auth, timeout=5)
    assert third.headers["Link"] == f'<{base}&page=2>; rel="prev", <{base}&page=1>; rel="first"'
    pages = [first.json(), second.json(), third.json()]
    assert [len(p) for p in pages] == [100, 100, 50]
    assert [c["id"] for p in pages for c in p] == ids == sorted(ids)


def test_github_per_page_defaults_to_30_and_caps_at_100(github: ForgeServer) -> None:
    for i in range(120):
        github.add_comment("acme/models", 1, f"c{i}")
    assert len(gh(github, "GET", f"{REPO}/issues/1/comments").json()) == 30
    assert (
        len(gh(github, "GET", f"{REPO}/issues/1/comments", params={"per_page": 500}).json()) == 100
    )


def test_github_one_page_has_no_link_header(github: ForgeServer) -> None:
    github.add_comment("acme/models", 1, "only")
    response = gh(github, "GET", f"{REPO}/issues/1/comments")
    assert response.status_code == 200 and "Link" not in response.headers


def test_github_repos_link_style_keeps_owner_and_name() -> None:
    with ForgeServer(github_link_style="repos") as other:
        other.add_user("octocat", GH)
        other.add_repo("acme/models")
        other.add_pr("acme/models", 1, head_ref="feat")
        for i in range(3):
            other.add_comment("acme/models", 1, f"c{i}")
        link = gh(other, "GET", f"{REPO}/issues/1/comments", params={"per_page": 2}).links["next"][
            "url"
        ]
        assert link == f"{other.github_url}{REPO}/issues/1/comments?per_page=2&page=2"


# --- GitHub: authentication and permissions ---------------------------------------------------


def test_github_bad_token_is_401_bad_credentials_with_rate_headers(github: ForgeServer) -> None:
    response = gh(github, "GET", "/user", token="ghp_wrong")
    assert response.status_code == 401
    assert response.json() == {
        "message": "Bad credentials",
        "documentation_url": "https://docs.github.com/rest",
        "status": "401",
    }
    assert "x-ratelimit-remaining" in response.headers


def test_github_token_and_bearer_schemes_both_identify_the_user(github: ForgeServer) -> None:
    for scheme in ("Bearer", "token"):
        response = gh(
            github, "GET", "/user", token=None, headers={"Authorization": f"{scheme} {GH}"}
        )
        assert response.json()["login"] == "octocat"


def test_github_installation_token_has_no_user_and_comments_as_the_bot(github: ForgeServer) -> None:
    github.add_user(ACTIONS_BOT_LOGIN, "ghs_app", kind="github-app")
    me = gh(github, "GET", "/user", token="ghs_app")
    assert me.status_code == 403
    assert me.json()["message"] == "Resource not accessible by integration"
    created = gh(github, "POST", f"{REPO}/issues/1/comments", token="ghs_app", json={"body": "hi"})
    assert created.status_code == 201
    assert created.json()["user"]["login"] == "github-actions[bot]"
    assert created.json()["user"]["type"] == "Bot"


def test_github_fork_pr_read_only_token_reads_but_cannot_write(github: ForgeServer) -> None:
    github.add_user(ACTIONS_BOT_LOGIN, "ghs_fork", kind="github-app", read_only=True)
    assert gh(github, "GET", f"{REPO}/issues/1/comments", token="ghs_fork").status_code == 200
    response = gh(github, "POST", f"{REPO}/issues/1/comments", token="ghs_fork", json={"body": "x"})
    assert response.status_code == 403
    assert response.json() == {
        "message": "Resource not accessible by integration",
        "documentation_url": "https://docs.github.com/rest/issues/comments#create-an-issue-comment",
        "status": "403",
    }
    assert github.comments("acme/models", 1) == []


def test_github_app_permissions_are_per_scope(github: ForgeServer) -> None:
    github.add_user(
        ACTIONS_BOT_LOGIN,
        "ghs_scoped",
        kind="github-app",
        permissions={"pull-requests": "read", "contents": "write"},
    )
    comment = gh(
        github, "POST", f"{REPO}/issues/1/comments", token="ghs_scoped", json={"body": "x"}
    )
    assert comment.status_code == 403
    sha = github.branch_sha("acme/models", "main")
    ref = gh(
        github,
        "POST",
        f"{REPO}/git/refs",
        token="ghs_scoped",
        json={"ref": "refs/heads/n", "sha": sha},
    )
    assert ref.status_code == 201
    assert gh(github, "GET", f"{REPO}/deployments", token="ghs_scoped").status_code == 403


def test_github_private_repo_is_404_without_a_token(github: ForgeServer) -> None:
    response = gh(github, "GET", f"{REPO}/pulls", token=None)
    assert response.status_code == 404 and response.json()["message"] == "Not Found"


def test_github_actions_pr_creation_setting(forge: ForgeServer) -> None:
    forge.add_user(ACTIONS_BOT_LOGIN, "ghs_app", kind="github-app")
    forge.add_repo("acme/models", actions_can_create_prs=False)
    forge.add_commit("acme/models", "promote", {"a.txt": "1"})
    response = gh(
        forge,
        "POST",
        f"{REPO}/pulls",
        token="ghs_app",
        json={"head": "promote", "base": "main", "title": "t"},
    )
    assert response.status_code == 403
    assert (
        response.json()["message"]
        == "GitHub Actions is not permitted to create or approve pull requests."
    )


# --- GitHub: comments -------------------------------------------------------------------------


def test_github_comment_size_limit_is_65536_characters(github: ForgeServer) -> None:
    ok = gh(github, "POST", f"{REPO}/issues/1/comments", json={"body": "x" * 65536})
    assert ok.status_code == 201
    too_long = gh(github, "POST", f"{REPO}/issues/1/comments", json={"body": "x" * 65537})
    assert too_long.status_code == 422
    assert too_long.json() == {
        "message": "Validation Failed",
        "documentation_url": "https://docs.github.com/rest/issues/comments#create-an-issue-comment",
        "errors": [
            {
                "resource": "IssueComment",
                "code": "unprocessable",
                "field": "data",
                "message": "Body is too long (maximum is 65536 characters)",
            }
        ],
        "status": "422",
    }
    patched = gh(
        github, "PATCH", f"{REPO}/issues/comments/{ok.json()['id']}", json={"body": "y" * 70000}
    )
    assert patched.status_code == 422
    assert (
        patched.json()["errors"][0]["message"] == "Body is too long (maximum is 65536 characters)"
    )


def test_github_comment_body_schema_errors(github: ForgeServer) -> None:
    missing = gh(github, "POST", f"{REPO}/issues/1/comments", json={})
    assert (missing.status_code, missing.json()["message"]) == (
        422,
        'Invalid request.\n\n"body" wasn\'t supplied.',
    )
    wrong = gh(github, "POST", f"{REPO}/issues/1/comments", json={"body": 5})
    assert (
        wrong.json()["message"] == "Invalid request.\n\nFor 'properties/body', 5 is not a string."
    )
    broken = gh(github, "POST", f"{REPO}/issues/1/comments", data="{not json", headers={})
    assert (broken.status_code, broken.json()["message"]) == (400, "Problems parsing JSON")


def test_github_comment_update_and_delete_change_state(github: ForgeServer) -> None:
    comment = github.add_comment("acme/models", 1, "old", "octocat")
    updated = gh(github, "PATCH", f"{REPO}/issues/comments/{comment.id}", json={"body": "new"})
    assert updated.status_code == 200 and updated.json()["body"] == "new"
    assert github.comments("acme/models", 1)[0].body == "new"
    assert gh(github, "DELETE", f"{REPO}/issues/comments/{comment.id}").status_code == 204
    assert gh(github, "GET", f"{REPO}/issues/comments/{comment.id}").status_code == 404
    assert gh(github, "GET", f"{REPO}/issues/99/comments").status_code == 404


# --- GitHub: pull requests --------------------------------------------------------------------


def test_github_create_pull_and_find_it_by_owner_branch(github: ForgeServer) -> None:
    github.add_commit("acme/models", "promote/v1", {"registry.yaml": "v1"})
    created = gh(
        github,
        "POST",
        f"{REPO}/pulls",
        json={"head": "promote/v1", "base": "main", "title": "Promote"},
    )
    assert created.status_code == 201
    assert created.headers["Location"] == created.json()["url"]
    found = gh(
        github, "GET", f"{REPO}/pulls", params={"head": "acme:promote/v1", "state": "open"}
    ).json()
    assert [p["number"] for p in found] == [created.json()["number"]]
    assert found[0]["head"]["sha"] == github.branch_sha("acme/models", "promote/v1")
    # GitHub ignores a `head` filter without the owner: every open PR comes back
    everything = gh(github, "GET", f"{REPO}/pulls", params={"head": "promote/v1"}).json()
    assert sorted(p["number"] for p in everything) == [1, created.json()["number"]]


def test_github_create_pull_errors(github: ForgeServer) -> None:
    def create(body: dict[str, Any]) -> requests.Response:
        return gh(github, "POST", f"{REPO}/pulls", json=body)

    missing = create({"title": "t"})
    assert missing.json()["message"] == 'Invalid request.\n\n"head", "base" weren\'t supplied.'
    duplicate = create({"head": "feat", "base": "main", "title": "again"})
    assert duplicate.status_code == 422
    assert duplicate.json()["errors"] == [
        {
            "resource": "PullRequest",
            "code": "custom",
            "message": "A pull request already exists for acme:feat.",
        }
    ]
    no_branch = create({"head": "nope", "base": "main", "title": "t"})
    assert no_branch.json()["errors"] == [
        {"resource": "PullRequest", "field": "head", "code": "invalid"}
    ]
    github.add_branch("acme/models", "same")
    empty = create({"head": "same", "base": "main", "title": "t"})
    assert empty.json()["errors"][0]["message"] == "No commits between main and same"


def test_github_update_pull_and_reopen_rules(github: ForgeServer) -> None:
    closed = gh(github, "PATCH", f"{REPO}/pulls/1", json={"state": "closed", "title": "T2"})
    assert (closed.json()["state"], closed.json()["title"]) == ("closed", "T2")
    again = gh(github, "POST", f"{REPO}/pulls", json={"head": "feat", "base": "main", "title": "t"})
    assert again.status_code == 201
    reopen = gh(github, "PATCH", f"{REPO}/pulls/1", json={"state": "open"})
    assert reopen.status_code == 422
    assert gh(github, "PATCH", f"{REPO}/pulls/1", json={"state": "merged"}).status_code == 422


def test_github_pulls_for_a_commit(github: ForgeServer) -> None:
    head = github.branch_sha("acme/models", "feat")
    assert [p["number"] for p in gh(github, "GET", f"{REPO}/commits/{head}/pulls").json()] == [1]
    main = github.branch_sha("acme/models", "main")
    assert gh(github, "GET", f"{REPO}/commits/{main}/pulls").json() == []
    merge = github.merge_pr("acme/models", 1)
    assert [p["number"] for p in gh(github, "GET", f"{REPO}/commits/{merge}/pulls").json()] == [1]
    unknown = gh(github, "GET", f"{REPO}/commits/{'0' * 40}/pulls")
    assert (unknown.status_code, unknown.json()["message"]) == (
        422,
        f"No commit found for SHA: {'0' * 40}",
    )


# --- GitHub: refs and contents ----------------------------------------------------------------


def test_github_refs_create_get_and_fast_forward_rules(github: ForgeServer) -> None:
    main = github.branch_sha("acme/models", "main")
    feat = github.branch_sha("acme/models", "feat")
    created = gh(
        github, "POST", f"{REPO}/git/refs", json={"ref": "refs/heads/promote", "sha": main}
    )
    assert created.status_code == 201 and created.json()["object"]["sha"] == main
    exists = gh(github, "POST", f"{REPO}/git/refs", json={"ref": "refs/heads/promote", "sha": main})
    assert (exists.status_code, exists.json()["message"]) == (422, "Reference already exists")
    assert gh(github, "GET", f"{REPO}/git/ref/heads/promote").json()["ref"] == "refs/heads/promote"
    assert gh(github, "GET", f"{REPO}/git/ref/heads/absent").status_code == 404
    forward = gh(github, "PATCH", f"{REPO}/git/refs/heads/promote", json={"sha": feat})
    assert forward.status_code == 200
    back = gh(github, "PATCH", f"{REPO}/git/refs/heads/promote", json={"sha": main})
    assert (back.status_code, back.json()["message"]) == (422, "Update is not a fast forward")
    forced = gh(
        github, "PATCH", f"{REPO}/git/refs/heads/promote", json={"sha": main, "force": True}
    )
    assert forced.status_code == 200 and github.branch_sha("acme/models", "promote") == main
    ghost = gh(
        github, "PATCH", f"{REPO}/git/refs/heads/promote", json={"sha": "f" * 40, "force": True}
    )
    assert ghost.json()["message"] == "Object does not exist"


def test_github_contents_put_commits_and_guards_with_blob_sha(github: ForgeServer) -> None:
    before = github.branch_sha("acme/models", "feat")
    path = f"{REPO}/contents/models/registry.yaml"
    created = gh(
        github, "PUT", path, json={"message": "add", "content": b64("v1\n"), "branch": "feat"}
    )
    assert created.status_code == 201
    after = github.branch_sha("acme/models", "feat")
    assert created.json()["commit"]["sha"] == after and github.commit(
        "acme/models", after
    ).parents == [before]
    blob = hashlib.sha1(b"blob 3\0v1\n").hexdigest()  # what `git hash-object` says
    assert created.json()["content"]["sha"] == blob
    no_sha = gh(
        github, "PUT", path, json={"message": "m", "content": b64("v2\n"), "branch": "feat"}
    )
    assert (no_sha.status_code, no_sha.json()["message"]) == (
        422,
        'Invalid request.\n\n"sha" wasn\'t supplied.',
    )
    stale = gh(
        github,
        "PUT",
        path,
        json={"message": "m", "content": b64("v2\n"), "branch": "feat", "sha": "a" * 40},
    )
    assert (stale.status_code, stale.json()["message"]) == (
        409,
        f"models/registry.yaml does not match {'a' * 40}",
    )
    ok = gh(
        github,
        "PUT",
        path,
        json={"message": "m", "content": b64("v2\n"), "branch": "feat", "sha": blob},
    )
    assert (
        ok.status_code == 200
        and github.file("acme/models", "feat", "models/registry.yaml") == b"v2\n"
    )
    read = gh(github, "GET", path, params={"ref": "feat"}).json()
    assert base64.b64decode(read["content"]) == b"v2\n" and read["encoding"] == "base64"
    assert gh(github, "GET", path).status_code == 404  # not on main
    lost = gh(github, "PUT", path, json={"message": "m", "content": b64("x"), "branch": "nope"})
    assert lost.status_code == 404


# --- GitHub: deployments and statuses ---------------------------------------------------------


def test_github_deployment_defaults_and_conflicts(github: ForgeServer) -> None:
    github.add_tag("acme/models", "model@v1", "main")
    github.add_commit("acme/models", "main", {"later.txt": "1"})  # the tag is now behind main
    tag = gh(github, "POST", f"{REPO}/deployments", json={"ref": "model@v1"})
    assert (tag.status_code, tag.json()["message"]) == (409, "Conflict merging main into model@v1.")
    behind = gh(
        github, "POST", f"{REPO}/deployments", json={"ref": "feat", "required_contexts": []}
    )
    assert behind.status_code == 202
    assert behind.json() == {"message": "Auto-merged main into feat on deployment."}
    github.add_status("acme/models", "main", "failure", "ci/test")
    failing = gh(github, "POST", f"{REPO}/deployments", json={"ref": "main"})
    assert failing.status_code == 409
    assert failing.json()["message"] == "Conflict: Commit status checks failed for main."
    assert failing.json()["errors"][0]["contexts"] == [{"context": "ci/test", "state": "failure"}]
    made = gh(
        github,
        "POST",
        f"{REPO}/deployments",
        json={
            "ref": "model@v1",
            "auto_merge": False,
            "required_contexts": [],
            "payload": {"model": "m"},
        },
    )
    assert made.status_code == 201
    body = made.json()
    assert (body["environment"], body["task"], body["production_environment"]) == (
        "production",
        "deploy",
        True,
    )
    assert body["sha"] == github.commit("acme/models", "model@v1").sha and body["payload"] == {
        "model": "m"
    }
    missing = gh(github, "POST", f"{REPO}/deployments", json={"environment": "prod"})
    assert missing.json()["message"] == 'Invalid request.\n\n"ref" wasn\'t supplied.'


def test_github_deployment_statuses_validate_and_inactivate(github: ForgeServer) -> None:
    def deploy() -> int:
        body = {
            "ref": "main",
            "environment": "staging",
            "auto_merge": False,
            "required_contexts": [],
        }
        return gh(github, "POST", f"{REPO}/deployments", json=body).json()["id"]

    first, second = deploy(), deploy()
    bad = gh(github, "POST", f"{REPO}/deployments/{first}/statuses", json={"state": "done"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "state"
    long = gh(
        github,
        "POST",
        f"{REPO}/deployments/{first}/statuses",
        json={"state": "success", "description": "d" * 141},
    )
    assert long.status_code == 422
    assert (
        gh(
            github, "POST", f"{REPO}/deployments/{first}/statuses", json={"state": "success"}
        ).status_code
        == 201
    )
    gh(
        github,
        "POST",
        f"{REPO}/deployments/{second}/statuses",
        json={"state": "success", "log_url": "http://l"},
    )
    states = [s["state"] for s in gh(github, "GET", f"{REPO}/deployments/{first}/statuses").json()]
    assert states == ["inactive", "success"]  # newest first; auto_inactive retired the old one
    listed = gh(github, "GET", f"{REPO}/deployments", params={"environment": "staging"}).json()
    assert [d["id"] for d in listed] == [second, first]


def test_github_commit_statuses(github: ForgeServer) -> None:
    sha = github.branch_sha("acme/models", "main")
    made = gh(github, "POST", f"{REPO}/statuses/{sha}", json={"state": "pending"})
    assert made.status_code == 201 and made.json()["context"] == "default"
    bad = gh(github, "POST", f"{REPO}/statuses/{sha}", json={"state": "running"})
    assert (
        bad.status_code == 422
        and bad.json()["errors"][0]["message"] == "state is not included in the list"
    )
    ghost = gh(github, "POST", f"{REPO}/statuses/{'1' * 40}", json={"state": "success"})
    assert ghost.json()["message"] == f"No commit found for SHA: {'1' * 40}"
    assert gh(github, "GET", f"{REPO}/commits/main/status").json()["state"] == "pending"
    gh(github, "POST", f"{REPO}/statuses/{sha}", json={"state": "success"})
    assert gh(github, "GET", f"{REPO}/commits/main/status").json()["state"] == "success"


# --- GitHub: rate limits ----------------------------------------------------------------------


def test_github_rate_limit_headers_count_down_then_403(github: ForgeServer) -> None:
    github.set_rate_limit("github", 3)
    seen = [gh(github, "GET", "/user").headers for _ in range(3)]
    assert [h["x-ratelimit-remaining"] for h in seen] == ["2", "1", "0"]
    assert [h["x-ratelimit-used"] for h in seen] == ["1", "2", "3"]
    assert {h["x-ratelimit-resource"] for h in seen} == {"core"}
    assert gh(github, "GET", "/rate_limit").json()["resources"]["core"]["remaining"] == 0  # free
    blocked = gh(github, "GET", "/user")
    user_id = github.github.users["octocat"].id
    assert blocked.status_code == 403
    assert blocked.json()["message"] == f"API rate limit exceeded for user ID {user_id}."
    assert blocked.headers["x-ratelimit-remaining"] == "0"
    assert int(blocked.headers["x-ratelimit-reset"]) >= time.time()


def test_github_rate_limit_can_answer_429_and_resets(github: ForgeServer) -> None:
    github.set_rate_limit("github", 1, reset_in=0.2, status=429)
    assert gh(github, "GET", "/user").status_code == 200
    blocked = gh(github, "GET", "/user")
    assert blocked.status_code == 429
    time.sleep(max(0.0, int(blocked.headers["x-ratelimit-reset"]) - time.time()) + 0.05)
    assert gh(github, "GET", "/user").status_code == 200


# --- GitLab: pagination, addressing, auth ------------------------------------------------------


def test_gitlab_notes_paginate_newest_first_with_headers(gitlab: ForgeServer) -> None:
    ids = [gitlab.add_note(7, 1, f"n{i}", "bob").id for i in range(250)]
    seen: list[int] = []
    page: str | None = "1"
    headers = []
    while page:
        response = gl(
            gitlab,
            "GET",
            f"{PROJECT}/merge_requests/1/notes",
            params={"per_page": 100, "page": page},
        )
        headers.append(response.headers)
        seen += [n["id"] for n in response.json()]
        page = response.headers["X-Next-Page"]
    assert seen == sorted(ids, reverse=True)  # sort=desc is GitLab's default
    assert [(h["X-Page"], h["X-Next-Page"], h["X-Prev-Page"]) for h in headers] == [
        ("1", "2", ""),
        ("2", "3", "1"),
        ("3", "", "2"),
    ]
    assert {(h["X-Total"], h["X-Total-Pages"], h["X-Per-Page"]) for h in headers} == {
        ("250", "3", "100")
    }
    url = f"{gitlab.gitlab_url}{PROJECT}/merge_requests/1/notes"
    assert headers[1]["Link"] == (
        f'<{url}?page=1&per_page=100>; rel="prev", <{url}?page=3&per_page=100>; rel="next", '
        f'<{url}?page=1&per_page=100>; rel="first", <{url}?page=3&per_page=100>; rel="last"'
    )


def test_gitlab_notes_default_page_size_and_ascending_sort(gitlab: ForgeServer) -> None:
    ids = [gitlab.add_note(7, 1, f"n{i}").id for i in range(25)]
    default = gl(gitlab, "GET", f"{PROJECT}/merge_requests/1/notes")
    assert len(default.json()) == 20 and default.headers["X-Per-Page"] == "20"
    asc = gl(
        gitlab, "GET", f"{PROJECT}/merge_requests/1/notes", params={"sort": "asc", "per_page": 100}
    )
    assert [n["id"] for n in asc.json()] == ids
    bad = gl(gitlab, "GET", f"{PROJECT}/merge_requests/1/notes", params={"sort": "up"})
    assert (bad.status_code, bad.json()) == (400, {"error": "sort does not have a valid value"})


def test_gitlab_project_by_id_or_encoded_path(gitlab: ForgeServer) -> None:
    assert gl(gitlab, "GET", "/projects/7").json()["path_with_namespace"] == "acme/models"
    assert gl(gitlab, "GET", f"/projects/{encode_project('acme/models')}").json()["id"] == 7
    unencoded = gl(gitlab, "GET", "/projects/acme/models/merge_requests")
    assert (unencoded.status_code, unencoded.json()) == (404, {"error": "404 Not Found"})
    unknown = gl(gitlab, "GET", "/projects/999")
    assert (unknown.status_code, unknown.json()) == (404, {"message": "404 Project Not Found"})


def test_gitlab_tokens_headers_and_user(gitlab: ForgeServer) -> None:
    assert gl(gitlab, "GET", "/user").json()["username"] == "alice"
    bearer = gl(gitlab, "GET", "/user", token=None, headers={"Authorization": f"Bearer {GL}"})
    assert bearer.json()["username"] == "alice"
    wrong = gl(gitlab, "GET", "/user", token="glpat-wrong")
    assert (wrong.status_code, wrong.json()) == (401, {"message": "401 Unauthorized"})
    assert "RateLimit-Remaining" in wrong.headers
    gitlab.add_user("reader", "glpat-ro", kind="gitlab", scopes=("read_api",))
    read_only = gl(
        gitlab, "POST", f"{PROJECT}/merge_requests/1/notes", token="glpat-ro", json={"body": "x"}
    )
    assert read_only.status_code == 403 and read_only.json()["error"] == "insufficient_scope"


def test_gitlab_job_token_is_unseen_outside_allowlisted_routes(gitlab: ForgeServer) -> None:
    def job(method: str, path: str, **kw: Any) -> requests.Response:
        return gl(gitlab, method, path, token=JOB, header="JOB-TOKEN", **kw)

    sha = gitlab.branch_sha(7, "main")
    # allowlisted: reads of MRs and notes, deployments
    assert job("GET", f"{PROJECT}/merge_requests/1/notes").status_code == 200
    assert (
        job("GET", f"{PROJECT}/merge_requests", params={"source_branch": "feat"}).json()[0]["iid"]
        == 1
    )
    dep = job(
        "POST",
        f"{PROJECT}/deployments",
        json={"environment": "prod", "sha": sha, "ref": "main", "tag": False, "status": "running"},
    )
    assert dep.status_code == 201 and dep.json()["user"]["username"] == "alice"
    assert (
        job(
            "PUT", f"{PROJECT}/deployments/{dep.json()['id']}", json={"status": "success"}
        ).status_code
        == 200
    )
    # not allowlisted: the request is anonymous, so GitLab answers as it would to no token at all
    unauthorized = [
        job("POST", f"{PROJECT}/merge_requests/1/notes", json={"body": "x"}),
        job(
            "POST",
            f"{PROJECT}/merge_requests",
            json={"source_branch": "feat", "target_branch": "main", "title": "t"},
        ),
        job("POST", f"{PROJECT}/statuses/{sha}", json={"state": "success"}),
        job("GET", "/user"),
    ]
    assert [(r.status_code, r.json()) for r in unauthorized] == [
        (401, {"message": "401 Unauthorized"})
    ] * 4
    hidden = [
        job("POST", f"{PROJECT}/repository/branches", json={"branch": "x", "ref": "main"}),
        job(
            "POST",
            f"{PROJECT}/repository/commits",
            json={
                "branch": "main",
                "commit_message": "m",
                "actions": [{"action": "create", "file_path": "a"}],
            },
        ),
    ]
    assert [(r.status_code, r.json()) for r in hidden] == [
        (404, {"message": "404 Project Not Found"})
    ] * 2
    assert gitlab.notes(7, 1) == [] and "x" not in gitlab.project(7).git.branches


def test_gitlab_job_token_only_reaches_its_own_project(gitlab: ForgeServer) -> None:
    gitlab.add_project("acme/other", project_id=8)
    other = gl(gitlab, "GET", "/projects/8/deployments", token=JOB, header="JOB-TOKEN")
    assert (other.status_code, other.json()) == (404, {"message": "404 Project Not Found"})
    wrong = gl(gitlab, "GET", "/projects/7/deployments", token="glcbt-wrong", header="JOB-TOKEN")
    assert wrong.status_code == 401


# --- GitLab: notes, MRs, repository -----------------------------------------------------------


def test_gitlab_note_size_limit_and_body_rules(gitlab: ForgeServer) -> None:
    notes = f"{PROJECT}/merge_requests/1/notes"
    assert gl(gitlab, "POST", notes, json={"body": "x" * 1_000_000}).status_code == 201
    too_long = gl(gitlab, "POST", notes, json={"body": "x" * 1_000_001})
    assert too_long.status_code == 400
    assert too_long.json() == {
        "message": '400 Bad request - Note {:note=>["is too long (maximum is 1000000 characters)"]}'
    }
    assert gl(gitlab, "POST", notes, json={}).json() == {"error": "body is missing"}
    assert gl(gitlab, "POST", notes, data={"body": "form encoded"}).status_code == 201


def test_gitlab_note_update_only_by_author(gitlab: ForgeServer) -> None:
    mine = gitlab.add_note(7, 1, "mine", "alice")
    theirs = gitlab.add_note(7, 1, "theirs", "bob")
    ok = gl(gitlab, "PUT", f"{PROJECT}/merge_requests/1/notes/{mine.id}", json={"body": "edited"})
    assert ok.status_code == 200 and gitlab.notes(7, 1)[0].body == "edited"
    denied = gl(gitlab, "PUT", f"{PROJECT}/merge_requests/1/notes/{theirs.id}", json={"body": "x"})
    assert (denied.status_code, denied.json()) == (403, {"message": "403 Forbidden"})
    long = gl(
        gitlab, "PUT", f"{PROJECT}/merge_requests/1/notes/{mine.id}", json={"body": "x" * 1_000_001}
    )
    assert long.status_code == 400
    assert (
        gl(gitlab, "PUT", f"{PROJECT}/merge_requests/1/notes/999", json={"body": "x"}).status_code
        == 404
    )


def test_gitlab_merge_requests_create_find_update(gitlab: ForgeServer) -> None:
    gitlab.add_commit(7, "promote", {"registry.yaml": "v1"})
    body = {"source_branch": "promote", "target_branch": "main", "title": "Promote"}
    created = gl(gitlab, "POST", f"{PROJECT}/merge_requests", json=body)
    assert created.status_code == 201 and created.json()["iid"] == 2
    again = gl(gitlab, "POST", f"{PROJECT}/merge_requests", json=body)
    assert again.status_code == 409
    assert again.json() == {
        "message": ["Another open merge request already exists for this source branch: !2"]
    }
    found = gl(
        gitlab,
        "GET",
        f"{PROJECT}/merge_requests",
        params={"source_branch": "promote", "state": "opened"},
    )
    assert [m["iid"] for m in found.json()] == [2]
    assert found.json()[0]["sha"] == gitlab.branch_sha(7, "promote")
    missing = gl(gitlab, "POST", f"{PROJECT}/merge_requests", json={})
    assert missing.json() == {
        "error": "title is missing, source_branch is missing, target_branch is missing"
    }
    no_branch = gl(
        gitlab, "POST", f"{PROJECT}/merge_requests", json={**body, "source_branch": "nope"}
    )
    assert (no_branch.status_code, no_branch.json()) == (
        400,
        {"message": {"source_branch": ["does not exist"]}},
    )
    same = gl(gitlab, "POST", f"{PROJECT}/merge_requests", json={**body, "source_branch": "main"})
    assert same.status_code == 422
    closed = gl(
        gitlab, "PUT", f"{PROJECT}/merge_requests/2", json={"state_event": "close", "title": "T"}
    )
    assert (closed.json()["state"], closed.json()["title"]) == ("closed", "T")
    assert gl(gitlab, "GET", f"{PROJECT}/merge_requests/99").json() == {
        "message": "404 Merge Request Not Found"
    }


def test_gitlab_merge_requests_for_a_commit(gitlab: ForgeServer) -> None:
    head = gitlab.branch_sha(7, "feat")
    found = gl(gitlab, "GET", f"{PROJECT}/repository/commits/{head}/merge_requests").json()
    assert [m["iid"] for m in found] == [1]
    assert (
        gl(gitlab, "GET", f"{PROJECT}/repository/commits/{'0' * 40}/merge_requests").status_code
        == 404
    )


def test_gitlab_branches(gitlab: ForgeServer) -> None:
    made = gl(
        gitlab, "POST", f"{PROJECT}/repository/branches", json={"branch": "promote", "ref": "main"}
    )
    assert made.status_code == 201 and made.json()["commit"]["id"] == gitlab.branch_sha(7, "main")
    again = gl(
        gitlab, "POST", f"{PROJECT}/repository/branches", json={"branch": "promote", "ref": "main"}
    )
    assert (again.status_code, again.json()) == (400, {"message": "Branch already exists"})
    bad_ref = gl(
        gitlab, "POST", f"{PROJECT}/repository/branches", json={"branch": "x", "ref": "nope"}
    )
    assert bad_ref.json() == {
        "message": "Failed to create branch 'x': invalid reference name 'nope'"
    }
    assert gl(gitlab, "GET", f"{PROJECT}/repository/branches/promote").status_code == 200


def test_gitlab_commit_actions(gitlab: ForgeServer) -> None:
    def commit(actions: list[dict[str, Any]], **extra: Any) -> requests.Response:
        body = {
            "branch": "promote",
            "start_branch": "main",
            "commit_message": "m",
            "actions": actions,
            **extra,
        }
        return gl(gitlab, "POST", f"{PROJECT}/repository/commits", json=body)

    made = commit(
        [
            {"action": "create", "file_path": "a.yaml", "content": "a: 1\n"},
            {"action": "create", "file_path": "b.bin", "content": b64("bin"), "encoding": "base64"},
        ]
    )
    assert made.status_code == 201
    assert made.json()["parent_ids"] == [gitlab.branch_sha(7, "main")]
    assert gitlab.file(7, "promote", "b.bin") == b"bin"
    exists = gl(
        gitlab,
        "POST",
        f"{PROJECT}/repository/commits",
        json={
            "branch": "promote",
            "commit_message": "m",
            "actions": [{"action": "create", "file_path": "a.yaml"}],
        },
    )
    assert (exists.status_code, exists.json()) == (
        400,
        {"message": "A file with this name already exists"},
    )
    absent = gl(
        gitlab,
        "POST",
        f"{PROJECT}/repository/commits",
        json={
            "branch": "promote",
            "commit_message": "m",
            "actions": [{"action": "update", "file_path": "z"}],
        },
    )
    assert absent.json() == {"message": "A file with this name doesn't exist"}
    switch = commit([{"action": "update", "file_path": "a.yaml", "content": "a: 2\n"}])
    assert switch.json()["message"].startswith("A branch called 'promote' already exists")
    nowhere = gl(
        gitlab,
        "POST",
        f"{PROJECT}/repository/commits",
        json={
            "branch": "new",
            "commit_message": "m",
            "actions": [{"action": "create", "file_path": "q"}],
        },
    )
    assert nowhere.json() == {
        "message": "You can only create or edit files when you are on a branch"
    }
    invalid = commit([{"action": "rename", "file_path": "a"}])
    assert invalid.json() == {"error": "actions[0][action] does not have a valid value"}
    assert gitlab.file(7, "promote", "a.yaml") == b"a: 1\n"


def test_gitlab_deployments(gitlab: ForgeServer) -> None:
    sha = gitlab.branch_sha(7, "main")
    missing = gl(gitlab, "POST", f"{PROJECT}/deployments", json={"environment": "prod"})
    assert missing.json() == {
        "error": "sha is missing, ref is missing, tag is missing, status is missing"
    }
    base = {"environment": "prod", "sha": sha, "ref": "main", "tag": False}
    bad = gl(gitlab, "POST", f"{PROJECT}/deployments", json={**base, "status": "created"})
    assert bad.json() == {"error": "status does not have a valid value"}
    no_ref = gl(
        gitlab, "POST", f"{PROJECT}/deployments", json={**base, "ref": "v9", "status": "running"}
    )
    assert no_ref.json() == {"message": {"ref": ["The branch or tag does not exist"]}}
    made = gl(gitlab, "POST", f"{PROJECT}/deployments", json={**base, "status": "running"})
    assert made.status_code == 201 and made.json()["environment"]["name"] == "prod"
    path = f"{PROJECT}/deployments/{made.json()['id']}"
    assert gl(gitlab, "PUT", path, json={"status": "success"}).json()["status"] == "success"
    again = gl(gitlab, "PUT", path, json={"status": "success"})
    assert (again.status_code, again.json()) == (
        400,
        {"message": {"status": ['cannot transition via "succeed"']}},
    )


def test_gitlab_commit_statuses(gitlab: ForgeServer) -> None:
    sha = gitlab.branch_sha(7, "main")
    status = {"state": "pending", "name": "gitops", "ref": "main"}
    made = gl(gitlab, "POST", f"{PROJECT}/statuses/{sha}", json=status)
    assert made.status_code == 201 and (made.json()["ref"], made.json()["status"]) == (
        "main",
        "pending",
    )
    twice = gl(gitlab, "POST", f"{PROJECT}/statuses/{sha}", json=status)
    assert twice.json() == {
        "message": "Cannot transition status via :enqueue from :pending "
        '(Reason(s): Status cannot transition via "enqueue")'
    }
    done = gl(gitlab, "POST", f"{PROJECT}/statuses/{sha}", json={**status, "state": "success"})
    assert done.json()["id"] == made.json()["id"]  # the pending status moved on
    # without `ref`, GitLab picks the first branch (by name) containing the commit
    guessed = gl(gitlab, "POST", f"{PROJECT}/statuses/{sha}", json={"state": "running"})
    assert guessed.json()["ref"] == "feat"
    bad = gl(gitlab, "POST", f"{PROJECT}/statuses/{sha}", json={"state": "failure"})
    assert bad.json() == {"error": "state does not have a valid value"}
    assert (
        gl(gitlab, "POST", f"{PROJECT}/statuses/{'0' * 40}", json={"state": "success"}).status_code
        == 404
    )


def test_gitlab_rate_limit_is_429_retry_later(gitlab: ForgeServer) -> None:
    gitlab.set_rate_limit("gitlab", 2, reset_in=30)
    first = gl(gitlab, "GET", "/user")
    assert (first.headers["RateLimit-Limit"], first.headers["RateLimit-Remaining"]) == ("2", "1")
    gl(gitlab, "GET", "/user")
    blocked = gl(gitlab, "GET", "/user")
    assert (blocked.status_code, blocked.text) == (429, "Retry later\n")
    assert 1 <= int(blocked.headers["Retry-After"]) <= 31
    assert blocked.headers["RateLimit-Remaining"] == "0"


# --- faults -----------------------------------------------------------------------------------


def test_fault_counts_down_then_the_real_answer(github: ForgeServer) -> None:
    fault = github.inject("GET", r"/issues/1/comments$", 500, times=3)
    statuses = [gh(github, "GET", f"{REPO}/issues/1/comments").status_code for _ in range(4)]
    assert statuses == [500, 500, 500, 200]
    assert fault.remaining == 0 and fault.hits == 3
    assert [r.status for r in github.find("GET", r"/comments$")] == statuses
    assert all(r.fault is fault for r in github.find("GET", r"/comments$")[:3])


def test_fault_429_with_retry_after_and_custom_body(gitlab: ForgeServer) -> None:
    gitlab.inject("POST", r"/notes$", 429, headers={"Retry-After": "1"})
    blocked = gl(gitlab, "POST", f"{PROJECT}/merge_requests/1/notes", json={"body": "x"})
    assert (blocked.status_code, blocked.headers["Retry-After"], blocked.text) == (
        429,
        "1",
        "Retry later\n",
    )
    assert gitlab.notes(7, 1) == []  # a fault answers instead of the forge: nothing happened
    assert (
        gl(gitlab, "POST", f"{PROJECT}/merge_requests/1/notes", json={"body": "x"}).status_code
        == 201
    )
    gitlab.inject("*", r"/user$", 502, body={"message": "busy"})
    assert gl(gitlab, "GET", "/user").json() == {"message": "busy"}


def test_fault_github_secondary_rate_limit(github: ForgeServer) -> None:
    github.inject_secondary_rate_limit("POST", r"/comments$", retry_after=2)
    response = gh(github, "POST", f"{REPO}/issues/1/comments", json={"body": "x"})
    assert response.status_code == 403
    assert response.json()["message"].startswith("You have exceeded a secondary rate limit.")
    assert response.headers["retry-after"] == "2"
    assert int(response.headers["x-ratelimit-remaining"]) > 0  # not the primary limit


def test_fault_delay_is_slow_but_answers_and_trips_client_timeouts(github: ForgeServer) -> None:
    github.inject("GET", r"^/user$", delay=0.3)
    start = time.monotonic()
    slow = gh(github, "GET", "/user")
    assert slow.status_code == 200 and time.monotonic() - start >= 0.3
    github.inject("GET", r"^/user$", delay=1.0)
    start = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(
            github.github_url + "/user", headers={"Authorization": f"Bearer {GH}"}, timeout=0.2
        )
    assert time.monotonic() - start < 0.9
    assert gh(github, "GET", "/user").status_code == 200


def test_fault_connection_reset(github: ForgeServer) -> None:
    github.inject("GET", r"^/user$", reset=True)
    with pytest.raises(requests.exceptions.ConnectionError):
        gh(github, "GET", "/user")
    assert github.find("GET", r"^/user$")[0].status is None
    assert gh(github, "GET", "/user").status_code == 200


def test_faults_match_in_order_and_can_last_forever(github: ForgeServer) -> None:
    github.inject("*", r"/pulls", 503, times=1)
    forever = github.inject(None, r"/pulls", 502, times=None)
    assert [gh(github, "GET", f"{REPO}/pulls").status_code for _ in range(3)] == [503, 502, 502]
    assert forever.remaining is None and forever.hits == 2
    github.clear_faults()
    assert gh(github, "GET", f"{REPO}/pulls").status_code == 200


# --- recording --------------------------------------------------------------------------------


def test_every_request_is_recorded(github: ForgeServer) -> None:
    gh(github, "POST", f"{REPO}/issues/1/comments", params={"x": "1"}, json={"body": "hello"})
    gh(github, "GET", f"{REPO}/issues/1/comments", params={"per_page": "100"})
    post, get = github.requests
    assert (post.method, post.path, post.query, post.json) == (
        "POST",
        f"{REPO}/issues/1/comments",
        {"x": "1"},
        {"body": "hello"},
    )
    assert post.headers["authorization"] == f"Bearer {GH}" and post.token == GH
    assert (post.status, post.forge, get.query) == (201, "github", {"per_page": "100"})
    assert post.time <= get.time
    assert github.count("GET", r"/comments$") == 1 and github.count(path=r"/comments") == 2
    assert github.find(forge="gitlab") == []
    github.clear_requests()
    assert github.requests == []


def test_github_enterprise_prefix(ghes_forge: ForgeServer) -> None:
    ghes_forge.add_user("octocat", GH)
    assert ghes_forge.github_url.endswith("/api/v3")
    assert gh(ghes_forge, "GET", "/user").json()["login"] == "octocat"
    assert requests.get(ghes_forge.base_url + "/user", timeout=5).status_code == 404


# --- cross-checks against GitHub's OpenAPI description ---------------------------------------


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    if not SPEC_PATH.exists():
        pytest.skip(f"{SPEC_PATH} is not on this machine")
    return json.loads(SPEC_PATH.read_text())


def resolve(spec: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def shape_problems(spec: dict[str, Any], schema: Any, value: Any, where: str = "$") -> list[str]:
    """Required fields, types, nullability and enums, all the way down."""
    schema = resolve(spec, schema)
    if value is None:
        ok = (
            schema.get("nullable")
            or not schema
            or any(
                resolve(spec, s).get("nullable")
                for s in schema.get("anyOf", []) + schema.get("oneOf", [])
            )
        )
        return [] if ok else [f"{where}: null"]
    options = [resolve(spec, s) for s in schema.get("anyOf", []) + schema.get("oneOf", [])]
    if options:
        results = [shape_problems(spec, s, value, where) for s in options]
        return [] if any(not r for r in results) else results[0]
    out = [p for s in schema.get("allOf", []) for p in shape_problems(spec, s, value, where)]
    kinds = {
        "string": str,
        "integer": int,
        "number": (int, float),
        "boolean": bool,
        "array": list,
        "object": dict,
    }
    kind = schema.get("type")
    if kind in kinds and (
        not isinstance(value, kinds[kind]) or (kind == "integer" and isinstance(value, bool))
    ):
        return out + [f"{where}: {type(value).__name__} is not {kind}"]
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{where}: {value!r} not in {schema['enum']}")
    if isinstance(value, dict):
        out += [
            f"{where}.{name}: missing" for name in schema.get("required", []) if name not in value
        ]
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                out += shape_problems(spec, sub, value[name], f"{where}.{name}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            out += shape_problems(spec, schema["items"], item, f"{where}[{i}]")
    return out


def operation(spec: dict[str, Any], method: str, template: str) -> dict[str, Any]:
    return spec["paths"][template][method.lower()]


def response_schema(spec: dict[str, Any], method: str, template: str, status: int) -> Any:
    response = resolve(spec, operation(spec, method, template)["responses"][str(status)])
    return response["content"]["application/json"]["schema"]


def body_schema(spec: dict[str, Any], method: str, template: str) -> dict[str, Any]:
    op = operation(spec, method, template)
    return resolve(spec, op["requestBody"]["content"]["application/json"]["schema"])


@pytest.fixture
def rich(github: ForgeServer) -> dict[str, Any]:
    """A repo with something of everything, and a valid body for each write we serve."""
    comment = github.add_comment("acme/models", 1, "hello", "octocat")
    github.add_commit("acme/models", "promote", {"r.yaml": "1"})
    sha = github.branch_sha("acme/models", "main")
    deployment = gh(
        github, "POST", f"{REPO}/deployments", json={"ref": "main", "required_contexts": []}
    ).json()
    github.add_status("acme/models", "main", "success", "ci")
    writes = {
        ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments"): (
            f"{REPO}/issues/1/comments",
            {"body": "b"},
        ),
        ("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}"): (
            f"{REPO}/issues/comments/{comment.id}",
            {"body": "b"},
        ),
        ("POST", "/repos/{owner}/{repo}/pulls"): (
            f"{REPO}/pulls",
            {"head": "promote", "base": "main", "title": "t"},
        ),
        ("PATCH", "/repos/{owner}/{repo}/pulls/{pull_number}"): (
            f"{REPO}/pulls/1",
            {"state": "open"},
        ),
        ("POST", "/repos/{owner}/{repo}/git/refs"): (
            f"{REPO}/git/refs",
            {"ref": "refs/heads/new", "sha": sha},
        ),
        ("PATCH", "/repos/{owner}/{repo}/git/refs/{ref}"): (
            f"{REPO}/git/refs/heads/main",
            {"sha": sha},
        ),
        ("PUT", "/repos/{owner}/{repo}/contents/{path}"): (
            f"{REPO}/contents/new.txt",
            {"message": "m", "content": b64("x")},
        ),
        ("POST", "/repos/{owner}/{repo}/deployments"): (
            f"{REPO}/deployments",
            {"ref": "main", "auto_merge": False, "required_contexts": []},
        ),
        ("POST", "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses"): (
            f"{REPO}/deployments/{deployment['id']}/statuses",
            {"state": "success"},
        ),
        ("POST", "/repos/{owner}/{repo}/statuses/{sha}"): (
            f"{REPO}/statuses/{sha}",
            {"state": "success"},
        ),
    }
    dep, feat = f"{REPO}/deployments/{deployment['id']}", github.branch_sha("acme/models", "feat")
    one = f"{REPO}/issues/comments/{comment.id}"
    reads = {
        "/repos/{owner}/{repo}/issues/{issue_number}/comments": f"{REPO}/issues/1/comments",
        "/repos/{owner}/{repo}/issues/comments/{comment_id}": one,
        "/repos/{owner}/{repo}/pulls": f"{REPO}/pulls",
        "/repos/{owner}/{repo}/pulls/{pull_number}": f"{REPO}/pulls/1",
        "/repos/{owner}/{repo}/git/ref/{ref}": f"{REPO}/git/ref/heads/main",
        "/repos/{owner}/{repo}/deployments": f"{REPO}/deployments",
        "/repos/{owner}/{repo}/deployments/{deployment_id}": dep,
        "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses": f"{dep}/statuses",
        "/repos/{owner}/{repo}/commits/{ref}/status": f"{REPO}/commits/main/status",
        "/repos/{owner}/{repo}/commits/{commit_sha}/pulls": f"{REPO}/commits/{feat}/pulls",
        "/rate_limit": "/rate_limit",
    }
    return {"forge": github, "writes": writes, "reads": reads}


def test_spec_required_fields_are_enforced_and_valid_bodies_answer_documented_shapes(
    spec: dict[str, Any], rich: dict[str, Any]
) -> None:
    forge: ForgeServer = rich["forge"]
    checked = 0
    for (method, template), (path, body) in rich["writes"].items():
        schema = body_schema(spec, method, template)
        for name in schema.get("required", []):
            assert name in body, f"{method} {template}: the valid body lacks required {name}"
            response = gh(forge, method, path, json={k: v for k, v in body.items() if k != name})
            assert response.status_code == 422, (method, template, name, response.text)
            assert f'"{name}"' in response.json()["message"]
            checked += 1
        response = gh(forge, method, path, json=body)
        assert response.status_code in (200, 201), (method, template, response.text)
        problems = shape_problems(
            spec, response_schema(spec, method, template, response.status_code), response.json()
        )
        assert problems == [], (method, template, problems[:5])
    assert checked >= 12


def test_spec_enums_in_bodies_are_accepted_whole_and_nothing_else(
    spec: dict[str, Any], rich: dict[str, Any]
) -> None:
    forge: ForgeServer = rich["forge"]
    checked = 0
    for (method, template), (path, body) in rich["writes"].items():
        for name, prop in body_schema(spec, method, template).get("properties", {}).items():
            prop = resolve(spec, prop)
            if "enum" not in prop:
                continue
            for value in prop["enum"]:
                response = gh(forge, method, path, json={**body, name: value})
                assert response.status_code in (200, 201), (template, name, value, response.text)
                checked += 1
            assert gh(forge, method, path, json={**body, name: "bogus"}).status_code == 422, (
                template,
                name,
            )
    assert checked >= 13  # deployment status (7), commit status (4), pull state (2)


def test_spec_response_shapes_of_reads(spec: dict[str, Any], rich: dict[str, Any]) -> None:
    forge: ForgeServer = rich["forge"]
    for template, path in rich["reads"].items():
        response = gh(forge, "GET", path)
        assert response.status_code == 200, (template, response.text)
        problems = shape_problems(
            spec, response_schema(spec, "GET", template, 200), response.json()
        )
        assert problems == [], (template, problems[:5])
    bad_state = gh(forge, "GET", f"{REPO}/pulls", params={"state": "bogus"})
    enum = next(
        p
        for p in operation(spec, "GET", "/repos/{owner}/{repo}/pulls")["parameters"]
        if resolve(spec, p).get("name") == "state"
    )
    assert "bogus" not in resolve(spec, enum)["schema"]["enum"] and bad_state.status_code == 422


def test_spec_error_bodies_have_the_documented_shape(
    spec: dict[str, Any], rich: dict[str, Any]
) -> None:
    forge: ForgeServer = rich["forge"]
    errors = spec["components"]["schemas"]
    not_found = gh(forge, "GET", f"{REPO}/pulls/404")
    invalid = gh(forge, "POST", f"{REPO}/issues/1/comments", json={"body": "x" * 70000})
    assert shape_problems(spec, errors["basic-error"], not_found.json()) == []
    assert shape_problems(spec, errors["validation-error"], invalid.json()) == []
