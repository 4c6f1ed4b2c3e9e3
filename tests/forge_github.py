"""GitHub REST API half of the test forge: state, validation and the real response shapes.

Object shapes carry every field GitHub's OpenAPI description (@octokit/openapi 23.0.2) marks as
required. Messages and status codes are GitHub's as quoted from real answers: comment size
(easybuilders/easybuild-easyconfigs#24647), contents `sha` errors (octokit/octokit.rb#992,
prose/prose#756), deployment 409s (drevops/vortex#1903, simplytestme/website#130), `GET /user`
with an installation token (anthropics/claude-code-action#538), ref updates
(philschatz/octokit.js#21), rate limits (KnpLabs/php-github-api#1070).
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from forge_core import (
    ApiError,
    Ctx,
    GitModel,
    Identity,
    RateBudget,
    RateConfig,
    Reply,
    blob_sha,
    github_link,
    github_page,
    now_iso,
)

DOCS = "https://docs.github.com/rest"
COMMENT_MAX = 65_536
DEPLOY_STATUS_DESCRIPTION_MAX = 140
STATUSES_PER_CONTEXT_MAX = 1000
DEPLOYMENT_STATES = ("error", "failure", "inactive", "in_progress", "queued", "pending", "success")
COMMIT_STATES = ("error", "failure", "pending", "success")
SUPPORTED_API_VERSIONS = ("2022-11-28",)
SECONDARY_LIMIT_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000."
)
SECONDARY_LIMIT_DOCS = (
    "https://docs.github.com/free-pro-team@latest/rest/overview/"
    "rate-limits-for-the-rest-api#about-secondary-rate-limits"
)
ACTIONS_BOT = ("github-actions[bot]", 41898282)

_ids = itertools.count(1_000_000_001)


def _next_id() -> int:
    return next(_ids)


def error(status: int, message: str, doc: str = DOCS, **extra: Any) -> ApiError:
    """GitHub's error body: message, documentation_url and the status as a string."""
    return ApiError(
        status, {"message": message, "documentation_url": doc, **extra, "status": str(status)}
    )


def validation_failed(doc: str, *errors: dict[str, Any], status: int = 422) -> ApiError:
    return error(status, "Validation Failed", doc, errors=list(errors))


def invalid_request(doc: str, detail: str) -> ApiError:
    return error(422, f"Invalid request.\n\n{detail}", doc)


@dataclass
class GhUser:
    login: str
    id: int
    type: str = "User"


@dataclass
class GhComment:
    id: int
    number: int
    body: str
    user: str
    created_at: str
    updated_at: str


@dataclass
class GhPull:
    number: int
    id: int
    title: str
    body: str | None
    state: str
    head_ref: str
    head_owner: str
    fixed_head_sha: str | None  # fork PRs: the head does not live in this repo's branches
    base_ref: str
    user: str
    draft: bool = False
    maintainer_can_modify: bool = False
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)
    closed_at: str | None = None
    merged_at: str | None = None
    merge_commit_sha: str | None = None
    merged_commits: list[str] = field(default_factory=list)
    reviews: list[GhReview] = field(default_factory=list)
    merged_by: str | None = None
    labels: list[str] = field(default_factory=list)


@dataclass
class GhReview:
    id: int
    user: str
    state: str  # APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED
    commit_id: str
    submitted_at: str = field(default_factory=now_iso)
    body: str = ""


@dataclass
class GhDeploymentStatus:
    id: int
    state: str
    description: str
    environment: str
    target_url: str
    log_url: str
    environment_url: str
    creator: str
    created_at: str


@dataclass
class GhDeployment:
    id: int
    sha: str
    ref: str
    task: str
    environment: str
    payload: Any
    description: str | None
    creator: str
    transient: bool
    production: bool
    created_at: str
    statuses: list[GhDeploymentStatus] = field(default_factory=list)


@dataclass
class GhStatus:
    id: int
    sha: str
    state: str
    target_url: str | None
    description: str | None
    context: str
    creator: str
    created_at: str


class GhRepo:
    """One repository: its git, pull requests, issue comments, deployments and statuses."""

    def __init__(
        self,
        owner: str,
        name: str,
        repo_id: int,
        default_branch: str,
        private: bool,
        actions_can_create_prs: bool,
    ) -> None:
        self.owner, self.name, self.id = owner, name, repo_id
        self.default_branch = default_branch
        self.private = private
        self.actions_can_create_prs = actions_can_create_prs
        self.git = GitModel()
        self.pulls: dict[int, GhPull] = {}
        self.comments: dict[int, GhComment] = {}
        self.deployments: dict[int, GhDeployment] = {}
        self.statuses: dict[str, list[GhStatus]] = {}
        self.next_number = 1
        self.created_at = now_iso()

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def head_sha(self, pull: GhPull) -> str:
        if pull.fixed_head_sha is None and pull.head_ref in self.git.branches:
            return self.git.branches[pull.head_ref]
        return pull.fixed_head_sha or ""

    def pull_commits(self, pull: GhPull) -> list[str]:
        if pull.merged_at is not None:
            return pull.merged_commits
        base = self.git.branches.get(pull.base_ref)
        head = self.head_sha(pull)
        return self.git.between(base, head) if base else [head]


class GitHubState:
    """Everything the GitHub half knows; guarded by the server's lock."""

    def __init__(self) -> None:
        self.repos: dict[str, GhRepo] = {}
        self.users: dict[str, GhUser] = {}
        self.tokens: dict[str, Identity] = {}
        self.rate = RateConfig(limit=5000)
        self.budgets: dict[str, RateBudget] = {}
        self._user_ids = itertools.count(1001)
        self._repo_ids = itertools.count(70_000_001)
        self._review_ids = itertools.count(80_000_001)
        self.teams: dict[tuple[str, str], set[str]] = {}  # (org, team slug) -> member logins

    def user(self, login: str, kind: str = "User") -> GhUser:
        if login not in self.users:
            uid = ACTIONS_BOT[1] if login == ACTIONS_BOT[0] else next(self._user_ids)
            self.users[login] = GhUser(login, uid, "Bot" if login.endswith("[bot]") else kind)
        return self.users[login]

    def repo(self, full_name: str) -> GhRepo | None:
        return self.repos.get(full_name.lower())

    def add_repo(
        self, full_name: str, default_branch: str, private: bool, actions_can_create_prs: bool
    ) -> GhRepo:
        owner, _, name = full_name.partition("/")
        if not owner or not name or "/" in name:
            raise ValueError(f"repository name must be owner/name: {full_name!r}")
        self.user(owner)
        repo = GhRepo(
            owner, name, next(self._repo_ids), default_branch, private, actions_can_create_prs
        )
        self.repos[full_name.lower()] = repo
        return repo


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    func: Callable[[Ctx], Reply]
    doc: str
    scope: str | None = None  # GitHub App permission the route needs
    counts: bool = True  # against the rate limit


REPO = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"


def route(method: str, pattern: str, doc: str, scope: str | None = None) -> Callable[[Any], Any]:
    """Mark a handler with its method, path pattern, documentation anchor and App permission."""

    def mark(func: Any) -> Any:
        func.route = (method, pattern, doc, scope)
        return func

    return mark


def _doc(path: str) -> str:
    return f"https://docs.github.com/rest/{path}"


class GitHubApi:
    """Routes a request to a handler; authentication, rate limit, and the error shapes."""

    def __init__(self, state: GitHubState, link_style: str = "repositories") -> None:
        self.state = state
        self.link_style = link_style
        self.routes = [
            Route(
                m,
                re.compile(pattern + "$"),
                getattr(self, f.__name__),
                _doc(doc),
                scope,
                pattern != r"/rate_limit",
            )
            for f in vars(GitHubApi).values()
            if hasattr(f, "route")
            for m, pattern, doc, scope in [f.route]
        ]

    # --- entry point -------------------------------------------------------------------------

    def handle(self, ctx: Ctx) -> Reply:
        """Answer one request; every reply carries the rate-limit headers of its identity."""
        budget: RateBudget | None = None
        try:
            try:
                ctx.identity = self._authenticate(ctx)
            except ApiError:  # bad credentials still cost the caller's IP a request
                budget = self._budget(None)
                self._spend(None, budget)
                raise
            budget = self._budget(ctx.identity)
            path = self._normalise(ctx.path)
            route, params = self._match(ctx.method, path)
            if route.counts:
                self._spend(ctx.identity, budget)
            self._check_version(ctx, route)
            ctx.params = params
            ctx.body = self._json_body(ctx, route)
            ctx.doc, ctx.scope = route.doc, route.scope
            reply = route.func(ctx)
        except ApiError as exc:
            reply = Reply(exc.status, exc.body, exc.headers)
        headers = {
            "X-GitHub-Api-Version-Selected": SUPPORTED_API_VERSIONS[0],
            "X-GitHub-Media-Type": "github.v3; format=json",
            "X-GitHub-Request-Id": "0000:0000:0000:0000:00000000",
        }
        if budget is not None:
            headers.update(self.rate_headers(budget))
        reply.headers = {**headers, **reply.headers}
        return reply

    def rate_headers(self, budget: RateBudget) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(budget.limit),
            "x-ratelimit-remaining": str(budget.remaining),
            "x-ratelimit-reset": str(budget.reset),
            "x-ratelimit-used": str(budget.used),
            "x-ratelimit-resource": "core",
        }

    def budget_for(self, identity: Identity | None) -> RateBudget:
        return self._budget(identity)

    def _authenticate(self, ctx: Ctx) -> Identity | None:
        header = ctx.headers.get("Authorization")
        if header is None:
            return None
        scheme, _, token = header.strip().partition(" ")
        identity = (
            self.state.tokens.get(token.strip()) if scheme.lower() in ("bearer", "token") else None
        )
        if identity is None:
            raise error(401, "Bad credentials", DOCS)
        return identity

    def _budget(self, identity: Identity | None) -> RateBudget:
        key = identity.token if identity else "anonymous"
        budget = self.state.budgets.get(key)
        if budget is None:
            budget = self.state.budgets[key] = self.state.rate.budget()
        budget.refresh()
        return budget

    def _spend(self, identity: Identity | None, budget: RateBudget) -> None:
        if budget.remaining <= 0:
            if identity is None:
                who = (
                    "127.0.0.1. (But here's the good news: Authenticated requests get a higher "
                    "rate limit. Check out the documentation for more details.)"
                )
            elif identity.kind == "github-app":
                who = f"installation ID {identity.user_id}."
            else:
                who = f"user ID {identity.user_id}."
            status = self.state.rate.status
            raise ApiError(
                status,
                {
                    "message": f"API rate limit exceeded for {who}",
                    "documentation_url": _doc("overview/rate-limits-for-the-rest-api"),
                    "status": str(status),
                },
                self.rate_headers(budget),
            )
        budget.remaining -= 1

    def _normalise(self, path: str) -> str:
        """`/repositories/{id}/...` (GitHub's Link headers use it) is `/repos/{o}/{r}/...`."""
        match = re.match(r"^/repositories/(\d+)(/.*)?$", path)
        if match:
            for repo in self.state.repos.values():
                if repo.id == int(match.group(1)):
                    return f"/repos/{repo.owner}/{repo.name}{match.group(2) or ''}"
        return path

    def _match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        for route in self.routes:
            if route.method != method:
                continue
            match = route.pattern.match(path)
            if match:
                return route, {k: unquote(v) for k, v in match.groupdict().items()}
        raise error(404, "Not Found", DOCS)

    def _check_version(self, ctx: Ctx, route: Route) -> None:
        version = ctx.headers.get("X-GitHub-Api-Version")
        if version is not None and version not in SUPPORTED_API_VERSIONS:
            raise error(
                400,
                f"API version {version} is not supported. Supported versions: "
                + ", ".join(SUPPORTED_API_VERSIONS),
                route.doc,
            )

    def _json_body(self, ctx: Ctx, route: Route) -> Any:
        raw = ctx.raw_body
        if ctx.method in ("GET", "DELETE") or not raw:
            return {} if ctx.method not in ("GET", "DELETE") else None
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise error(400, "Problems parsing JSON", route.doc) from None
        if not isinstance(body, dict):
            raise error(400, "Problems parsing JSON", route.doc)
        return body

    # --- shared checks -----------------------------------------------------------------------

    def _repo(self, ctx: Ctx) -> GhRepo:
        repo = self.state.repo(f"{ctx.params['owner']}/{ctx.params['repo']}")
        if repo is None or (repo.private and ctx.identity is None):
            raise error(404, "Not Found", ctx.doc)
        return repo

    def _allow(self, ctx: Ctx, write: bool, scope: str | None = None) -> None:
        """GitHub's 401 for anonymous writes and 403 for tokens without the permission."""
        identity = ctx.identity
        doc = ctx.doc
        if identity is None:
            if write:
                raise error(401, "Requires authentication", doc)
            return
        scope = scope or ctx.scope
        level = "read" if identity.read_only else "write"
        if identity.permissions is not None and scope not in (None, "metadata"):
            level = identity.permissions.get(scope, "none")
        if level == "none" or (write and level != "write"):
            integration = (
                "integration" if identity.kind == "github-app" else "personal access token"
            )
            raise error(403, f"Resource not accessible by {integration}", doc)

    def _fields(
        self, ctx: Ctx, required: tuple[str, ...], types: dict[str, type | tuple[type, ...]]
    ) -> dict[str, Any]:
        """Schema checks the way GitHub words them: missing fields, then wrong types."""
        body: dict[str, Any] = ctx.body or {}
        doc = ctx.doc
        missing = [name for name in required if name not in body]
        if missing:
            names = ", ".join(f'"{n}"' for n in missing)
            raise invalid_request(
                doc, f"{names} {'wasn' if len(missing) == 1 else 'weren'}'t supplied."
            )
        kinds = {str: "string", bool: "boolean", int: "integer", list: "array", dict: "object"}
        for name, expected in types.items():
            if name not in body or body[name] is None and name not in required:
                continue
            value = body[name]
            allowed = expected if isinstance(expected, tuple) else (expected,)
            ok = any(
                isinstance(value, t) and not (t is int and isinstance(value, bool)) for t in allowed
            )
            if not ok:
                shown = json.dumps(value)
                want = " or ".join(kinds.get(t, t.__name__) for t in allowed)
                raise invalid_request(doc, f"For 'properties/{name}', {shown} is not a {want}.")
        return body

    # --- JSON shapes -------------------------------------------------------------------------

    def label_json(self, ctx: Ctx, repo: GhRepo, name: str) -> dict[str, Any]:
        """A label as GitHub shows it on an issue or pull request."""
        number = zlib.crc32(f"{repo.full_name}/{name}".encode())
        return {
            "id": number,
            "node_id": f"LA_{number}",
            "url": f"{ctx.api_root}/repos/{repo.full_name}/labels/{quote(name)}",
            "name": name,
            "color": "ededed",
            "default": False,
            "description": None,
        }

    def user_json(self, ctx: Ctx, login: str) -> dict[str, Any]:
        user = self.state.user(login)
        api = f"{ctx.api_root}/users/{quote(login)}"
        html = (
            f"{ctx.web_root}/apps/{login.removesuffix('[bot]')}"
            if user.type == "Bot"
            else f"{ctx.web_root}/{login}"
        )
        return {
            "login": login,
            "id": user.id,
            "node_id": f"U_{user.id}",
            "avatar_url": f"{ctx.web_root}/avatars/u/{user.id}?v=4",
            "gravatar_id": "",
            "url": api,
            "html_url": html,
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": user.type,
            "user_view_type": "public",
            "site_admin": False,
        }

    def repo_json(self, ctx: Ctx, repo: GhRepo) -> dict[str, Any]:
        api = f"{ctx.api_root}/repos/{repo.full_name}"
        web = f"{ctx.web_root}/{repo.full_name}"
        host = urlsplit(ctx.web_root).netloc
        templated = {
            "forks_url": "/forks",
            "keys_url": "/keys{/key_id}",
            "collaborators_url": "/collaborators{/collaborator}",
            "teams_url": "/teams",
            "hooks_url": "/hooks",
            "issue_events_url": "/issues/events{/number}",
            "events_url": "/events",
            "assignees_url": "/assignees{/user}",
            "branches_url": "/branches{/branch}",
            "tags_url": "/tags",
            "blobs_url": "/git/blobs{/sha}",
            "git_tags_url": "/git/tags{/sha}",
            "git_refs_url": "/git/refs{/sha}",
            "trees_url": "/git/trees{/sha}",
            "statuses_url": "/statuses/{sha}",
            "languages_url": "/languages",
            "stargazers_url": "/stargazers",
            "contributors_url": "/contributors",
            "subscribers_url": "/subscribers",
            "subscription_url": "/subscription",
            "commits_url": "/commits{/sha}",
            "git_commits_url": "/git/commits{/sha}",
            "comments_url": "/comments{/number}",
            "issue_comment_url": "/issues/comments{/number}",
            "contents_url": "/contents/{+path}",
            "compare_url": "/compare/{base}...{head}",
            "merges_url": "/merges",
            "archive_url": "/{archive_format}{/ref}",
            "downloads_url": "/downloads",
            "issues_url": "/issues{/number}",
            "pulls_url": "/pulls{/number}",
            "milestones_url": "/milestones{/number}",
            "notifications_url": "/notifications{?since,all,participating}",
            "labels_url": "/labels{/name}",
            "releases_url": "/releases{/id}",
            "deployments_url": "/deployments",
        }
        open_count = sum(1 for p in repo.pulls.values() if p.state == "open")
        return {
            "id": repo.id,
            "node_id": f"R_{repo.id}",
            "name": repo.name,
            "full_name": repo.full_name,
            "private": repo.private,
            "owner": self.user_json(ctx, repo.owner),
            "html_url": web,
            "description": None,
            "fork": False,
            "url": api,
            **{key: api + suffix for key, suffix in templated.items()},
            "created_at": repo.created_at,
            "updated_at": repo.created_at,
            "pushed_at": repo.created_at,
            "git_url": f"git://{host}/{repo.full_name}.git",
            "ssh_url": f"git@{host}:{repo.full_name}.git",
            "clone_url": f"{web}.git",
            "svn_url": web,
            "homepage": None,
            "size": 0,
            "stargazers_count": 0,
            "watchers_count": 0,
            "language": None,
            "has_issues": True,
            "has_projects": True,
            "has_downloads": True,
            "has_wiki": True,
            "has_pages": False,
            "has_discussions": False,
            "forks_count": 0,
            "mirror_url": None,
            "archived": False,
            "disabled": False,
            "open_issues_count": open_count,
            "license": None,
            "allow_forking": True,
            "is_template": False,
            "web_commit_signoff_required": False,
            "topics": [],
            "visibility": "private" if repo.private else "public",
            "forks": 0,
            "open_issues": open_count,
            "watchers": 0,
            "default_branch": repo.default_branch,
        }

    def comment_json(self, ctx: Ctx, repo: GhRepo, comment: GhComment) -> dict[str, Any]:
        api = f"{ctx.api_root}/repos/{repo.full_name}"
        return {
            "url": f"{api}/issues/comments/{comment.id}",
            "html_url": f"{ctx.web_root}/{repo.full_name}/pull/{comment.number}"
            f"#issuecomment-{comment.id}",
            "issue_url": f"{api}/issues/{comment.number}",
            "id": comment.id,
            "node_id": f"IC_{comment.id}",
            "user": self.user_json(ctx, comment.user),
            "created_at": comment.created_at,
            "updated_at": comment.updated_at,
            "author_association": "OWNER" if comment.user == repo.owner else "CONTRIBUTOR",
            "body": comment.body,
            "reactions": {
                "url": f"{api}/issues/comments/{comment.id}/reactions",
                "total_count": 0,
                "+1": 0,
                "-1": 0,
                "laugh": 0,
                "hooray": 0,
                "confused": 0,
                "heart": 0,
                "rocket": 0,
                "eyes": 0,
            },
            "performed_via_github_app": None,
        }

    def _branch_json(self, ctx: Ctx, repo: GhRepo, pull: GhPull, side: str) -> dict[str, Any]:
        if side == "head":
            owner, ref, sha = pull.head_owner, pull.head_ref, repo.head_sha(pull)
            if owner.lower() != repo.owner.lower():
                fork = GhRepo(
                    owner, repo.name, repo.id + 1_000_000, repo.default_branch, repo.private, True
                )
                fork.created_at = repo.created_at
                repo_json = {**self.repo_json(ctx, fork), "fork": True}
            else:
                repo_json = self.repo_json(ctx, repo)
        else:
            owner, ref = repo.owner, pull.base_ref
            sha = repo.git.branches.get(ref, "")
            repo_json = self.repo_json(ctx, repo)
        return {
            "label": f"{owner}:{ref}",
            "ref": ref,
            "sha": sha,
            "user": self.user_json(ctx, owner),
            "repo": repo_json,
        }

    def pull_json(
        self, ctx: Ctx, repo: GhRepo, pull: GhPull, simple: bool = False
    ) -> dict[str, Any]:
        api = f"{ctx.api_root}/repos/{repo.full_name}"
        web = f"{ctx.web_root}/{repo.full_name}/pull/{pull.number}"
        head_sha = repo.head_sha(pull)
        links = {
            "self": f"{api}/pulls/{pull.number}",
            "html": web,
            "issue": f"{api}/issues/{pull.number}",
            "comments": f"{api}/issues/{pull.number}/comments",
            "review_comments": f"{api}/pulls/{pull.number}/comments",
            "review_comment": f"{api}/pulls/comments{{/number}}",
            "commits": f"{api}/pulls/{pull.number}/commits",
            "statuses": f"{api}/statuses/{head_sha}",
        }
        data: dict[str, Any] = {
            "url": links["self"],
            "id": pull.id,
            "node_id": f"PR_{pull.id}",
            "html_url": web,
            "diff_url": f"{web}.diff",
            "patch_url": f"{web}.patch",
            "issue_url": links["issue"],
            "number": pull.number,
            "state": pull.state,
            "locked": False,
            "title": pull.title,
            "user": self.user_json(ctx, pull.user),
            "body": pull.body,
            "created_at": pull.created_at,
            "updated_at": pull.updated_at,
            "closed_at": pull.closed_at,
            "merged_at": pull.merged_at,
            "merge_commit_sha": pull.merge_commit_sha,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "labels": [self.label_json(ctx, repo, name) for name in pull.labels],
            "milestone": None,
            "draft": pull.draft,
            "commits_url": links["commits"],
            "review_comments_url": links["review_comments"],
            "review_comment_url": links["review_comment"],
            "comments_url": links["comments"],
            "statuses_url": links["statuses"],
            "head": self._branch_json(ctx, repo, pull, "head"),
            "base": self._branch_json(ctx, repo, pull, "base"),
            "_links": {key: {"href": href} for key, href in links.items()},
            "author_association": "OWNER" if pull.user == repo.owner else "CONTRIBUTOR",
            "auto_merge": None,
            "active_lock_reason": None,
        }
        if simple:
            return data
        comments = sum(1 for c in repo.comments.values() if c.number == pull.number)
        data.update(
            merged=pull.merged_at is not None,
            mergeable=None if pull.state == "closed" else True,
            rebaseable=None if pull.state == "closed" else True,
            mergeable_state="unknown" if pull.state == "closed" else "clean",
            merged_by=self.user_json(ctx, pull.merged_by) if pull.merged_by else None,
            comments=comments,
            review_comments=0,
            maintainer_can_modify=pull.maintainer_can_modify,
            commits=len(repo.pull_commits(pull)),
            additions=0,
            deletions=0,
            changed_files=0,
        )
        return data

    def ref_json(self, ctx: Ctx, repo: GhRepo, ref: str, sha: str) -> dict[str, Any]:
        api = f"{ctx.api_root}/repos/{repo.full_name}"
        return {
            "ref": ref,
            "node_id": f"REF_{repo.id}_{quote(ref, safe='')}",
            "url": f"{api}/git/{quote(ref)}",
            "object": {"sha": sha, "type": "commit", "url": f"{api}/git/commits/{sha}"},
        }

    def _user_or_none(self, ctx: Ctx) -> str:
        return ctx.identity.login if ctx.identity else "ghost"

    # --- users and repos ---------------------------------------------------------------------

    @route("GET", r"/user", "users/users#get-the-authenticated-user")
    def get_user(self, ctx: Ctx) -> Reply:
        identity = ctx.identity
        if identity is None:
            raise error(401, "Requires authentication", ctx.doc)
        if identity.kind == "github-app":  # installation tokens (GITHUB_TOKEN) are not users
            raise error(403, "Resource not accessible by integration", ctx.doc)
        data = self.user_json(ctx, identity.login)
        data.update(
            name=identity.name,
            email=None,
            bio=None,
            company=None,
            blog="",
            location=None,
            hireable=None,
            twitter_username=None,
            public_repos=0,
            public_gists=0,
            followers=0,
            following=0,
            created_at="2020-01-01T00:00:00Z",
            updated_at="2020-01-01T00:00:00Z",
        )
        return Reply(200, data)

    @route(
        "GET",
        r"/rate_limit",
        "rate-limit/rate-limit#get-rate-limit-status-for-the-authenticated-user",
    )
    def rate_limit(self, ctx: Ctx) -> Reply:
        budget = self._budget(ctx.identity)
        core = {
            "limit": budget.limit,
            "used": budget.used,
            "remaining": budget.remaining,
            "reset": budget.reset,
            "resource": "core",
        }
        search = {
            "limit": 30,
            "used": 0,
            "remaining": 30,
            "reset": budget.reset,
            "resource": "search",
        }
        return Reply(200, {"resources": {"core": core, "search": search}, "rate": core})

    @route("GET", REPO, "repos/repos#get-a-repository", "metadata")
    def get_repo(self, ctx: Ctx) -> Reply:
        repo = self._repo(ctx)
        self._allow(ctx, write=False)
        return Reply(200, self.repo_json(ctx, repo))

    # --- issue comments ----------------------------------------------------------------------

    def _pull_or_404(self, ctx: Ctx, repo: GhRepo, number: int) -> GhPull:
        pull = repo.pulls.get(number)
        if pull is None:
            raise error(404, "Not Found", ctx.doc)
        return pull

    def _comment_scope(self, repo: GhRepo, number: int) -> str:
        """Comments on a pull request need the pull-requests permission, not issues."""
        return "pull-requests" if number in repo.pulls else "issues"

    @route(
        "GET",
        REPO + r"/issues/(?P<number>\d+)/comments",
        "issues/comments#list-issue-comments",
        "issues",
    )
    def list_comments(self, ctx: Ctx) -> Reply:
        repo = self._repo(ctx)
        number = int(ctx.params["number"])
        self._pull_or_404(ctx, repo, number)
        self._allow(ctx, write=False, scope=self._comment_scope(repo, number))
        since = ctx.query.get("since")
        comments = [
            c for c in sorted(repo.comments.values(), key=lambda c: c.id) if c.number == number
        ]
        if since:
            comments = [c for c in comments if c.updated_at >= since]
        page = github_page(comments, ctx.query)
        headers = {}
        link = github_link(ctx, self._link_path(repo, f"/issues/{number}/comments"), page)
        if link:
            headers["Link"] = link
        return Reply(200, [self.comment_json(ctx, repo, c) for c in page.items], headers)

    def _link_path(self, repo: GhRepo, suffix: str) -> str:
        if self.link_style == "repositories":
            return f"/repositories/{repo.id}{suffix}"
        return f"/repos/{repo.full_name}{suffix}"

    def _check_body(self, ctx: Ctx) -> str:
        body = self._fields(ctx, ("body",), {"body": str})["body"]
        doc = ctx.doc
        if len(body) > COMMENT_MAX:
            raise validation_failed(
                doc,
                {
                    "resource": "IssueComment",
                    "code": "unprocessable",
                    "field": "data",
                    "message": f"Body is too long (maximum is {COMMENT_MAX} characters)",
                },
            )
        if not body.strip():
            raise validation_failed(
                doc,
                {
                    "resource": "IssueComment",
                    "code": "unprocessable",
                    "field": "data",
                    "message": "Body cannot be blank",
                },
            )
        return body

    @route(
        "POST",
        REPO + r"/issues/(?P<number>\d+)/comments",
        "issues/comments#create-an-issue-comment",
        "issues",
    )
    def create_comment(self, ctx: Ctx) -> Reply:
        repo = self._repo(ctx)
        number = int(ctx.params["number"])
        self._pull_or_404(ctx, repo, number)
        self._allow(ctx, write=True, scope=self._comment_scope(repo, number))
        body = self._check_body(ctx)
        comment = self.add_comment(repo, number, body, self._user_or_none(ctx))
        data = self.comment_json(ctx, repo, comment)
        return Reply(201, data, {"Location": data["url"]})

    def add_comment(
        self, repo: GhRepo, number: int, body: str, author: str, created_at: str | None = None
    ) -> GhComment:
        self.state.user(author)
        stamp = created_at or now_iso()
        comment = GhComment(_next_id(), number, body, author, stamp, stamp)
        repo.comments[comment.id] = comment
        return comment

    def _comment_or_404(self, ctx: Ctx, repo: GhRepo) -> GhComment:
        comment = repo.comments.get(int(ctx.params["id"]))
        if comment is None:
            raise error(404, "Not Found", ctx.doc)
        return comment

    @route(
        "GET",
        REPO + r"/issues/comments/(?P<id>\d+)",
        "issues/comments#get-an-issue-comment",
        "issues",
    )
    def get_comment(self, ctx: Ctx) -> Reply:
        repo = self._repo(ctx)
        comment = self._comment_or_404(ctx, repo)
        self._allow(ctx, write=False, scope=self._comment_scope(repo, comment.number))
        return Reply(200, self.comment_json(ctx, repo, comment))

    @route(
        "PATCH",
        REPO + r"/issues/comments/(?P<id>\d+)",
        "issues/comments#update-an-issue-comment",
        "issues",
    )
    def update_comment(self, ctx: Ctx) -> Reply:
        repo = self._repo(ctx)
        comment = self._comment_or_404(ctx, repo)
        self._allow(ctx, write=True, scope=self._comment_scope(repo, comment.number))
        comment.body = self._check_body(ctx)
        comment.updated_at = now_iso()
        return Reply(200, self.comment_json(ctx, repo, comment))

    @route(
        "DELETE",
        REPO + r"/issues/comments/(?P<id>\d+)",
        "issues/comments#delete-an-issue-comment",
        "issues",
    )
    def delete_comment(self, ctx: Ctx) -> Reply:
        repo = self._repo(ctx)
        comment = self._comment_or_404(ctx, repo)
        self._allow(ctx, write=True, scope=self._comment_scope(repo, comment.number))
        del repo.comments[comment.id]
        return Reply(204)

    # --- pull requests -----------------------------------------------------------------------

    @route("GET", REPO + r"/pulls", "pulls/pulls#list-pull-requests", "pull-requests")
    def list_pulls(self, ctx: Ctx) -> Reply:
        repo = self._repo(ctx)
        self._allow(ctx, write=False)
        state = ctx.query.get("state", "open")
        if state not in ("open", "closed", "all"):
            raise validation_failed(
                ctx.doc,
                {"resource": "Search", "field": "state", "code": "invalid"},
            )
        pulls = [p for p in repo.pulls.values() if state == "all" or p.state == state]
        head = ctx.query.get("head")
        if head and ":" in head:  # without `owner:` GitHub ignores the filter
            owner, _, ref = head.partition(":")
            pulls = [
                p for p in pulls if p.head_owner.lower() == owner.lower() and p.head_ref == ref
            ]
        if "base" in ctx.query:
            pulls = [p for p in pulls if p.base_ref == ctx.query["base"]]
        sort = ctx.query.get("sort", "created")
        key = (
            (lambda p: p.updated_at)
            if sort in ("updated", "long-running")
            else (lambda p: p.number)
        )
        default = "desc" if sort == "created" else "asc"  # GitHub's documented defaults
        pulls.sort(key=key, reverse=ctx.query.get("direction", default) == "desc")
        page = github_page(pulls, ctx.query)
        headers = {}
        link = github_link(ctx, self._link_path(repo, "/pulls"), page)
        if link:
            headers["Link"] = link
        return Reply(200, [self.pull_json(ctx, repo, p, simple=True) for p in page.items], headers)

    @route(
        "GET", REPO + r"/pulls/(?P<number>\d+)", "pulls/pulls#get-a-pull-request", "pull-requests"
    )
    def get_pull(self, ctx: Ctx) -> Reply:
        repo = self._repo(ctx)
        pull = self._pull_or_404(ctx, repo, int(ctx.params["number"]))
        self._allow(ctx, write=False)
        return Reply(200, self.pull_json(ctx, repo, pull))

    def _open_duplicate(
        self, repo: GhRepo, head_owner: str, head_ref: str, base: str, skip: int = 0
    ) -> GhPull | None:
        for pull in repo.pulls.values():
            same = pull.head_owner.lower() == head_owner.lower() and pull.head_ref == head_ref
            if pull.state == "open" and same and pull.base_ref == base and pull.number != skip:
                return pull
        return None

    @route("POST", REPO + r"/pulls", "pulls/pulls#create-a-pull-request", "pull-requests")
    def create_pull(self, ctx: Ctx) -> Reply:
        repo = self._repo(ctx)
        self._allow(ctx, write=True)
        doc = ctx.doc
        body = self._fields(
            ctx,
            ("head", "base"),
            {
                "head": str,
                "base": str,
                "title": str,
                "body": str,
                "draft": bool,
                "maintainer_can_modify": bool,
                "head_repo": str,
                "issue": int,
            },
        )
        identity = ctx.identity
        if identity and identity.kind == "github-app" and not repo.actions_can_create_prs:
            raise error(
                403, "GitHub Actions is not permitted to create or approve pull requests.", doc
            )
        if "title" not in body and "issue" not in body:
            raise validation_failed(
                doc, {"resource": "Issue", "code": "missing_field", "field": "title"}
            )
        owner, _, head_ref = body["head"].rpartition(":")
        owner = owner or repo.owner
        base = body["base"]
        if owner.lower() != repo.owner.lower() or head_ref not in repo.git.branches:
            raise validation_failed(
                doc, {"resource": "PullRequest", "field": "head", "code": "invalid"}
            )
        if base not in repo.git.branches:
            raise validation_failed(
                doc, {"resource": "PullRequest", "field": "base", "code": "invalid"}
            )
        if self._open_duplicate(repo, owner, head_ref, base):
            raise validation_failed(
                doc,
                {
                    "resource": "PullRequest",
                    "code": "custom",
                    "message": f"A pull request already exists for {owner}:{head_ref}.",
                },
            )
        if not repo.git.between(repo.git.branches[base], repo.git.branches[head_ref]):
            raise validation_failed(
                doc,
                {
                    "resource": "PullRequest",
                    "code": "custom",
                    "message": f"No commits between {base} and {head_ref}",
                },
            )
        pull = self.add_pull(
            repo,
            None,
            head_ref,
            base,
            body.get("title", f"#{body.get('issue')}"),
            self._user_or_none(ctx),
            body=body.get("body"),
            draft=body.get("draft", False),
            maintainer_can_modify=body.get("maintainer_can_modify", False),
        )
        data = self.pull_json(ctx, repo, pull)
        return Reply(201, data, {"Location": data["url"]})

    def add_pull(
        self,
        repo: GhRepo,
        number: int | None,
        head_ref: str,
        base_ref: str,
        title: str,
        author: str,
        *,
        body: str | None = None,
        draft: bool = False,
        state: str = "open",
        head_owner: str | None = None,
        head_sha: str | None = None,
        maintainer_can_modify: bool = False,
    ) -> GhPull:
        self.state.user(author)
        if number is None:
            number = repo.next_number
        if number in repo.pulls:
            raise ValueError(f"{repo.full_name}#{number} exists")
        repo.next_number = max(repo.next_number, number + 1)
        owner = head_owner or repo.owner
        fork = owner.lower() != repo.owner.lower()
        pull = GhPull(
            number,
            _next_id(),
            title,
            body,
            state,
            head_ref,
            owner,
            head_sha if fork else None,
            base_ref,
            author,
            draft,
            maintainer_can_modify,
        )
        if state == "closed":
            pull.closed_at = now_iso()
        repo.pulls[number] = pull
        return pull

    @route(
        "PATCH",
        REPO + r"/pulls/(?P<number>\d+)",
        "pulls/pulls#update-a-pull-request",
        "pull-requests",
    )
    def update_pull(self, ctx: Ctx) -> Reply:
        repo = self._repo(ctx)
        pull = self._pull_or_404(ctx, repo, int(ctx.params["number"]))
        self._allow(ctx, write=True)
        doc = ctx.doc
        body = self._fields(
            ctx,
            (),
            {"title": str, "body": str, "state": str, "base": str, "maintainer_can_modify": bool},
        )
        if "state" in body and body["state"] not in ("open", "closed"):
            raise validation_failed(
                doc, {"resource": "PullRequest", "field": "state", "code": "invalid"}
            )
        if "base" in body and body["base"] not in repo.git.branches:
            raise validation_failed(
                doc, {"resource": "PullRequest", "field": "base", "code": "invalid"}
            )
        new_state = body.get("state", pull.state)
        new_base = body.get("base", pull.base_ref)
        if new_state == "open" and self._open_duplicate(
            repo, pull.head_owner, pull.head_ref, new_base, pull.number
        ):
            raise validation_failed(
                doc,
                {
                    "resource": "PullRequest",
                    "code": "custom",
                    "message": "A pull request already exists for "
                    f"{pull.head_owner}:{pull.head_ref}.",
                },
            )
        if pull.merged_at is not None and new_state == "open":
            raise validation_failed(
                doc,
                {
                    "resource": "PullRequest",
                    "code": "custom",
                    "message": "Cannot reopen a merged pull request",
                },
            )
        pull.title = body.get("title", pull.title)
        pull.body = body.get("body", pull.body)
        pull.maintainer_can_modify = body.get("maintainer_can_modify", pull.maintainer_can_modify)
        pull.base_ref = new_base
        if new_state != pull.state:
            pull.closed_at = now_iso() if new_state == "closed" else None
            pull.state = new_state
        pull.updated_at = now_iso()
        return Reply(200, self.pull_json(ctx, repo, pull))

    @route(
        "GET",
        REPO + r"/commits/(?P<sha>[^/]+)/pulls",
        "commits/commits#list-pull-requests-associated-with-a-commit",
        "pull-requests",
    )
    def commit_pulls(self, ctx: Ctx) -> Reply:
        repo = self._repo(ctx)
        self._allow(ctx, write=False)
        sha = repo.git.resolve(ctx.params["sha"])
        if sha is None:
            raise error(422, f"No commit found for SHA: {ctx.params['sha']}", ctx.doc)
        pulls = [
            p
            for p in repo.pulls.values()
            if sha in repo.pull_commits(p) or sha == p.merge_commit_sha or sha == repo.head_sha(p)
        ]
        pulls.sort(key=lambda p: p.number, reverse=True)
        page = github_page(pulls, ctx.query)
        headers = {}
        link = github_link(ctx, self._link_path(repo, f"/commits/{sha}/pulls"), page)
        if link:
            headers["Link"] = link
        return Reply(200, [self.pull_json(ctx, repo, p, simple=True) for p in page.items], headers)

    # --- commits, refs, contents -------------------------------------------------------------

    @route("GET", REPO + r"/commits/(?P<ref>[^/]+)", "commits/commits#get-a-commit", "contents")
    def get_commit(self, ctx: Ctx) -> Reply:
        repo = self._repo(ctx)
        self._allow(ctx, write=False)
        sha = repo.git.resolve(ctx.params["ref"])
        if sha is None:
            raise error(422, f"No commit found for SHA: {ctx.params['ref']}", ctx.doc)
        commit = repo.git.commits[sha]
        api = f"{ctx.api_root}/repos/{repo.full_name}"
        person = {"name": commit.author_name, "email": commit.author_email, "date": commit.date}
        return Reply(
            200,
            {
                "sha": sha,
                "node_id": f"C_{sha}",
                "url": f"{api}/commits/{sha}",
                "html_url": f"{ctx.web_root}/{repo.full_name}/commit/{sha}",
                "commit": {
                    "author": person,
                    "committer": person,
                    "message": commit.message,
                    "tree": {"sha": commit.tree_sha, "url": f"{api}/git/trees/{commit.tree_sha}"},
                },
                "parents": [{"sha": p, "url": f"{api}/commits/{p}"} for p in commit.parents],
            },
        )

    @route("POST", REPO + r"/git/refs", "git/refs#create-a-reference", "contents")
    def create_ref(self, ctx: Ctx) -> Reply:
        repo = self._repo(ctx)
        self._allow(ctx, write=True)
        doc = ctx.doc
        body = self._fields(ctx, ("ref", "sha"), {"ref": str, "sha": str})
        ref, sha = body["ref"], body["sha"]
        if not ref.startswith("refs/") or ref.count("/") < 2:
            raise error(422, f"{ref} is not a valid ref name.", doc)
        if sha not in repo.git.commits:
            raise error(422, "Object does not exist", doc)
        kind, _, name = ref.removeprefix("refs/").partition("/")
        table = repo.git.branches if kind == "heads" else repo.git.tags if kind == "tags" else None
        if table is None:
            raise error(422, f"{ref} is not a valid ref name.", doc)
        if name in table:
            raise error(422, "Reference already exists", doc)
        table[name] = sha
        data = self.ref_json(ctx, repo, ref, sha)
        return Reply(201, data, {"Location": data["url"]})

    def _ref_table(self, repo: GhRepo, ref: str) -> tuple[dict[str, str] | None, str]:
        kind, _, name = ref.removeprefix("refs/").partition("/")
        if kind == "heads":
            return repo.git.branches, name
        if kind == "tags":
            return repo.git.tags, name
        return None, name

    @route("GET", REPO + r"/git/ref/(?P<ref>.+)", "git/refs#get-a-reference", "contents")
    def get_ref(self, ctx: Ctx) -> Reply:
        repo = self._repo(ctx)
        self._allow(ctx, write=False)
        table, name = self._ref_table(repo, ctx.params["ref"])
        if table is None or name not in table:
            raise error(404, "Not Found", ctx.doc)
        return Reply(
            200,
            self.ref_json(
                ctx, repo, "refs/" + ctx.params["ref"].removeprefix("refs/"), table[name]
            ),
        )

    @route("GET", REPO + r"/git/refs/(?P<ref>.+)", "git/refs#get-a-reference", "contents")
    def get_refs_legacy(self, ctx: Ctx) -> Reply:
        """`GET /git/refs/heads/x`: the ref itself, or every ref it is a prefix of (a list)."""
        repo = self._repo(ctx)
        self._allow(ctx, write=False)
        wanted = "refs/" + ctx.params["ref"].removeprefix("refs/")
        every = {f"refs/heads/{n}": s for n, s in repo.git.branches.items()}
        every.update({f"refs/tags/{n}": s for n, s in repo.git.tags.items()})
        if wanted in every:
            return Reply(200, self.ref_json(ctx, repo, wanted, every[wanted]))
        found = [
            self.ref_json(ctx, repo, r, s) for r, s in sorted(every.items()) if r.startswith(wanted)
        ]
        if not found:
            raise error(404, "Not Found", ctx.doc)
        return Reply(200, found)

    @route("PATCH", REPO + r"/git/refs/(?P<ref>.+)", "git/refs#update-a-reference", "contents")
    def update_ref(self, ctx: Ctx) -> Reply:
        repo = self._repo(ctx)
        self._allow(ctx, write=True)
        doc = ctx.doc
        body = self._fields(ctx, ("sha",), {"sha": str, "force": bool})
        table, name = self._ref_table(repo, ctx.params["ref"])
        if table is None or name not in table:
            raise error(422, "Reference does not exist", doc)
        sha = body["sha"]
        if sha not in repo.git.commits:
            raise error(422, "Object does not exist", doc)
        if not body.get("force", False) and not repo.git.is_ancestor(table[name], sha):
            raise error(422, "Update is not a fast forward", doc)
        table[name] = sha
        ref = "refs/" + ctx.params["ref"].removeprefix("refs/")
        return Reply(200, self.ref_json(ctx, repo, ref, sha))

    @route("DELETE", REPO + r"/git/refs/(?P<ref>.+)", "git/refs#delete-a-reference", "contents")
    def delete_ref(self, ctx: Ctx) -> Reply:
        repo = self._repo(ctx)
        self._allow(ctx, write=True)
        table, name = self._ref_table(repo, ctx.params["ref"])
        if table is None or name not in table:
            raise error(422, "Reference does not exist", ctx.doc)
        del table[name]
        return Reply(204)

    def _content_json(
        self, ctx: Ctx, repo: GhRepo, path: str, data: bytes, ref: str
    ) -> dict[str, Any]:
        api = f"{ctx.api_root}/repos/{repo.full_name}"
        sha = blob_sha(data)
        url = f"{api}/contents/{quote(path)}?ref={quote(ref, safe='')}"
        html = f"{ctx.web_root}/{repo.full_name}/blob/{ref}/{quote(path)}"
        git = f"{api}/git/blobs/{sha}"
        return {
            "type": "file",
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": sha,
            "size": len(data),
            "url": url,
            "html_url": html,
            "git_url": git,
            "download_url": f"{ctx.web_root}/raw/{repo.full_name}/{ref}/{quote(path)}",
            "_links": {"self": url, "git": git, "html": html},
        }

    @route(
        "GET",
        REPO + r"/contents/?(?P<path>.*)",
        "repos/contents#get-repository-content",
        "contents",
    )
    def get_contents(self, ctx: Ctx) -> Reply:
        repo = self._repo(ctx)
        self._allow(ctx, write=False)
        doc = ctx.doc
        ref = ctx.query.get("ref", repo.default_branch)
        sha = repo.git.resolve(ref)
        if sha is None:
            raise error(404, f"No commit found for the ref {ref}", doc)
        files = repo.git.commits[sha].files
        path = ctx.params["path"].strip("/")
        if path in files:
            data = files[path]
            if "raw" in ctx.headers.get("Accept", ""):
                return Reply(200, data, {"Content-Type": "application/vnd.github.raw"})
            encoded = base64.encodebytes(data).decode()  # GitHub wraps base64 at 60/76 columns too
            return Reply(
                200,
                {
                    **self._content_json(ctx, repo, path, data, ref),
                    "content": encoded,
                    "encoding": "base64",
                },
            )
        prefix = f"{path}/" if path else ""
        children: dict[str, dict[str, Any]] = {}
        for name, data in files.items():
            if not name.startswith(prefix):
                continue
            first, _, rest = name[len(prefix) :].partition("/")
            if rest:
                children.setdefault(
                    first,
                    {
                        **self._content_json(ctx, repo, prefix + first, b"", ref),
                        "type": "dir",
                        "size": 0,
                        "download_url": None,
                    },
                )
            else:
                children[first] = self._content_json(ctx, repo, name, data, ref)
        if not children:
            raise error(404, "Not Found", doc)
        return Reply(200, [children[k] for k in sorted(children)])

    @route(
        "PUT",
        REPO + r"/contents/(?P<path>.+)",
        "repos/contents#create-or-update-file-contents",
        "contents",
    )
    def put_contents(self, ctx: Ctx) -> Reply:
        repo = self._repo(ctx)
        self._allow(ctx, write=True)
        doc = ctx.doc
        person = (dict, type(None))
        body = self._fields(
            ctx,
            ("message", "content"),
            {
                "message": str,
                "content": str,
                "sha": str,
                "branch": str,
                "committer": person,
                "author": person,
            },
        )
        for who in ("committer", "author"):
            if isinstance(body.get(who), dict):
                for key in ("name", "email"):
                    if key not in body[who]:
                        raise invalid_request(doc, f'"{key}" wasn\'t supplied.')
        branch = body.get("branch") or repo.default_branch
        if branch not in repo.git.branches:
            raise error(404, f"Branch {branch} not found", doc)
        try:
            content = base64.b64decode(body["content"], validate=False)
            base64.b64decode("".join(body["content"].split()), validate=True)
        except (binascii.Error, ValueError):
            raise error(422, "content is not valid Base64", doc) from None
        path = ctx.params["path"].strip("/")
        head = repo.git.commits[repo.git.branches[branch]]
        existing = head.files.get(path)
        if existing is not None:
            if "sha" not in body:
                raise invalid_request(doc, '"sha" wasn\'t supplied.')
            if body["sha"] != blob_sha(existing):
                raise error(409, f"{path} does not match {body['sha']}", doc)
        author = body.get("author") or body.get("committer")
        if author is None and ctx.identity is not None:
            author = {
                "name": ctx.identity.name,
                "email": f"{ctx.identity.user_id}+{ctx.identity.login}@users.noreply.github.com",
            }
        author = author or {"name": "ghost", "email": "ghost@users.noreply.github.com"}
        files = {**head.files, path: content}
        commit = repo.git.commit(
            [head.sha], files, body["message"], (author["name"], author["email"])
        )
        repo.git.branches[branch] = commit.sha
        api = f"{ctx.api_root}/repos/{repo.full_name}"
        person = {"name": author["name"], "email": author["email"], "date": commit.date}
        data = {
            "content": self._content_json(ctx, repo, path, content, branch),
            "commit": {
                "sha": commit.sha,
                "node_id": f"C_{commit.sha}",
                "url": f"{api}/git/commits/{commit.sha}",
                "html_url": f"{ctx.web_root}/{repo.full_name}/commit/{commit.sha}",
                "author": person,
                "committer": person,
                "message": commit.message,
                "tree": {"sha": commit.tree_sha, "url": f"{api}/git/trees/{commit.tree_sha}"},
                "parents": [
                    {
                        "sha": p,
                        "url": f"{api}/git/commits/{p}",
                        "html_url": f"{ctx.web_root}/{repo.full_name}/commit/{p}",
                    }
                    for p in commit.parents
                ],
                "verification": {
                    "verified": False,
                    "reason": "unsigned",
                    "signature": None,
                    "payload": None,
                    "verified_at": None,
                },
            },
        }
        return Reply(200 if existing is not None else 201, data)

    # --- reviews and teams ---------------------------------------------------------------------

    def add_review(self, repo: GhRepo, pull: GhPull, user: str, state: str) -> GhReview:
        self.state.user(user)
        review = GhReview(next(self.state._review_ids), user, state, repo.head_sha(pull))
        pull.reviews.append(review)
        return review

    @route(
        "GET",
        REPO + r"/pulls/(?P<number>\d+)/reviews",
        "pulls/reviews#list-reviews-for-a-pull-request",
        "pull-requests",
    )
    def list_reviews(self, ctx: Ctx) -> Reply:
        repo = self._repo(ctx)
        pull = self._pull_or_404(ctx, repo, int(ctx.params["number"]))
        self._allow(ctx, write=False)
        page = github_page(pull.reviews, ctx.query)
        web = f"{ctx.web_root}/{repo.full_name}/pull/{pull.number}"
        data = [
            {
                "id": r.id,
                "node_id": f"PRR_{r.id}",
                "user": self.user_json(ctx, r.user),
                "body": r.body,
                "state": r.state,
                "html_url": f"{web}#pullrequestreview-{r.id}",
                "pull_request_url": f"{ctx.api_root}/repos/{repo.full_name}/pulls/{pull.number}",
                "submitted_at": r.submitted_at,
                "commit_id": r.commit_id,
                "author_association": "MEMBER",
            }
            for r in page.items
        ]
        headers = {}
        link = github_link(ctx, self._link_path(repo, f"/pulls/{pull.number}/reviews"), page)
        if link:
            headers["Link"] = link
        return Reply(200, data, headers)

    @route(
        "GET",
        REPO + r"/issues/(?P<number>\d+)/labels",
        "issues/labels#list-labels-for-an-issue",
        "issues",
    )
    def list_issue_labels(self, ctx: Ctx) -> Reply:
        """A pull request is an issue: its labels (only pull requests are issues here)."""
        repo = self._repo(ctx)
        pull = self._pull_or_404(ctx, repo, int(ctx.params["number"]))
        self._allow(ctx, write=False)
        page = github_page(pull.labels, ctx.query)
        data = [self.label_json(ctx, repo, name) for name in page.items]
        headers = {}
        path = f"/issues/{pull.number}/labels"
        if link := github_link(ctx, self._link_path(repo, path), page):
            headers["Link"] = link
        return Reply(200, data, headers)

    @route(
        "GET",
        r"/orgs/(?P<org>[^/]+)/teams/(?P<team>[^/]+)/memberships/(?P<username>[^/]+)",
        "teams/members#get-team-membership-for-a-user",
        "members",
    )
    def team_membership(self, ctx: Ctx) -> Reply:
        """200 with the membership, 404 for a team that does not exist or a non-member (and for
        a caller who may not see the team); an App token needs the `members` permission."""
        if ctx.identity is None:
            raise error(404, "Not Found", ctx.doc)
        self._allow(ctx, write=False)
        org, team, user = ctx.params["org"], ctx.params["team"], ctx.params["username"]
        members = self.state.teams.get((org.lower(), team.lower()))
        if members is None or user.lower() not in {m.lower() for m in members}:
            raise error(404, "Not Found", ctx.doc)
        url = f"{ctx.api_root}/organizations/1/team/1/memberships/{user}"
        return Reply(200, {"url": url, "role": "member", "state": "active"})

    # --- deployments and statuses ------------------------------------------------------------

    def deployment_json(self, ctx: Ctx, repo: GhRepo, dep: GhDeployment) -> dict[str, Any]:
        api = f"{ctx.api_root}/repos/{repo.full_name}"
        updated = dep.statuses[-1].created_at if dep.statuses else dep.created_at
        return {
            "url": f"{api}/deployments/{dep.id}",
            "id": dep.id,
            "node_id": f"DE_{dep.id}",
            "sha": dep.sha,
            "ref": dep.ref,
            "task": dep.task,
            "payload": dep.payload,
            "original_environment": dep.environment,
            "environment": dep.environment,
            "description": dep.description,
            "creator": self.user_json(ctx, dep.creator),
            "created_at": dep.created_at,
            "updated_at": updated,
            "statuses_url": f"{api}/deployments/{dep.id}/statuses",
            "repository_url": api,
            "transient_environment": dep.transient,
            "production_environment": dep.production,
            "performed_via_github_app": None,
        }

    def deployment_status_json(
        self, ctx: Ctx, repo: GhRepo, dep: GhDeployment, st: GhDeploymentStatus
    ) -> dict[str, Any]:
        api = f"{ctx.api_root}/repos/{repo.full_name}"
        return {
            "url": f"{api}/deployments/{dep.id}/statuses/{st.id}",
            "id": st.id,
            "node_id": f"DES_{st.id}",
            "state": st.state,
            "creator": self.user_json(ctx, st.creator),
            "description": st.description,
            "environment": st.environment,
            "target_url": st.target_url,
            "created_at": st.created_at,
            "updated_at": st.created_at,
            "deployment_url": f"{api}/deployments/{dep.id}",
            "repository_url": api,
            "environment_url": st.environment_url,
            "log_url": st.log_url,
            "performed_via_github_app": None,
        }

    def _latest_statuses(self, repo: GhRepo, sha: str) -> dict[str, GhStatus]:
        latest: dict[str, GhStatus] = {}
        for status in repo.statuses.get(sha, []):
            latest[status.context] = status
        return latest

    @route(
        "POST", REPO + r"/deployments", "deployments/deployments#create-a-deployment", "deployments"
    )
    def create_deployment(self, ctx: Ctx) -> Reply:
        repo = self._repo(ctx)
        self._allow(ctx, write=True)
        doc = ctx.doc
        body = self._fields(
            ctx,
            ("ref",),
            {
                "ref": str,
                "task": str,
                "auto_merge": bool,
                "required_contexts": list,
                "payload": (dict, str),
                "environment": str,
                "description": (str, type(None)),
                "transient_environment": bool,
                "production_environment": bool,
            },
        )
        contexts = body.get("required_contexts")
        if contexts is not None and not all(isinstance(c, str) for c in contexts):
            raise invalid_request(doc, "For 'items', value is not a string.")
        ref = body["ref"]
        sha = repo.git.resolve(ref)
        if sha is None:
            raise error(422, f"No ref found for: {ref}", doc)
        default_sha = repo.git.branches[repo.default_branch]
        if (
            body.get("auto_merge", True)
            and ref != repo.default_branch
            and not repo.git.is_ancestor(default_sha, sha)
        ):
            if ref in repo.git.branches:
                merged = {**repo.git.commits[default_sha].files, **repo.git.commits[sha].files}
                commit = repo.git.commit(
                    [sha, default_sha], merged, f"Merge {repo.default_branch} into {ref}"
                )
                repo.git.branches[ref] = commit.sha
                return Reply(
                    202, {"message": f"Auto-merged {repo.default_branch} into {ref} on deployment."}
                )
            raise error(409, f"Conflict merging {repo.default_branch} into {ref}.", doc)
        latest = self._latest_statuses(repo, sha)
        wanted = list(latest) if contexts is None else contexts
        failing = [c for c in wanted if c not in latest or latest[c].state != "success"]
        if failing:
            shown = [
                {"context": c, "state": latest[c].state if c in latest else "missing"}
                for c in wanted
            ]
            raise error(
                409,
                f"Conflict: Commit status checks failed for {ref}.",
                doc,
                errors=[
                    {
                        "contexts": shown,
                        "resource": "Deployment",
                        "field": "required_contexts",
                        "code": "invalid",
                    }
                ],
            )
        environment = body.get("environment", "production")
        dep = GhDeployment(
            _next_id(),
            sha,
            ref,
            body.get("task", "deploy"),
            environment,
            body.get("payload", {}),
            body.get("description", ""),
            self._user_or_none(ctx),
            body.get("transient_environment", False),
            body.get("production_environment", environment == "production"),
            now_iso(),
        )
        repo.deployments[dep.id] = dep
        return Reply(201, self.deployment_json(ctx, repo, dep))

    @route("GET", REPO + r"/deployments", "deployments/deployments#list-deployments", "deployments")
    def list_deployments(self, ctx: Ctx) -> Reply:
        repo = self._repo(ctx)
        self._allow(ctx, write=False)
        deps = sorted(repo.deployments.values(), key=lambda d: d.id, reverse=True)
        for key in ("sha", "ref", "task", "environment"):
            if key in ctx.query:
                deps = [d for d in deps if getattr(d, key) == ctx.query[key]]
        page = github_page(deps, ctx.query)
        headers = {}
        link = github_link(ctx, self._link_path(repo, "/deployments"), page)
        if link:
            headers["Link"] = link
        return Reply(200, [self.deployment_json(ctx, repo, d) for d in page.items], headers)

    def _deployment_or_404(self, ctx: Ctx, repo: GhRepo) -> GhDeployment:
        dep = repo.deployments.get(int(ctx.params["id"]))
        if dep is None:
            raise error(404, "Not Found", ctx.doc)
        return dep

    @route(
        "GET",
        REPO + r"/deployments/(?P<id>\d+)",
        "deployments/deployments#get-a-deployment",
        "deployments",
    )
    def get_deployment(self, ctx: Ctx) -> Reply:
        repo = self._repo(ctx)
        self._allow(ctx, write=False)
        return Reply(200, self.deployment_json(ctx, repo, self._deployment_or_404(ctx, repo)))

    @route(
        "GET",
        REPO + r"/deployments/(?P<id>\d+)/statuses",
        "deployments/statuses#list-deployment-statuses",
        "deployments",
    )
    def list_deployment_statuses(self, ctx: Ctx) -> Reply:
        repo = self._repo(ctx)
        self._allow(ctx, write=False)
        dep = self._deployment_or_404(ctx, repo)
        statuses = sorted(dep.statuses, key=lambda s: s.id, reverse=True)
        page = github_page(statuses, ctx.query)
        headers = {}
        link = github_link(ctx, self._link_path(repo, f"/deployments/{dep.id}/statuses"), page)
        if link:
            headers["Link"] = link
        return Reply(
            200, [self.deployment_status_json(ctx, repo, dep, s) for s in page.items], headers
        )

    @route(
        "POST",
        REPO + r"/deployments/(?P<id>\d+)/statuses",
        "deployments/statuses#create-a-deployment-status",
        "deployments",
    )
    def create_deployment_status(self, ctx: Ctx) -> Reply:
        repo = self._repo(ctx)
        self._allow(ctx, write=True)
        doc = ctx.doc
        dep = self._deployment_or_404(ctx, repo)
        body = self._fields(
            ctx,
            ("state",),
            {
                "state": str,
                "target_url": str,
                "log_url": str,
                "description": str,
                "environment": str,
                "environment_url": str,
                "auto_inactive": bool,
            },
        )
        if body["state"] not in DEPLOYMENT_STATES:
            raise validation_failed(
                doc,
                {
                    "resource": "DeploymentStatus",
                    "code": "custom",
                    "field": "state",
                    "message": "state is not included in the list",
                },
            )
        description = body.get("description", "")
        if len(description) > DEPLOY_STATUS_DESCRIPTION_MAX:
            raise validation_failed(
                doc,
                {
                    "resource": "DeploymentStatus",
                    "code": "custom",
                    "field": "description",
                    "message": "description is too long "
                    f"(maximum is {DEPLOY_STATUS_DESCRIPTION_MAX} characters)",
                },
            )
        if "environment" in body:
            dep.environment = body["environment"]
        log_url = body.get("log_url", body.get("target_url", ""))
        status = GhDeploymentStatus(
            _next_id(),
            body["state"],
            description,
            dep.environment,
            body.get("target_url", log_url),
            log_url,
            body.get("environment_url", ""),
            self._user_or_none(ctx),
            now_iso(),
        )
        dep.statuses.append(status)
        if status.state == "success" and body.get("auto_inactive", True):
            for other in repo.deployments.values():
                last = other.statuses[-1] if other.statuses else None
                if (
                    other is dep
                    or other.environment != dep.environment
                    or other.transient
                    or last is None
                ):
                    continue
                if last.state == "success":
                    other.statuses.append(
                        GhDeploymentStatus(
                            _next_id(),
                            "inactive",
                            "",
                            other.environment,
                            "",
                            "",
                            "",
                            status.creator,
                            now_iso(),
                        )
                    )
        data = self.deployment_status_json(ctx, repo, dep, status)
        return Reply(201, data, {"Location": data["url"]})

    def status_json(self, ctx: Ctx, repo: GhRepo, st: GhStatus) -> dict[str, Any]:
        user = self.user_json(ctx, st.creator)
        return {
            "url": f"{ctx.api_root}/repos/{repo.full_name}/statuses/{st.sha}",
            "avatar_url": user["avatar_url"],
            "id": st.id,
            "node_id": f"SC_{st.id}",
            "state": st.state,
            "description": st.description,
            "target_url": st.target_url,
            "context": st.context,
            "created_at": st.created_at,
            "updated_at": st.created_at,
            "creator": user,
        }

    def add_status(
        self,
        repo: GhRepo,
        sha: str,
        state: str,
        context: str,
        creator: str,
        target_url: str | None = None,
        description: str | None = None,
    ) -> GhStatus:
        status = GhStatus(
            _next_id(), sha, state, target_url, description, context, creator, now_iso()
        )
        repo.statuses.setdefault(sha, []).append(status)
        return status

    @route(
        "POST",
        REPO + r"/statuses/(?P<sha>[^/]+)",
        "commits/statuses#create-a-commit-status",
        "statuses",
    )
    def create_status(self, ctx: Ctx) -> Reply:
        repo = self._repo(ctx)
        self._allow(ctx, write=True)
        doc = ctx.doc
        sha = ctx.params["sha"]
        body = self._fields(
            ctx,
            ("state",),
            {
                "state": str,
                "target_url": (str, type(None)),
                "description": (str, type(None)),
                "context": str,
            },
        )
        if sha not in repo.git.commits:
            raise error(422, f"No commit found for SHA: {sha}", doc)
        if body["state"] not in COMMIT_STATES:
            raise validation_failed(
                doc,
                {
                    "resource": "Status",
                    "code": "custom",
                    "field": "state",
                    "message": "state is not included in the list",
                },
            )
        context = body.get("context", "default")
        same = [s for s in repo.statuses.get(sha, []) if s.context == context]
        if len(same) >= STATUSES_PER_CONTEXT_MAX:
            raise validation_failed(
                doc,
                {
                    "resource": "Status",
                    "code": "custom",
                    "message": "This SHA and context has reached the maximum number of statuses.",
                },
            )
        status = self.add_status(
            repo,
            sha,
            body["state"],
            context,
            self._user_or_none(ctx),
            body.get("target_url"),
            body.get("description"),
        )
        data = self.status_json(ctx, repo, status)
        return Reply(201, data, {"Location": data["url"]})

    @route(
        "GET",
        REPO + r"/commits/(?P<ref>.+)/status",
        "commits/statuses#get-the-combined-status-for-a-specific-reference",
        "statuses",
    )
    def combined_status(self, ctx: Ctx) -> Reply:
        repo = self._repo(ctx)
        self._allow(ctx, write=False)
        sha = repo.git.resolve(ctx.params["ref"])
        if sha is None:
            raise error(404, f"No commit found for SHA: {ctx.params['ref']}", ctx.doc)
        latest = list(self._latest_statuses(repo, sha).values())
        states = {s.state for s in latest}
        state = (
            "failure"
            if states & {"error", "failure"}
            else "pending"
            if not latest or "pending" in states
            else "success"
        )
        full = self.repo_json(ctx, repo)
        return Reply(
            200,
            {
                "state": state,
                "statuses": [
                    {k: v for k, v in self.status_json(ctx, repo, s).items() if k != "creator"}
                    for s in latest
                ],
                "sha": sha,
                "total_count": len(latest),
                "repository": full,
                "commit_url": f"{ctx.api_root}/repos/{repo.full_name}/commits/{sha}",
                "url": f"{ctx.api_root}/repos/{repo.full_name}/commits/{sha}/status",
            },
        )


def secondary_limit_body() -> dict[str, str]:
    return {
        "message": SECONDARY_LIMIT_MESSAGE,
        "documentation_url": SECONDARY_LIMIT_DOCS,
        "status": "403",
    }
