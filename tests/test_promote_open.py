"""Promotion PRs/MRs (issue 12, part 1): `gitops promote`, its core and the action's
`command: promote`, against the test forge as GitHub and as GitLab, on real repositories."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cienv import TOKEN, Origin, checkout_like_github, run_github, run_gitlab
from forge_fixtures import forge_fixture  # noqa: F401  (the `forge` fixture)
from forge_server import ACTIONS_BOT_LOGIN, ForgeServer
from gitutil import Repo, git

from gitops.config import load_config
from gitops.deploy.state import Deployed, EnvironmentState, LiveState
from gitops.errors import GitopsError, UsageError
from gitops.forge.github import GitHub
from gitops.forge.gitlab import GitLab
from gitops.promote import open as opening
from gitops.promote.remote import parse_remote_url, resolve_remote, token_for
from gitops.promote.request import branch_name, parse_request, request_path
from gitops.registry.reader import load_registry

ROOT = Path(__file__).resolve().parent.parent
T0 = 1_760_000_000
NOW = datetime(2026, 12, 5, 0, 50, tzinfo=UTC)
CONFIG = (
    "state: {store: file}\n"
    "environments:\n"
    "  staging: {stage: staging, deploy: {driver: local}}\n"
    "  prod: {stage: prod, after: [staging], deploy: {driver: local}}\n"
    "reports:\n"
    "  gates:\n"
    "    auc: {min: 0.5}\n"
)
PATH = request_path("prod", "churn")
BRANCH = branch_name("prod", "churn")
HOSTILE = (
    "urgent <img src=x onerror=alert(1)> @everyone [click](https://evil.example) `x` | y\n"
    "# not a heading <!-- gitops:plan -->"
)


def build(repo: Repo) -> dict[str, str]:
    """churn v1.0.0 in prod; v1.1.0 and v1.2.0 registered, v1.1.0 in staging."""
    c1 = repo.commit(files={"gitops.yaml": CONFIG, "metrics.json": '{"auc": 0.80}'}, epoch=T0)
    repo.tag("churn@v1.0.0", c1, epoch=T0 + 10)
    repo.tag("churn#prod#1", c1, epoch=T0 + 20)
    c2 = repo.commit(files={"metrics.json": '{"auc": 0.85}'}, epoch=T0 + 100)
    repo.tag("churn@v1.1.0", c2, epoch=T0 + 110)
    repo.tag("churn#staging#2", c2, epoch=T0 + 120)
    c3 = repo.commit(files={"metrics.json": '{"auc": 0.40}'}, epoch=T0 + 200)
    repo.tag("churn@v1.2.0", c3, epoch=T0 + 210)
    return {"v1.0.0": c1, "v1.1.0": c2, "v1.2.0": c3}


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "dev")


def github(forge: ForgeServer, head: str) -> GitHub:
    forge.add_user("alice", "ghp_alice0123456789", kind="github")
    forge.add_repo("acme/models", head_sha=head)
    return GitHub(forge.github_url, "acme/models", "ghp_alice0123456789")


def gitlab(forge: ForgeServer, head: str) -> GitLab:
    forge.add_user("alice", "glpat-alice0123456789", kind="gitlab")
    forge.add_project("acme/models", project_id=42, head_sha=head)
    return GitLab(
        forge.gitlab_url,
        "acme/models",
        "glpat-alice0123456789",
        server_url="https://gitlab.example.com",
    )


def promote(repo: Repo, client: GitHub | GitLab, version: str, reason: str = "better auc"):  # noqa: ANN201
    return opening.promote(
        repo.path,
        client,
        load_config(repo.path),
        "churn",
        version,
        "prod",
        reason,
        "alice",
        NOW,
        "main",
    )


def pr_body(forge: ForgeServer, platform: str, number: int) -> str:
    if platform == "github":
        return forge.repo("acme/models").pulls[number].body or ""
    return forge.project("acme/models").mrs[number].description or ""


def open_prs(forge: ForgeServer, platform: str) -> list[int]:
    if platform == "github":
        return [n for n, p in forge.repo("acme/models").pulls.items() if p.state == "open"]
    return [n for n, m in forge.project("acme/models").mrs.items() if m.state == "opened"]


# --- the PR/MR, on both forges ---------------------------------------------------------------


@pytest.mark.parametrize("platform", ["github", "gitlab"])
def test_promotion_opens_one_pr_with_the_request_file_and_the_report(
    repo: Repo, forge: ForgeServer, platform: str
) -> None:
    commits = build(repo)
    client = (github if platform == "github" else gitlab)(forge, commits["v1.2.0"])
    pr = promote(repo, client, "v1.1.0")
    assert (pr.head, pr.base, pr.title) == (BRANCH, "main", "Promote churn v1.1.0 to prod")
    text = forge.file("acme/models", BRANCH, PATH)
    assert text is not None
    request = parse_request(text, PATH)  # the file parses back as the merge job will read it
    assert (request.artifact, request.version, request.stage) == ("churn", "v1.1.0", "prod")
    assert request.commit == commits["v1.1.0"]
    assert (request.requested_by, request.reason) == ("alice", "better auc")
    assert request.created_at == "2026-12-05T00:50:00Z"
    # the branch starts at the default branch's tip and adds just the request
    assert forge.commit("acme/models", BRANCH).parents == [commits["v1.2.0"]]
    body = pr_body(forge, platform, pr.number)
    assert "compared with v1\\.0\\.0 in prod" in body  # the report: candidate vs the stage
    assert "| `metrics.json` | `auc` | 0.8 | 0.85 |" in body
    assert "auc" in body and "passed" in body.lower()  # its gate
    assert "## Deployment plan" in body
    assert "| `prod` | `churn` | deploy | _(none)_ | `v1.1.0` |" in body
    assert "Merging this " + ("pull" if platform == "github" else "merge") + " request" in body
    assert "creates the stage tag" in body and "`churn#prod#N`" in body
    assert open_prs(forge, platform) == [pr.number]


@pytest.mark.parametrize("platform", ["github", "gitlab"])
def test_the_same_promotion_again_updates_the_same_pr(
    repo: Repo, forge: ForgeServer, platform: str
) -> None:
    commits = build(repo)
    client = (github if platform == "github" else gitlab)(forge, commits["v1.2.0"])
    first = promote(repo, client, "v1.1.0")
    second = promote(repo, client, "v1.2.0", reason="even newer")
    assert second.number == first.number and second.url == first.url
    assert open_prs(forge, platform) == [first.number]  # one PR, never a second
    request = parse_request(forge.file("acme/models", BRANCH, PATH) or b"", PATH)
    assert (request.version, request.commit) == ("v1.2.0", commits["v1.2.0"])
    assert second.title == "Promote churn v1.2.0 to prod"
    body = pr_body(forge, platform, first.number)
    assert "`v1.2.0`" in body and "churn v1\\.2\\.0 for prod" in body
    assert "v1\\.1\\.0 for prod" not in body
    assert "| 0.8 | 0.4 |" in body  # the new report: the gate now fails
    assert "even newer" in body
    tip = forge.commit("acme/models", BRANCH)
    assert tip is not None and len(tip.parents) == 1  # a second commit on the same branch
    assert forge.commit("acme/models", tip.parents[0]).parents == [commits["v1.2.0"]]


@pytest.mark.parametrize("platform", ["github", "gitlab"])
def test_hostile_reason_is_escaped_in_the_body_and_kept_whole_in_the_file(
    repo: Repo, forge: ForgeServer, platform: str
) -> None:
    commits = build(repo)
    client = (github if platform == "github" else gitlab)(forge, commits["v1.2.0"])
    pr = promote(repo, client, "v1.1.0", reason=HOSTILE)
    body = pr_body(forge, platform, pr.number)
    for raw in ("<img", "@everyone", "](https", "<!--", "`x`", "| y", "# not a heading"):
        assert not re.search(r"(?<!\\)" + re.escape(raw), body), raw  # only escaped
    assert "Reason: urgent \\<img src\\=x onerror\\=alert\\(1\\)\\>" in body
    assert "\n# not" not in body  # one line: the newline is a space
    request = parse_request(forge.file("acme/models", BRANCH, PATH) or b"", PATH)
    assert request.reason == HOSTILE  # the record keeps exactly what was asked


def test_the_plan_uses_the_state_store_staging_healthy_means_no_wait(
    repo: Repo, forge: ForgeServer
) -> None:
    commits = build(repo)
    registry, config = load_registry(repo.path), load_config(repo.path)
    assert config is not None
    live = LiveState()
    live.environments["staging"] = EnvironmentState(
        deployed={"churn": Deployed(version="v1.1.0", commit=commits["v1.1.0"], at="2026-12-04")}
    )
    live.environments["prod"] = EnvironmentState(
        deployed={"churn": Deployed(version="v1.0.0", commit=commits["v1.0.0"])}
    )
    candidate = opening.check_candidate(registry, config, "churn", "v1.1.0", "prod")
    [action] = opening.stage_plan(registry, config, live, candidate).actions
    assert (action.environment, action.kind, action.from_version) == ("prod", "update", "v1.0.0")
    assert action.waiting == ()
    [waiting] = opening.stage_plan(
        registry, config, LiveState(), opening.check_candidate(
            registry, config, "churn", "v1.2.0", "prod")
    ).actions  # fmt: skip
    assert waiting.waiting == ("waits for staging: v1.2.0 has not run there (it runs nothing of "
                               "churn)",)  # fmt: skip


# --- refusals before any request -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "version", "stage", "message"),
    [
        ("churn", "v9.9.9", "prod", "churn has no registered version 'v9.9.9'"),
        ("chrun", "v1.1.0", "prod", "unknown artifact 'chrun'"),
        ("churn", "v1.1.0", "prdo", "unknown stage 'prdo'"),
        ("churn", "v1.0.0", "prod", "prod already holds churn v1.0.0: nothing to promote"),
    ],
)
def test_unknown_names_are_refused_before_any_request(
    repo: Repo, forge: ForgeServer, name: str, version: str, stage: str, message: str
) -> None:
    commits = build(repo)
    client = github(forge, commits["v1.2.0"])
    forge.clear_requests()
    with pytest.raises(UsageError, match=message.replace(".", r"\.")):
        opening.promote(repo.path, client, load_config(repo.path), name, version, stage, "",
                        "alice", NOW, "main")  # fmt: skip
    assert forge.requests == []


def cli(repo: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB", "GITLAB", "CI"))}
    base = {k: v for k, v in base.items() if not k.startswith(("GITOPS_", "INPUT_"))}
    return subprocess.run(
        [sys.executable, "-m", "gitops", "promote", *args, "-r", str(repo)],
        env=base | {"PYTHONPATH": str(ROOT)} | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def laptop_clone(repo: Repo, url: str) -> None:
    """What a clone of the forge's repository has: origin's URL and origin/main."""
    git(repo.path, "remote", "add", "origin", url)
    git(repo.path, "update-ref", "refs/remotes/origin/main", "main")
    git(repo.path, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")


def test_cli_on_a_laptop_opens_the_pr_as_the_token_user(repo: Repo, forge: ForgeServer) -> None:
    commits = build(repo)
    github(forge, commits["v1.2.0"])
    laptop_clone(repo, "git@github.com:acme/models.git")
    env = {"GITOPS_TOKEN": "ghp_alice0123456789"}
    args = ("churn", "v1.1.0", "prod", "--reason", "weekly", "--api-url", forge.github_url)
    done = cli(repo.path, *args, env=env)
    assert done.returncode == 0, done.stderr
    [number] = open_prs(forge, "github")
    assert re.fullmatch(rf"pull request #{number}: \S+/acme/models/pull/{number}\n", done.stdout)
    request = parse_request(forge.file("acme/models", BRANCH, PATH) or b"", PATH)
    assert (request.requested_by, request.reason) == ("alice", "weekly")  # GET /user
    assert "ghp_alice0123456789" not in done.stdout + done.stderr


def test_cli_unknown_version_exits_2_without_a_request(repo: Repo, forge: ForgeServer) -> None:
    commits = build(repo)
    github(forge, commits["v1.2.0"])
    laptop_clone(repo, "https://github.com/acme/models.git")
    forge.clear_requests()
    done = cli(repo.path, "churn", "v1.9.0", "prod", "--api-url", forge.github_url,
               env={"GITOPS_TOKEN": "ghp_alice0123456789"})  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith("error: churn has no registered version 'v1.9.0'")
    assert "Traceback" not in done.stderr
    assert forge.requests == []


def test_cli_says_what_is_missing_without_a_token(repo: Repo, forge: ForgeServer) -> None:
    build(repo)
    laptop_clone(repo, "https://gitlab.com/acme/ml/models.git")
    done = cli(repo.path, "churn", "v1.1.0", "prod", env={})
    assert done.returncode == 2
    assert "set GITOPS_TOKEN or GITLAB_TOKEN" in done.stderr
    assert forge.requests == []


def test_assign_stays_the_direct_way(repo: Repo) -> None:
    commits = build(repo)
    done = subprocess.run(
        [sys.executable, "-m", "gitops", "assign", "churn", "--version", "v1.1.0",
         "--stage", "prod", "-r", str(repo.path)],
        env=os.environ | {"PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert git(repo.path, "rev-parse", "churn#prod#3^{commit}") == commits["v1.1.0"]


# --- where the forge is, on a laptop ---------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "host", "path"),
    [
        ("https://github.com/acme/models.git", "github.com", "acme/models"),
        ("https://x-access-token:secret@github.com/acme/models", "github.com", "acme/models"),
        ("git@github.com:acme/models.git", "github.com", "acme/models"),
        ("ssh://git@gitlab.example.com:2222/g/sub/p.git", "gitlab.example.com", "g/sub/p"),
    ],
)
def test_remote_urls(url: str, host: str, path: str) -> None:
    assert parse_remote_url(url) == (host, path)


def test_remote_platforms_apis_and_tokens() -> None:
    gh = resolve_remote("https://github.com/acme/models.git", None, None)
    assert (gh.platform, gh.api_url) == ("github", "https://api.github.com")
    gl = resolve_remote("git@gitlab.com:g/p.git", None, None)
    assert (gl.platform, gl.repository) == ("gitlab", "g/p")
    assert gl.api_url == "https://gitlab.com/api/v4"
    ghes = resolve_remote("https://git.corp/acme/models", "github", None)
    assert ghes.api_url == "https://git.corp/api/v3"
    with pytest.raises(UsageError, match="--forge github or --forge gitlab"):
        resolve_remote("https://git.corp/acme/models", None, None)
    with pytest.raises(UsageError, match="local path"):
        parse_remote_url("/srv/git/models.git")
    assert token_for("github", {"GITHUB_TOKEN": "a", "GITOPS_TOKEN": "b"}) == "b"
    assert token_for("gitlab", {"GITLAB_TOKEN": "c"}) == "c"


# --- the action's command: promote -----------------------------------------------------------


def dispatch_payload() -> dict:
    return {
        "inputs": {"name": "churn", "version": "v1.1.0", "stage": "prod"},
        "ref": "refs/heads/main",
        "repository": {"full_name": "acme/models", "default_branch": "main"},
        "sender": {"login": "carol"},
        "workflow": ".github/workflows/promote.yml",
    }


@pytest.fixture
def origin(tmp_path: Path) -> Origin:
    o = Origin(tmp_path)
    build(o.dev)
    o.publish()
    return o


PROMOTE_INPUTS = {"command": "promote", "name": "churn", "version": "v1.1.0", "stage": "prod",
                  "reason": HOSTILE}  # fmt: skip


def test_action_on_github_opens_the_pr_from_the_dispatch_form(
    tmp_path: Path, origin: Origin, forge: ForgeServer
) -> None:
    forge.add_user(ACTIONS_BOT_LOGIN, TOKEN, kind="github-app")
    forge.add_repo("acme/models", head_sha=origin.dev.rev())
    ws = checkout_like_github(origin, tmp_path / "ws", None)
    env = {"GITHUB_API_URL": forge.github_url, "GITHUB_ACTOR": "carol"}
    run = run_github(tmp_path, ws, "workflow_dispatch", dispatch_payload(), "refs/heads/main",
                     origin.dev.rev(), inputs=PROMOTE_INPUTS, extra_env=env)  # fmt: skip
    assert run.code == 0, run.stdout + run.stderr
    [number] = open_prs(forge, "github")
    assert run.outputs["pr-url"].endswith(f"/acme/models/pull/{number}")
    assert run.outputs["error"] == ""
    request = parse_request(forge.file("acme/models", BRANCH, PATH) or b"", PATH)
    assert (request.requested_by, request.reason) == ("carol", HOSTILE)
    assert "## Promotion" in run.summary and f"pull request \\#{number}" in run.summary
    for text in (run.summary, pr_body(forge, "github", number)):
        assert not re.search(r"(?<!\\)<img", text)
    assert TOKEN not in run.everything()


def test_action_on_gitlab_opens_the_mr_with_an_access_token(
    tmp_path: Path, origin: Origin, forge: ForgeServer
) -> None:
    forge.add_project("acme/models", project_id=42, head_sha=origin.dev.rev())
    forge.add_user("gitops-bot", "glpat-bot0123456789abcd", kind="gitlab-project")
    ws = checkout_like_github(origin, tmp_path / "ws", None)
    variables = {
        "CI_PIPELINE_SOURCE": "web",
        "CI_COMMIT_BRANCH": "main",
        "CI_DEFAULT_BRANCH": "main",
        "CI_COMMIT_SHA": origin.dev.rev(),
        "CI_API_V4_URL": forge.gitlab_url,
        "GITOPS_TOKEN": "glpat-bot0123456789abcd",
    }
    run = run_gitlab(tmp_path, ws, variables, inputs=PROMOTE_INPUTS)
    assert run.code == 0, run.stdout + run.stderr
    [iid] = open_prs(forge, "gitlab")
    assert run.outputs["GITOPS_PR_URL"].endswith(f"/acme/models/-/merge_requests/{iid}")
    request = parse_request(forge.file("acme/models", BRANCH, PATH) or b"", PATH)
    assert request.requested_by == "bob"  # GITLAB_USER_LOGIN: who ran the pipeline
    assert "glpat-bot0123456789abcd" not in run.everything()


def test_action_promote_without_inputs_says_which(
    tmp_path: Path, origin: Origin, forge: ForgeServer
) -> None:
    ws = checkout_like_github(origin, tmp_path / "ws", None)
    run = run_github(tmp_path, ws, "workflow_dispatch", dispatch_payload(), "refs/heads/main",
                     origin.dev.rev(), inputs={"command": "promote", "name": "churn"},
                     extra_env={"GITHUB_API_URL": forge.github_url})  # fmt: skip
    assert run.code == 2
    assert "command `promote` needs the inputs version, stage" in run.outputs["error"]
    assert forge.requests == []


def test_gitlab_job_token_gets_the_advice_before_any_write(repo: Repo, forge: ForgeServer) -> None:
    commits = build(repo)
    forge.add_project("acme/models", project_id=42, head_sha=commits["v1.2.0"])
    forge.add_user("bob", "glcbt-job0123456789", kind="gitlab-job", project="acme/models")
    client = GitLab(forge.gitlab_url, "acme/models", "glcbt-job0123456789", token_kind="job")
    with pytest.raises(GitopsError, match="CI_JOB_TOKEN cannot create branches.*GITOPS_TOKEN"):
        promote(repo, client, "v1.1.0")
    assert [r for r in forge.requests if r.method != "GET"] == []


def test_without_metrics_files_the_body_is_the_request_and_the_plan(
    tmp_path: Path, forge: ForgeServer
) -> None:
    repo = Repo(tmp_path / "plain")
    c1 = repo.commit(files={"gitops.yaml": CONFIG.split("reports:")[0]}, epoch=T0)
    repo.tag("churn@v1.0.0", c1, epoch=T0 + 10)
    repo.tag("churn#staging#1", c1, epoch=T0 + 20)
    client = github(forge, c1)
    pr = promote(repo, client, "v1.0.0")
    body = pr_body(forge, "github", pr.number)
    assert "`prod` holds no version of it yet" in body
    assert "compared with" not in body and "📊" not in body
    # no path annotated (the version is its commit's whole tree): no "where the bytes come
    # from" table, the plan ends the body
    assert body.endswith(
        "| `prod` | `churn` | deploy | _(none)_ | `v1.0.0` | waits for staging\\: v1\\.0\\.0 is "
        "to be deployed there first |\n"
    )
