"""GitLab v4 REST API half of the test forge: state, Grape-style validation, GitLab's messages.

The job token follows GitLab's rule (``find_user_from_job_token`` returns nothing unless the
route sets ``job_token_allowed``): on any other route the token is simply not seen, so the
request is anonymous and fails the way anonymous requests fail there (401, or 404 for a private
project), not with a tidy 403.

Sources: gitlabhq `lib/api/notes.rb`, `helpers.rb` (`bad_request!`, `not_found!`),
`auth_finders.rb`, `branches.rb` with `Branches::CreateService`, `deployments.rb`,
`commit_statuses.rb`, `helpers/merge_requests_helpers.rb`; observed answers in NARKOZ/gitlab#610
(note too long), python-gitlab users' logs (409 for a second open MR), yaoyuannnn/gerritlab#87.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from forge_core import (
    ApiError,
    Ctx,
    GitModel,
    Identity,
    RateBudget,
    RateConfig,
    Reply,
    blob_sha,
    gitlab_headers,
    gitlab_page,
    now_iso,
)

NOTE_MAX = 1_000_000
TITLE_MAX = 255
MR_STATES = ("opened", "closed", "locked", "merged", "all")
DEPLOYMENT_STATUSES = ("running", "success", "failed", "canceled")
COMMIT_STATUSES = ("pending", "running", "success", "failed", "canceled")
ACTIONS = ("create", "delete", "move", "update", "chmod")
BRANCH_NAME = re.compile(r"^(?!/)(?!.*(?:\.\.|//|@\{|\.lock$|/$|\.$))[^\s~^:?*\[\\]+$")

_ids = itertools.count(5001)


def _next_id() -> int:
    return next(_ids)


def message(status: int, text: Any) -> ApiError:
    return ApiError(status, {"message": text})


def grape(text: str) -> ApiError:
    """Grape's parameter validation failure: `{"error": "title is missing"}`."""
    return ApiError(400, {"error": text})


UNAUTHORIZED = {"message": "401 Unauthorized"}
EXISTS = "Another open merge request already exists for this source branch: !"


@dataclass
class GlUser:
    username: str
    id: int
    name: str
    bot: bool = False


@dataclass
class GlNote:
    id: int
    iid: int
    body: str
    author: str
    system: bool
    created_at: str
    updated_at: str


@dataclass
class GlMr:
    iid: int
    id: int
    title: str
    description: str | None
    state: str
    source_branch: str
    target_branch: str
    author: str
    created_at: str = field(default_factory=lambda: now_iso(ms=True))
    updated_at: str = field(default_factory=lambda: now_iso(ms=True))
    draft: bool = False
    merged_commits: list[str] = field(default_factory=list)
    merge_commit_sha: str | None = None
    remove_source_branch: bool | None = None
    labels: list[str] = field(default_factory=list)
    approved_by: list[str] = field(default_factory=list)
    merged_by: str | None = None


@dataclass
class GlEnvironment:
    id: int
    name: str
    created_at: str
    external_url: str | None = None


@dataclass
class GlDeployment:
    id: int
    iid: int
    ref: str
    sha: str
    tag: bool
    status: str
    environment: GlEnvironment
    user: str
    created_at: str
    updated_at: str


@dataclass
class GlStatus:
    id: int
    sha: str
    ref: str
    status: str
    name: str
    target_url: str | None
    description: str | None
    coverage: float | None
    author: str
    created_at: str
    pipeline_id: int
    started_at: str | None = None
    finished_at: str | None = None


class GlProject:
    """One project: its git, merge requests, notes, deployments and commit statuses."""

    def __init__(self, path: str, project_id: int, default_branch: str, visibility: str) -> None:
        self.path, self.id = path, project_id
        self.default_branch = default_branch
        self.visibility = visibility
        self.git = GitModel()
        self.mrs: dict[int, GlMr] = {}
        self.notes: dict[int, GlNote] = {}
        self.environments: dict[str, GlEnvironment] = {}
        self.deployments: dict[int, GlDeployment] = {}
        self.statuses: list[GlStatus] = []
        self.next_iid = 1
        self.next_deployment_iid = 1
        self.created_at = now_iso(ms=True)

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    def head_sha(self, mr: GlMr) -> str:
        if mr.state == "merged" and mr.merged_commits:
            return mr.merged_commits[-1]
        return self.git.branches.get(mr.source_branch, "")

    def mr_commits(self, mr: GlMr) -> list[str]:
        if mr.state == "merged":
            return mr.merged_commits
        head = self.git.branches.get(mr.source_branch)
        base = self.git.branches.get(mr.target_branch)
        if head is None:
            return []
        return self.git.between(base, head) if base else [head]


class GitLabState:
    """Everything the GitLab half knows; guarded by the server's lock."""

    def __init__(self) -> None:
        self.projects: dict[int, GlProject] = {}
        self.users: dict[str, GlUser] = {}
        self.tokens: dict[str, Identity] = {}
        self.rate = RateConfig(limit=2000, reset_in=60.0)
        self.budgets: dict[str, RateBudget] = {}
        self._user_ids = itertools.count(101)
        self._project_ids = itertools.count(42)
        self.groups: dict[str, set[str]] = {}  # group full path -> member usernames (inherited)

    def user(self, username: str, name: str | None = None, bot: bool = False) -> GlUser:
        if username not in self.users:
            self.users[username] = GlUser(username, next(self._user_ids), name or username, bot)
        return self.users[username]

    def project(self, ref: str | int) -> GlProject | None:
        if isinstance(ref, int) or str(ref).isdigit():
            return self.projects.get(int(ref))
        for project in self.projects.values():
            if project.path.lower() == str(ref).lower():
                return project
        return None

    def add_project(
        self, path: str, project_id: int | None, default_branch: str, visibility: str
    ) -> GlProject:
        if "/" not in path:
            raise ValueError(f"project path must be namespace/name: {path!r}")
        pid = project_id if project_id is not None else next(self._project_ids)
        if pid in self.projects:
            raise ValueError(f"project id {pid} is taken")
        project = GlProject(path, pid, default_branch, visibility)
        self.projects[pid] = project
        return project


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    func: Callable[[Ctx], Reply] | None
    job_token: bool = False  # `route_setting :authentication, job_token_allowed: true`
    anonymous: str = "auth"  # what an anonymous caller gets: "auth" -> 401, "project" -> lookup


P = r"/projects/(?P<id>[^/]+)"
MR = P + r"/merge_requests/(?P<iid>\d+)"


def route(
    method: str, pattern: str, job_token: bool = False, anonymous: str = "auth"
) -> Callable[[Any], Any]:
    """Mark a handler: `job_token` is GitLab's `job_token_allowed` route setting; `anonymous`
    is what a caller without (usable) credentials gets: "auth" -> 401, "project" -> the project
    lookup (404 for a private project)."""

    def mark(func: Any) -> Any:
        func.route = (method, pattern, job_token, anonymous)
        return func

    return mark


def _truthy(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "1", "yes", "t"):
        return True
    if str(value).lower() in ("false", "0", "no", "f"):
        return False
    raise grape(f"{name} is invalid")


class GitLabApi:
    """Routes a request to a handler; authentication (incl. job token rules), rate limit."""

    def __init__(self, state: GitLabState) -> None:
        self.state = state
        self.routes = [
            Route(m, re.compile(pattern + "$"), getattr(self, f.__name__), job_token, anonymous)
            for f in vars(GitLabApi).values()
            if hasattr(f, "route")
            for m, pattern, job_token, anonymous in [f.route]
        ]

    # --- entry point -------------------------------------------------------------------------

    def handle(self, ctx: Ctx) -> Reply:
        budget: RateBudget | None = None
        try:
            route, params = self._match(ctx.method, ctx.path)
            ctx.params = params
            try:
                ctx.identity = self._authenticate(ctx, route)
            except ApiError:
                budget = self._budget(None)
                self._spend(budget)
                raise
            budget = self._budget(ctx.identity)
            self._spend(budget)
            if route.func is None:
                raise ApiError(404, {"error": "404 Not Found"})
            self._check_scope(ctx)
            ctx.body = self._params(ctx)
            ctx.scope = route.anonymous
            reply = route.func(ctx)
        except ApiError as exc:
            reply = Reply(exc.status, exc.body, exc.headers)
        headers = {
            "X-Request-Id": "01FORGE0000000000000000000",
            "X-Gitlab-Meta": '{"correlation_id":"forge"}',
        }
        if budget is not None:
            headers.update(self.rate_headers(budget, ctx.identity))
        reply.headers = {**headers, **reply.headers}
        return reply

    def rate_headers(self, budget: RateBudget, identity: Identity | None) -> dict[str, str]:
        return {
            "RateLimit-Name": "throttle_authenticated_api"
            if identity
            else "throttle_unauthenticated_api",
            "RateLimit-Limit": str(budget.limit),
            "RateLimit-Observed": str(budget.used),
            "RateLimit-Remaining": str(budget.remaining),
            "RateLimit-Reset": str(budget.reset),
            "RateLimit-ResetTime": formatdate(budget.reset, usegmt=True),
        }

    def _match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route, or a stand-in without a handler (authenticated, then 404) when none fits."""
        for route in self.routes:
            match = route.pattern.match(path)
            if route.method == method and match:
                return route, {k: unquote(v) for k, v in match.groupdict().items()}
        return Route(method, re.compile(""), None), {}

    def _authenticate(self, ctx: Ctx, route: Route) -> Identity | None:
        private = ctx.headers.get("PRIVATE-TOKEN") or ctx.query.get("private_token")
        auth = ctx.headers.get("Authorization", "")
        bearer = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        job = ctx.headers.get("JOB-TOKEN") or ctx.query.get("job_token")
        if private or bearer:
            identity = self.state.tokens.get(private or bearer or "")
            if identity is not None and identity.kind == "gitlab-job":
                if bearer and route.job_token:  # job tokens also work as Bearer where allowed
                    return identity
                identity = None
            if identity is None:
                raise ApiError(401, UNAUTHORIZED)
            return identity
        if job:
            if not route.job_token:
                return None  # GitLab does not look at the job token here: anonymous
            identity = self.state.tokens.get(job)
            if identity is None or identity.kind != "gitlab-job":
                raise ApiError(401, UNAUTHORIZED)
            return identity
        return None

    def _budget(self, identity: Identity | None) -> RateBudget:
        key = identity.token if identity else "anonymous"
        budget = self.state.budgets.get(key)
        if budget is None:
            budget = self.state.budgets[key] = self.state.rate.budget()
        budget.refresh()
        return budget

    def budget_for(self, identity: Identity | None) -> RateBudget:
        return self._budget(identity)

    def _spend(self, budget: RateBudget) -> None:
        if budget.remaining <= 0:
            wait = max(1, budget.reset - int(time.time()))
            raise ApiError(429, "Retry later\n", {"Retry-After": str(wait)})
        budget.remaining -= 1

    def _check_scope(self, ctx: Ctx) -> None:
        identity = ctx.identity
        if identity and ctx.method != "GET" and "api" not in identity.scopes:
            raise ApiError(
                403,
                {
                    "error": "insufficient_scope",
                    "error_description": "The request requires higher privileges than provided "
                    "by the access token.",
                    "scope": "api",
                },
            )

    def _params(self, ctx: Ctx) -> dict[str, Any]:
        """Grape merges query, JSON and form parameters into one bag."""
        params: dict[str, Any] = dict(ctx.query)
        raw = ctx.raw_body
        if raw:
            kind = ctx.headers.get("Content-Type", "")
            if "json" in kind:
                try:
                    body = json.loads(raw)
                except (ValueError, UnicodeDecodeError):
                    raise ApiError(
                        400,
                        {"error": "The provided content-type 'application/json' is not supported."},
                    ) from None
                if isinstance(body, dict):
                    params.update(body)
            else:
                params.update(parse_qsl(raw.decode(errors="replace"), keep_blank_values=True))
        return params

    # --- shared checks -----------------------------------------------------------------------

    def _project(self, ctx: Ctx) -> GlProject:
        project = self.state.project(ctx.params["id"])
        identity = ctx.identity
        visible = project is not None and (identity is not None or project.visibility == "public")
        if identity is not None and identity.kind == "gitlab-job" and project is not None:
            visible = (
                visible
                and identity.project is not None
                and self.state.project(identity.project) is project
            )
        if project is None or not visible:
            raise message(404, "404 Project Not Found")
        return project

    def _authenticated(self, ctx: Ctx) -> Identity:
        if ctx.identity is None:
            raise ApiError(401, UNAUTHORIZED)
        return ctx.identity

    def _writer(self, ctx: Ctx) -> Identity:
        """Anonymous callers on a public project reach the permission check: 403."""
        if ctx.identity is None:
            raise message(403, "403 Forbidden")
        return ctx.identity

    def _require(self, params: dict[str, Any], *names: str, allow_blank: bool = False) -> None:
        missing = [n for n in names if n not in params or params[n] is None]
        if missing:
            raise grape(", ".join(f"{n} is missing" for n in missing))
        if allow_blank:
            return
        empty = [n for n in names if isinstance(params[n], str) and not params[n].strip()]
        if empty:
            raise grape(", ".join(f"{n} is empty" for n in empty))

    def _values(self, params: dict[str, Any], name: str, allowed: tuple[str, ...]) -> None:
        if name in params and params[name] not in allowed:
            raise grape(f"{name} does not have a valid value")

    def _mr_or_404(self, project: GlProject, ctx: Ctx) -> GlMr:
        mr = project.mrs.get(int(ctx.params["iid"]))
        if mr is None:
            raise message(404, "404 Merge Request Not Found")
        return mr

    # --- JSON shapes -------------------------------------------------------------------------

    def user_json(self, ctx: Ctx, username: str) -> dict[str, Any]:
        user = self.state.user(username)
        return {
            "id": user.id,
            "username": user.username,
            "name": user.name,
            "state": "active",
            "locked": False,
            "avatar_url": f"{ctx.web_root}/uploads/-/system/user/avatar/{user.id}/avatar.png",
            "web_url": f"{ctx.web_root}/{user.username}",
        }

    def project_json(self, ctx: Ctx, project: GlProject) -> dict[str, Any]:
        namespace, _, _ = project.path.rpartition("/")
        web = f"{ctx.web_root}/{project.path}"
        return {
            "id": project.id,
            "description": None,
            "name": project.name,
            "name_with_namespace": project.path.replace("/", " / "),
            "path": project.name,
            "path_with_namespace": project.path,
            "created_at": project.created_at,
            "default_branch": project.default_branch,
            "tag_list": [],
            "topics": [],
            "ssh_url_to_repo": f"git@127.0.0.1:{project.path}.git",
            "http_url_to_repo": f"{web}.git",
            "web_url": web,
            "visibility": project.visibility,
            "namespace": {
                "id": project.id + 1000,
                "name": namespace,
                "path": namespace,
                "kind": "group",
                "full_path": namespace,
                "web_url": f"{ctx.web_root}/groups/{namespace}",
            },
            "merge_requests_enabled": True,
            "archived": False,
            "empty_repo": not project.git.branches,
        }

    def mr_json(self, ctx: Ctx, project: GlProject, mr: GlMr) -> dict[str, Any]:
        base = project.git.branches.get(mr.target_branch)
        head = project.head_sha(mr)
        notes = sum(1 for n in project.notes.values() if n.iid == mr.iid and not n.system)
        closed = mr.state in ("closed", "merged")
        return {
            "id": mr.id,
            "iid": mr.iid,
            "project_id": project.id,
            "title": mr.title,
            "description": mr.description,
            "state": mr.state,
            "created_at": mr.created_at,
            "updated_at": mr.updated_at,
            "merged_by": self.user_json(ctx, mr.merged_by) if mr.merged_by else None,
            "merge_user": self.user_json(ctx, mr.merged_by) if mr.merged_by else None,
            "merged_at": mr.updated_at if mr.state == "merged" else None,
            "closed_by": None,
            "closed_at": mr.updated_at if mr.state == "closed" else None,
            "target_branch": mr.target_branch,
            "source_branch": mr.source_branch,
            "user_notes_count": notes,
            "upvotes": 0,
            "downvotes": 0,
            "author": self.user_json(ctx, mr.author),
            "assignees": [],
            "assignee": None,
            "reviewers": [],
            "source_project_id": project.id,
            "target_project_id": project.id,
            "labels": mr.labels,
            "draft": mr.draft,
            "work_in_progress": mr.draft,
            "milestone": None,
            "merge_when_pipeline_succeeds": False,
            "merge_status": "can_be_merged",
            "detailed_merge_status": "not_open" if closed else "mergeable",
            "sha": head,
            "merge_commit_sha": mr.merge_commit_sha,
            "squash_commit_sha": None,
            "discussion_locked": None,
            "should_remove_source_branch": None,
            "force_remove_source_branch": mr.remove_source_branch,
            "prepared_at": mr.created_at,
            "reference": f"!{mr.iid}",
            "references": {
                "short": f"!{mr.iid}",
                "relative": f"!{mr.iid}",
                "full": f"{project.path}!{mr.iid}",
            },
            "web_url": f"{ctx.web_root}/{project.path}/-/merge_requests/{mr.iid}",
            "time_stats": {
                "time_estimate": 0,
                "total_time_spent": 0,
                "human_time_estimate": None,
                "human_total_time_spent": None,
            },
            "squash": False,
            "squash_on_merge": False,
            "task_completion_status": {"count": 0, "completed_count": 0},
            "has_conflicts": False,
            "blocking_discussions_resolved": True,
            "diff_refs": {"base_sha": base, "head_sha": head, "start_sha": base},
        }

    def note_json(self, ctx: Ctx, project: GlProject, note: GlNote) -> dict[str, Any]:
        mr = project.mrs[note.iid]
        return {
            "id": note.id,
            "type": None,
            "body": note.body,
            "attachment": None,
            "author": self.user_json(ctx, note.author),
            "created_at": note.created_at,
            "updated_at": note.updated_at,
            "system": note.system,
            "noteable_id": mr.id,
            "noteable_type": "MergeRequest",
            "project_id": project.id,
            "commit_id": None,
            "resolvable": False,
            "confidential": False,
            "internal": False,
            "imported": False,
            "imported_from": "none",
            "noteable_iid": mr.iid,
            "commands_changes": {},
        }

    def commit_json(
        self, ctx: Ctx, project: GlProject, sha: str, detail: bool = False
    ) -> dict[str, Any]:
        commit = project.git.commits[sha]
        data: dict[str, Any] = {
            "id": sha,
            "short_id": sha[:8],
            "created_at": commit.date,
            "parent_ids": commit.parents,
            "title": commit.message.splitlines()[0] if commit.message else "",
            "message": commit.message,
            "author_name": commit.author_name,
            "author_email": commit.author_email,
            "authored_date": commit.date,
            "committer_name": commit.author_name,
            "committer_email": commit.author_email,
            "committed_date": commit.date,
            "trailers": {},
            "extended_trailers": {},
            "web_url": f"{ctx.web_root}/{project.path}/-/commit/{sha}",
        }
        if detail:
            data.update(
                stats={"additions": 0, "deletions": 0, "total": 0},
                status=None,
                project_id=project.id,
                last_pipeline=None,
            )
        return data

    def branch_json(self, ctx: Ctx, project: GlProject, name: str) -> dict[str, Any]:
        return {
            "name": name,
            "commit": self.commit_json(ctx, project, project.git.branches[name]),
            "merged": False,
            "protected": name == project.default_branch,
            "developers_can_push": False,
            "developers_can_merge": False,
            "can_push": True,
            "default": name == project.default_branch,
            "web_url": f"{ctx.web_root}/{project.path}/-/tree/{name}",
        }

    # --- user, project -----------------------------------------------------------------------

    @route("GET", r"/user")
    def get_user(self, ctx: Ctx) -> Reply:
        identity = self._authenticated(ctx)
        user = self.state.user(identity.login, identity.name)
        data = self.user_json(ctx, identity.login)
        data.update(
            created_at="2020-01-01T00:00:00.000Z",
            bio="",
            bot=user.bot,
            is_admin=False,
            email=f"{identity.login}@forge.test",
            public_email=None,
        )
        return Reply(200, data)

    @route("GET", P, anonymous="project")
    def get_project(self, ctx: Ctx) -> Reply:
        return Reply(200, self.project_json(ctx, self._project(ctx)))

    # --- merge requests ----------------------------------------------------------------------

    @route("GET", P + r"/merge_requests", job_token=True, anonymous="project")
    def list_mrs(self, ctx: Ctx) -> Reply:
        project = self._project(ctx)
        params = ctx.body
        self._values(params, "state", MR_STATES)
        self._values(params, "order_by", ("created_at", "updated_at", "title", "merged_at"))
        self._values(params, "sort", ("asc", "desc"))
        mrs = list(project.mrs.values())
        state = params.get("state", "all")
        if state != "all":
            mrs = [m for m in mrs if m.state == state]
        for key in ("source_branch", "target_branch"):
            if key in params:
                mrs = [m for m in mrs if getattr(m, key) == params[key]]
        order = params.get("order_by", "created_at")
        mrs.sort(
            key=lambda m: (m.updated_at if order == "updated_at" else m.created_at, m.id),
            reverse=params.get("sort", "desc") == "desc",
        )
        page = gitlab_page(mrs, ctx.query)
        return Reply(
            200, [self.mr_json(ctx, project, m) for m in page.items], gitlab_headers(ctx, page)
        )

    @route("GET", MR, job_token=True, anonymous="project")
    def get_mr(self, ctx: Ctx) -> Reply:
        project = self._project(ctx)
        return Reply(200, self.mr_json(ctx, project, self._mr_or_404(project, ctx)))

    def _open_conflict(
        self, project: GlProject, source: str, target: str, skip: int = 0
    ) -> GlMr | None:
        for mr in project.mrs.values():
            if (
                mr.state == "opened"
                and mr.source_branch == source
                and mr.target_branch == target
                and mr.iid != skip
            ):
                return mr
        return None

    @route("POST", P + r"/merge_requests")
    def create_mr(self, ctx: Ctx) -> Reply:
        identity = self._authenticated(ctx)
        project = self._project(ctx)
        params = ctx.body
        self._require(params, "title", "source_branch", "target_branch")
        source, target, title = params["source_branch"], params["target_branch"], params["title"]
        if source == target:
            raise message(422, ["You can't use same project/branch for source and target"])
        errors: dict[str, list[str]] = {}
        if source not in project.git.branches:
            errors["source_branch"] = ["does not exist"]
        if target not in project.git.branches:
            errors["target_branch"] = ["does not exist"]
        if len(title) > TITLE_MAX:
            errors["title"] = [f"is too long (maximum is {TITLE_MAX} characters)"]
        if errors:
            raise message(400, errors)
        conflict = self._open_conflict(project, source, target)
        if conflict:
            raise message(
                409,
                [EXISTS + f"{conflict.iid}"],
            )
        mr = self.add_mr(
            project,
            None,
            source,
            target,
            title,
            identity.login,
            description=params.get("description"),
        )
        if "remove_source_branch" in params:
            mr.remove_source_branch = _truthy(
                params["remove_source_branch"], "remove_source_branch"
            )
        labels = params.get("labels")
        if labels:
            mr.labels = (
                labels if isinstance(labels, list) else [x for x in str(labels).split(",") if x]
            )
        return Reply(201, self.mr_json(ctx, project, mr))

    def add_mr(
        self,
        project: GlProject,
        iid: int | None,
        source: str,
        target: str,
        title: str,
        author: str,
        *,
        description: str | None = None,
        state: str = "opened",
    ) -> GlMr:
        self.state.user(author)
        iid = project.next_iid if iid is None else iid
        if iid in project.mrs:
            raise ValueError(f"{project.path}!{iid} exists")
        project.next_iid = max(project.next_iid, iid + 1)
        mr = GlMr(iid, _next_id(), title, description, state, source, target, author)
        mr.draft = title.lower().startswith(("draft:", "[draft]", "(draft)"))
        project.mrs[iid] = mr
        return mr

    @route("PUT", MR)
    def update_mr(self, ctx: Ctx) -> Reply:
        self._authenticated(ctx)
        project = self._project(ctx)
        mr = self._mr_or_404(project, ctx)
        params = {k: v for k, v in ctx.body.items() if k not in ("id", "iid")}
        editable = (
            "title",
            "description",
            "target_branch",
            "state_event",
            "labels",
            "remove_source_branch",
            "assignee_id",
            "assignee_ids",
            "reviewer_ids",
            "milestone_id",
            "squash",
            "discussion_locked",
        )
        if not any(k in params for k in editable):
            raise grape(
                ", ".join(editable) + " are missing, at least one parameter must be provided"
            )
        self._values(params, "state_event", ("close", "reopen"))
        target = params.get("target_branch", mr.target_branch)
        if target not in project.git.branches:
            raise message(400, {"target_branch": ["does not exist"]})
        new_state = {"close": "closed", "reopen": "opened"}.get(
            params.get("state_event", ""), mr.state
        )
        if new_state == "opened":
            conflict = self._open_conflict(project, mr.source_branch, target, mr.iid)
            if conflict:
                raise message(
                    409,
                    [EXISTS + f"{conflict.iid}"],
                )
        if "title" in params and len(params["title"]) > TITLE_MAX:
            raise message(400, {"title": [f"is too long (maximum is {TITLE_MAX} characters)"]})
        mr.title = params.get("title", mr.title)
        mr.description = params.get("description", mr.description)
        mr.target_branch = target
        if mr.state != "merged":
            mr.state = new_state
        mr.updated_at = now_iso(ms=True)
        return Reply(200, self.mr_json(ctx, project, mr))

    @route(
        "GET",
        P + r"/repository/commits/(?P<sha>[^/]+)/merge_requests",
        job_token=True,
        anonymous="project",
    )
    def commit_mrs(self, ctx: Ctx) -> Reply:
        project = self._project(ctx)
        sha = project.git.resolve(ctx.params["sha"])
        if sha is None:
            raise message(404, "404 Commit Not Found")
        mrs = [
            m
            for m in project.mrs.values()
            if sha in project.mr_commits(m) or sha == m.merge_commit_sha
        ]
        mrs.sort(key=lambda m: m.id, reverse=True)
        page = gitlab_page(mrs, ctx.query)
        return Reply(
            200, [self.mr_json(ctx, project, m) for m in page.items], gitlab_headers(ctx, page)
        )

    # --- notes -------------------------------------------------------------------------------

    @route("GET", MR + r"/notes", job_token=True)
    def list_notes(self, ctx: Ctx) -> Reply:
        self._authenticated(ctx)
        project = self._project(ctx)
        mr = self._mr_or_404(project, ctx)
        params = ctx.body
        self._values(params, "sort", ("asc", "desc"))
        self._values(params, "order_by", ("created_at", "updated_at"))
        notes = [n for n in project.notes.values() if n.iid == mr.iid]
        # GitLab orders created_at by id (its tie-breaker), updated_at by (updated_at, id)
        if params.get("order_by", "created_at") == "updated_at":
            notes.sort(key=lambda n: (n.updated_at, n.id))
        else:
            notes.sort(key=lambda n: n.id)
        if params.get("sort", "desc") == "desc":
            notes.reverse()
        page = gitlab_page(notes, ctx.query)
        return Reply(
            200, [self.note_json(ctx, project, n) for n in page.items], gitlab_headers(ctx, page)
        )

    def _check_note_body(self, body: Any) -> str:
        text = str(body)
        if not text.strip():
            raise message(400, '400 Bad request - Note {:note=>["can\'t be blank"]}')
        if len(text) > NOTE_MAX:
            raise message(
                400,
                "400 Bad request - Note "
                f'{{:note=>["is too long (maximum is {NOTE_MAX} characters)"]}}',
            )
        return text

    @route("POST", MR + r"/notes")
    def create_note(self, ctx: Ctx) -> Reply:
        identity = self._authenticated(ctx)
        project = self._project(ctx)
        mr = self._mr_or_404(project, ctx)
        self._require(ctx.body, "body", allow_blank=True)
        body = self._check_note_body(ctx.body["body"])
        note = self.add_note(project, mr.iid, body, identity.login)
        return Reply(201, self.note_json(ctx, project, note))

    def add_note(
        self,
        project: GlProject,
        iid: int,
        body: str,
        author: str,
        system: bool = False,
        created_at: str | None = None,
    ) -> GlNote:
        if iid not in project.mrs:
            raise ValueError(f"{project.path}!{iid} does not exist")
        self.state.user(author)
        stamp = created_at or now_iso(ms=True)
        note = GlNote(_next_id(), iid, body, author, system, stamp, stamp)
        project.notes[note.id] = note
        return note

    def _note_or_404(self, project: GlProject, mr: GlMr, ctx: Ctx) -> GlNote:
        note = project.notes.get(int(ctx.params["note_id"]))
        if note is None or note.iid != mr.iid:
            raise message(404, "404 Not found")
        return note

    @route("GET", MR + r"/notes/(?P<note_id>\d+)", job_token=True)
    def get_note(self, ctx: Ctx) -> Reply:
        self._authenticated(ctx)
        project = self._project(ctx)
        mr = self._mr_or_404(project, ctx)
        return Reply(200, self.note_json(ctx, project, self._note_or_404(project, mr, ctx)))

    def _may_admin_note(self, identity: Identity, note: GlNote) -> bool:
        return note.author == identity.login or identity.role in ("maintainer", "owner")

    @route("PUT", MR + r"/notes/(?P<note_id>\d+)")
    def update_note(self, ctx: Ctx) -> Reply:
        identity = self._authenticated(ctx)
        project = self._project(ctx)
        mr = self._mr_or_404(project, ctx)
        note = self._note_or_404(project, mr, ctx)
        if not self._may_admin_note(identity, note) or note.system:
            raise message(403, "403 Forbidden")
        if "body" in ctx.body:
            if isinstance(ctx.body["body"], str) and not ctx.body["body"]:
                raise grape("body is empty")
            note.body = self._check_note_body(ctx.body["body"])
            note.updated_at = now_iso(ms=True)
        return Reply(200, self.note_json(ctx, project, note))

    @route("DELETE", MR + r"/notes/(?P<note_id>\d+)")
    def delete_note(self, ctx: Ctx) -> Reply:
        identity = self._authenticated(ctx)
        project = self._project(ctx)
        mr = self._mr_or_404(project, ctx)
        note = self._note_or_404(project, mr, ctx)
        if not self._may_admin_note(identity, note):
            raise message(403, "403 Forbidden")
        del project.notes[note.id]
        return Reply(204)

    # --- repository --------------------------------------------------------------------------

    @route("GET", P + r"/repository/commits/(?P<sha>[^/]+)", job_token=True, anonymous="project")
    def get_commit(self, ctx: Ctx) -> Reply:
        project = self._project(ctx)
        sha = project.git.resolve(ctx.params["sha"])
        if sha is None:
            raise message(404, "404 Commit Not Found")
        return Reply(200, self.commit_json(ctx, project, sha, detail=True))

    @route(
        "GET", P + r"/repository/branches/(?P<branch>[^/]+)", job_token=True, anonymous="project"
    )
    def get_branch(self, ctx: Ctx) -> Reply:
        project = self._project(ctx)
        name = ctx.params["branch"]
        if name not in project.git.branches:
            raise message(404, "404 Branch Not Found")
        return Reply(200, self.branch_json(ctx, project, name))

    @route("POST", P + r"/repository/branches", anonymous="project")
    def create_branch(self, ctx: Ctx) -> Reply:
        project = self._project(ctx)
        self._writer(ctx)
        params = ctx.body
        self._require(params, "branch", "ref")
        name, ref = str(params["branch"]), str(params["ref"])
        if not BRANCH_NAME.match(name):
            raise message(400, "Branch name is invalid")
        if name in project.git.branches:
            raise message(400, "Branch already exists")
        sha = project.git.resolve(ref)
        if sha is None:
            raise message(400, f"Failed to create branch '{name}': invalid reference name '{ref}'")
        project.git.branches[name] = sha
        return Reply(201, self.branch_json(ctx, project, name))

    def _file_ref(self, ctx: Ctx, project: GlProject) -> tuple[str, bytes, str]:
        self._require(ctx.body, "ref")
        ref = str(ctx.body["ref"])
        sha = project.git.resolve(ref)
        path = ctx.params["file"]
        data = project.git.commits[sha].files.get(path) if sha else None
        if data is None:
            raise message(404, "404 File Not Found")
        return path, data, sha or ""

    @route("GET", P + r"/repository/files/(?P<file>[^/]+)", anonymous="project")
    def get_file(self, ctx: Ctx) -> Reply:
        project = self._project(ctx)
        path, data, sha = self._file_ref(ctx, project)
        return Reply(
            200,
            {
                "file_name": path.rsplit("/", 1)[-1],
                "file_path": path,
                "size": len(data),
                "encoding": "base64",
                "content": base64.b64encode(data).decode(),
                "content_sha256": hashlib.sha256(data).hexdigest(),
                "ref": ctx.body["ref"],
                "blob_id": blob_sha(data),
                "commit_id": sha,
                "last_commit_id": self._last_commit(project, sha, path) or sha,
                "execute_filemode": False,
            },
        )

    @route("GET", P + r"/repository/files/(?P<file>[^/]+)/raw", job_token=True, anonymous="project")
    def get_file_raw(self, ctx: Ctx) -> Reply:
        project = self._project(ctx)
        if "ref" not in ctx.body:
            ctx.body["ref"] = project.default_branch
        _, data, _ = self._file_ref(ctx, project)
        return Reply(200, data, {"Content-Type": "text/plain; charset=utf-8"})

    def _last_commit(self, project: GlProject, head: str, path: str) -> str | None:
        """The newest first-parent commit that changed `path` (GitLab's `last_commit_id`)."""
        current: str | None = head
        while current:
            commit = project.git.commits[current]
            parent = commit.parents[0] if commit.parents else None
            before = project.git.commits[parent].files.get(path) if parent else None
            if commit.files.get(path) != before:
                return current
            current = parent
        return None

    @route("POST", P + r"/repository/commits", anonymous="project")
    def create_commit(self, ctx: Ctx) -> Reply:
        project = self._project(ctx)
        identity = self._writer(ctx)
        params = ctx.body
        self._require(params, "branch", "commit_message", "actions")
        actions = params["actions"]
        if not isinstance(actions, list):
            raise grape("actions is invalid")
        if not actions:
            raise grape("actions is empty")
        for i, action in enumerate(actions):
            if not isinstance(action, dict):
                raise grape(f"actions[{i}] is invalid")
            for key in ("action", "file_path"):
                if key not in action:
                    raise grape(f"actions[{i}][{key}] is missing")
            if action["action"] not in ACTIONS:
                raise grape(f"actions[{i}][action] does not have a valid value")
            if action.get("encoding", "text") not in ("text", "base64"):
                raise grape(f"actions[{i}][encoding] does not have a valid value")
        if "start_branch" in params and "start_sha" in params:
            raise grape("start_branch, start_sha are mutually exclusive")
        branch = str(params["branch"])
        force = _truthy(params.get("force", False), "force")
        start_branch, start_sha = params.get("start_branch"), params.get("start_sha")
        git = project.git
        if branch in git.branches and not force:
            if start_sha or (start_branch and start_branch != branch):
                raise message(
                    400,
                    f"A branch called '{branch}' already exists. "
                    "Switch to that branch in order to make changes",
                )
            base: str | None = git.branches[branch]
        elif start_sha:
            base = start_sha if start_sha in git.commits else None
            if base is None:
                raise message(400, f"Invalid start_sha: {start_sha}")
        else:  # a new branch starts from start_branch (the API defaults it to `branch`)
            base = git.branches.get(start_branch or branch)
            if base is None:
                raise message(400, "You can only create or edit files when you are on a branch")
        files = dict(git.commits[base].files)
        for action in actions:
            path = action["file_path"]
            kind = action["action"]
            content = action.get("content")
            if content is not None and action.get("encoding") == "base64":
                try:
                    data: bytes | None = base64.b64decode(content, validate=True)
                except (binascii.Error, ValueError):
                    raise message(400, "Invalid base64 content") from None
            else:
                data = None if content is None else str(content).encode()
            last = action.get("last_commit_id")
            if last and path in files and self._last_commit(project, base, path) != last:
                raise message(400, f"The file has changed since you started editing it: {path}")
            if kind == "create":
                if path in files:
                    raise message(400, "A file with this name already exists")
                files[path] = data or b""
            elif kind in ("update", "chmod"):
                if path not in files:
                    raise message(400, "A file with this name doesn't exist")
                if kind == "update":
                    files[path] = data or b""
            elif kind == "delete":
                if path not in files:
                    raise message(400, "A file with this name doesn't exist")
                del files[path]
            elif kind == "move":
                previous = action.get("previous_path")
                if not previous or previous not in files:
                    raise message(400, "A file with this name doesn't exist")
                if path in files:
                    raise message(400, "A file with this name already exists")
                old = files.pop(previous)
                files[path] = old if data is None else data
        author = (
            params.get("author_name", identity.name),
            params.get("author_email", f"{identity.login}@forge.test"),
        )
        commit = git.commit([base], files, str(params["commit_message"]), author)
        git.branches[branch] = commit.sha
        return Reply(201, self.commit_json(ctx, project, commit.sha, detail=True))

    # --- deployments -------------------------------------------------------------------------

    def deployment_json(self, ctx: Ctx, project: GlProject, dep: GlDeployment) -> dict[str, Any]:
        env = dep.environment
        return {
            "id": dep.id,
            "iid": dep.iid,
            "ref": dep.ref,
            "sha": dep.sha,
            "created_at": dep.created_at,
            "updated_at": dep.updated_at,
            "status": dep.status,
            "user": self.user_json(ctx, dep.user),
            "environment": {
                "id": env.id,
                "name": env.name,
                "slug": re.sub(r"[^a-z0-9]+", "-", env.name.lower()).strip("-")[:24],
                "external_url": env.external_url,
                "created_at": env.created_at,
                "updated_at": env.created_at,
                "tier": "production" if env.name.startswith(("prod", "production")) else "other",
                "state": "available",
            },
            "deployable": None,
            "approvals": [],
            "pending_approval_count": 0,
        }

    @route("GET", P + r"/deployments", job_token=True)
    def list_deployments(self, ctx: Ctx) -> Reply:
        self._authenticated(ctx)
        project = self._project(ctx)
        params = ctx.body
        self._values(
            params, "order_by", ("id", "iid", "created_at", "updated_at", "finished_at", "ref")
        )
        self._values(params, "sort", ("asc", "desc"))
        deps = list(project.deployments.values())
        if "environment" in params:
            deps = [d for d in deps if d.environment.name == params["environment"]]
        if "status" in params:
            deps = [d for d in deps if d.status == params["status"]]
        order = params.get("order_by", "id")
        deps.sort(
            key=lambda d: (getattr(d, order, d.id), d.id),
            reverse=params.get("sort", "asc") == "desc",
        )
        page = gitlab_page(deps, ctx.query)
        return Reply(
            200,
            [self.deployment_json(ctx, project, d) for d in page.items],
            gitlab_headers(ctx, page),
        )

    @route("POST", P + r"/deployments", job_token=True)
    def create_deployment(self, ctx: Ctx) -> Reply:
        identity = self._authenticated(ctx)
        project = self._project(ctx)
        params = ctx.body
        self._require(params, "environment", "sha", "ref", "tag", "status")
        tag = _truthy(params["tag"], "tag")
        self._values(params, "status", DEPLOYMENT_STATUSES)
        if project.git.resolve(str(params["ref"])) is None:
            raise message(400, {"ref": ["The branch or tag does not exist"]})
        name = str(params["environment"])
        env = project.environments.get(name)
        if env is None:
            env = project.environments[name] = GlEnvironment(_next_id(), name, now_iso(ms=True))
        stamp = now_iso(ms=True)
        dep = GlDeployment(
            _next_id(),
            project.next_deployment_iid,
            str(params["ref"]),
            str(params["sha"]),
            tag,
            params["status"],
            env,
            identity.login,
            stamp,
            stamp,
        )
        project.next_deployment_iid += 1
        project.deployments[dep.id] = dep
        return Reply(201, self.deployment_json(ctx, project, dep))

    def _deployment_or_404(self, project: GlProject, ctx: Ctx) -> GlDeployment:
        dep = project.deployments.get(int(ctx.params["dep"]))
        if dep is None:
            raise message(404, "404 Not found")
        return dep

    @route("GET", P + r"/deployments/(?P<dep>\d+)", job_token=True)
    def get_deployment(self, ctx: Ctx) -> Reply:
        self._authenticated(ctx)
        project = self._project(ctx)
        return Reply(200, self.deployment_json(ctx, project, self._deployment_or_404(project, ctx)))

    @route("PUT", P + r"/deployments/(?P<dep>\d+)", job_token=True)
    def update_deployment(self, ctx: Ctx) -> Reply:
        self._authenticated(ctx)
        project = self._project(ctx)
        params = ctx.body
        self._require(params, "status")
        self._values(params, "status", DEPLOYMENT_STATUSES)
        dep = self._deployment_or_404(project, ctx)
        new = params["status"]
        event = {"running": "run", "success": "succeed", "failed": "drop", "canceled": "cancel"}[
            new
        ]
        allowed = dep.status == "created" if new == "running" else dep.status != new
        if not allowed:
            raise message(400, {"status": [f'cannot transition via "{event}"']})
        dep.status = new
        dep.updated_at = now_iso(ms=True)
        return Reply(200, self.deployment_json(ctx, project, dep))

    # --- commit statuses ---------------------------------------------------------------------

    def status_json(self, ctx: Ctx, st: GlStatus) -> dict[str, Any]:
        return {
            "id": st.id,
            "sha": st.sha,
            "ref": st.ref,
            "status": st.status,
            "name": st.name,
            "target_url": st.target_url,
            "description": st.description,
            "created_at": st.created_at,
            "started_at": st.started_at,
            "finished_at": st.finished_at,
            "allow_failure": False,
            "coverage": st.coverage,
            "pipeline_id": st.pipeline_id,
            "author": self.user_json(ctx, st.author),
        }

    # --- approvals, users, group members -------------------------------------------------------

    @route("GET", MR + r"/approvals", job_token=True)
    def mr_approvals(self, ctx: Ctx) -> Reply:
        self._authenticated(ctx)
        project = self._project(ctx)
        mr = self._mr_or_404(project, ctx)
        return Reply(200, {
            "id": mr.id,
            "iid": mr.iid,
            "project_id": project.id,
            "title": mr.title,
            "state": mr.state,
            "approved": bool(mr.approved_by),
            "approvals_required": 0,
            "approvals_left": 0,
            "approved_by": [{"user": self.user_json(ctx, u)} for u in mr.approved_by],
        })  # fmt: skip

    @route("GET", r"/users")
    def list_users(self, ctx: Ctx) -> Reply:
        """`?username=` gives the one user (case-insensitive) or an empty list."""
        self._authenticated(ctx)
        wanted = ctx.query.get("username", "")
        found = [u for u in self.state.users.values() if u.username.lower() == wanted.lower()]
        return Reply(200, [self.user_json(ctx, u.username) for u in found])

    @route("GET", r"/groups/(?P<group>[^/]+)/members/all/(?P<user_id>\d+)")
    def group_member(self, ctx: Ctx) -> Reply:
        """A direct or inherited member of the group (its path URL-encoded), else 404."""
        self._authenticated(ctx)
        group = unquote(ctx.params["group"])
        members = self.state.groups.get(group.lower())
        if members is None:
            raise message(404, "404 Group Not Found")
        user = next((u for u in self.state.users.values() if str(u.id) == ctx.params["user_id"]),
                    None)  # fmt: skip
        if user is None or user.username not in members:
            raise message(404, "404 Not found")
        data = self.user_json(ctx, user.username)
        data.update(access_level=30, created_at="2020-01-01T00:00:00.000Z", expires_at=None)
        return Reply(200, data)

    @route("POST", P + r"/statuses/(?P<sha>[^/]+)")
    def create_status(self, ctx: Ctx) -> Reply:
        identity = self._authenticated(ctx)
        project = self._project(ctx)
        params = ctx.body
        self._require(params, "state")
        self._values(params, "state", COMMIT_STATUSES)
        sha = ctx.params["sha"]
        if sha not in project.git.commits:
            raise message(404, "404 Commit Not Found")
        ref = params.get("ref") or next(iter(project.git.branches_containing(sha)), None)
        if ref is None:
            raise message(404, "404 References for commit Not Found")
        name = params.get("name") or params.get("context") or "default"
        state = params["state"]
        live = [
            s
            for s in project.statuses
            if s.sha == sha
            and s.ref == ref
            and s.name == name
            and s.status in ("pending", "running")
        ]
        status = live[-1] if live else None
        if status is not None and status.status == state and state in ("pending", "running"):
            event = "enqueue" if state == "pending" else "run"
            raise message(
                400,
                f"Cannot transition status via :{event} from :{state} "
                f'(Reason(s): Status cannot transition via "{event}")',
            )
        stamp = now_iso(ms=True)
        if status is None:
            status = GlStatus(
                _next_id(),
                sha,
                ref,
                state,
                name,
                None,
                None,
                None,
                identity.login,
                stamp,
                _next_id(),
            )
            project.statuses.append(status)
        status.status = state
        for key in ("target_url", "description"):
            if key in params:
                setattr(status, key, params[key])
        if "coverage" in params:
            status.coverage = float(params["coverage"])
        if state == "running":
            status.started_at = stamp
        if state in ("success", "failed", "canceled"):
            status.finished_at = stamp
        return Reply(201, self.status_json(ctx, status))

    @route("GET", P + r"/repository/commits/(?P<sha>[^/]+)/statuses")
    def list_statuses(self, ctx: Ctx) -> Reply:
        self._authenticated(ctx)
        project = self._project(ctx)
        sha = project.git.resolve(ctx.params["sha"])
        if sha is None:
            raise message(404, "404 Commit Not Found")
        statuses = [s for s in project.statuses if s.sha == sha]
        page = gitlab_page(statuses, ctx.query)
        return Reply(200, [self.status_json(ctx, s) for s in page.items], gitlab_headers(ctx, page))


def encode_project(ref: str | int) -> str:
    """How a project goes in a URL: its id, or its path with `/` as `%2F`."""
    return str(ref) if isinstance(ref, int) else quote(str(ref), safe="")
