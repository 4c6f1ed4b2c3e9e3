"""The merge job: a push to the default branch that adds or changes promotion requests makes
their stage tags, pushes them, and hands them to the deploy as if they had been pushed.

It deploys in the same run on purpose: a tag pushed with GitHub's ``GITHUB_TOKEN`` starts no
new workflow run, so a deploy waiting for the tag's own run would wait forever.

At most once: a request whose stage already holds its version does nothing (a re-run of the
job, a second merge job racing this one). When two runs race to the same tag name, the remote
keeps the first; the second finds the stage holding the version after fetching, and stops.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gitops.ci.context import Context, EventKind, Platform
from gitops.ci.reporter import Reporter
from gitops.errors import GitopsError

if TYPE_CHECKING:
    from gitops.config import GitopsConfig
    from gitops.deploy.state import LiveState
    from gitops.forge.base import Forge, MergedPullRequest
    from gitops.promote.land import Landing, Merger
    from gitops.promote.merge import Pending
    from gitops.promote.request import PromotionRequest
    from gitops.registry.reader import Registry

PUSH_ATTEMPTS = 3


@dataclass
class Merged:
    """What the merge job did: the tags it pushed (to deploy), and every request's outcome."""

    tags: list[str] = field(default_factory=list)
    landings: list[Landing] = field(default_factory=list)
    skipped: list[Pending] = field(default_factory=list)  # done already, unknown, moved
    lost: list[str] = field(default_factory=list)  # tags another run pushed first

    @property
    def refused(self) -> list[Landing]:
        return [x for x in self.landings if x.outcome == "refused"]


def is_merge_push(ctx: Context, env: Mapping[str, str], command: str) -> bool:
    """A push to the default branch, in a run that may write (``command: auto``)."""
    if ctx.event != EventKind.BRANCH_PUSH or command != "auto" or not ctx.sha:
        return False
    from gitops.ci.promote_step import default_branch

    try:
        return ctx.ref == f"refs/heads/{default_branch(ctx, env)}"
    except GitopsError:
        return False


def run(
    ctx: Context,
    repo: Path,
    config: GitopsConfig | None,
    reporter: Reporter,
    dry_run: bool = False,
) -> Merged:
    """Land every request this push brought in; the tags pushed are in ``Merged.tags``."""
    from gitops.promote.merge import pending, requests_in_push
    from gitops.registry.reader import load_registry

    merged = Merged()
    before = _before(repo, ctx, reporter)
    requests = requests_in_push(repo, before, ctx.sha)
    if not requests:
        return merged
    with reporter.group("Promotions merged"):
        registry = load_registry(repo)
        forge = _forge(ctx, reporter)
        state = _state(ctx, config, repo)
        items = pending(registry, requests)
        for index, item in enumerate(items):
            if item.state != "to-tag":
                merged.skipped.append(item)
                reporter.log(f"promotion {_what(item.request)}: nothing to do: {item.detail}")
                continue
            if dry_run:
                reporter.log(f"promotion {_what(item.request)}: would tag it (dry run)")
                continue
            landing = _land_one(ctx, repo, registry, config, state, forge, item.request, reporter)
            merged.landings.append(landing)
            if landing.outcome != "tagged":
                continue
            if _push(ctx, repo, landing.tag, item.request, reporter):
                merged.tags.append(landing.tag)
            else:
                merged.lost.append(landing.tag)
            if any(i.state == "to-tag" for i in items[index + 1 :]):
                registry = load_registry(repo)  # the next one counts from the new tags
    return merged


def _what(r: PromotionRequest) -> str:
    return f"{r.artifact} {r.version} -> {r.stage}"


def _before(repo: Path, ctx: Context, reporter: Reporter) -> str:
    """The commit the branch was at before this push, fetched when the clone lacks it; else
    the pushed commit's first parent (only what the last commit brought in is read)."""
    from gitops.registry.git import run_git

    def have(sha: str) -> bool:
        try:
            run_git(repo, "cat-file", "-e", f"{sha}^{{commit}}")
        except GitopsError:
            return False
        return True

    from gitops.promote.merge import ZERO_SHA

    candidates = [ctx.before] if ctx.before and ctx.before != ZERO_SHA else []
    for sha in candidates:
        if have(sha):
            return sha
        try:
            run_git(repo, "fetch", "--quiet", "--no-tags", "--depth=1", "origin", sha)
        except GitopsError:
            continue
        if have(sha):
            return sha
    if not have(f"{ctx.sha}^1"):
        try:
            run_git(repo, "fetch", "--quiet", "--no-tags", "--deepen=1", "origin")
        except GitopsError:
            pass
    if have(f"{ctx.sha}^1"):
        if candidates:
            reporter.warning(
                f"the commit before this push ({ctx.before[:7]}) cannot be fetched: only the "
                "promotion requests of the last commit are read"
            )
        out = run_git(repo, "rev-parse", f"{ctx.sha}^1")
        return out.decode().strip()
    raise GitopsError(
        "cannot tell what this push changed: the clone has neither the commit before the push "
        "nor the parent of the pushed one. Fix: check out with `fetch-depth: 2` or more "
        '(GitLab: GIT_DEPTH: "2")'
    )


def _forge(ctx: Context, reporter: Reporter) -> Forge | None:
    if not ctx.token or ctx.platform == Platform.LOCAL:
        return None
    from gitops.forge import forge_for

    return forge_for(ctx, log=reporter.log)


def _state(ctx: Context, config: GitopsConfig | None, repo: Path) -> LiveState:
    from gitops.deploy.state import LiveState

    if config is None or not config.environments:
        return LiveState()
    from gitops.ci.deploy_step import read_state

    state = read_state(ctx, config, repo)
    return state


def _land_one(
    ctx: Context,
    repo: Path,
    registry: Registry,
    config: GitopsConfig | None,
    state: LiveState,
    forge: Forge | None,
    request: PromotionRequest,
    reporter: Reporter,
) -> Landing:
    from gitops.ci.report_step import _links
    from gitops.promote import times
    from gitops.promote.land import land
    from gitops.promote.request import branch_name
    from gitops.registry.signing import signing_from_env

    pr = approvals = None
    members = None
    if forge is not None:
        pr = forge.merged_pr(ctx.sha, branch_name(request.stage, request.artifact))
        if pr is not None:
            approvals = forge.approvers(pr.number)
        members = forge.is_member
    merger = _merger(repo, ctx, forge, pr)
    how = f"{forge.pr_name(pr.number)} ({pr.url})" if forge is not None and pr else "no PR/MR"
    reporter.log(f"promotion {_what(request)}: merged by {merger.name} [{merger.source}], {how}")
    with signing_from_env() as signing:
        landing = land(repo, registry, config, state, request, pr=pr, approvals=approvals,
                       merger=merger, now=times.now(), members=members, signing=signing,
                       links=_links(ctx), run_url=ctx.run_url)  # fmt: skip
    if landing.outcome == "refused" and landing.decision is not None:
        for v in landing.decision.violations:
            message = (f"promotion {_what(request)} is not tagged: policy {v.rule}: "
                       f"{v.message}. Fix: {v.fix}.")  # fmt: skip
            reporter.error(message)
    else:
        reporter.log(f"promotion {_what(request)}: tag {landing.tag} created")
    if landing.decision is not None:
        for note in landing.decision.notes:
            reporter.warning(f"promotion {_what(request)}: {note} (recorded in the tag)")
    return landing


def _merger(repo: Path, ctx: Context, forge: Forge | None, pr: MergedPullRequest | None) -> Merger:
    from gitops.promote.land import Merger, committer

    if forge is not None and pr is not None and pr.merged_by:
        return Merger(pr.merged_by, noreply_email(ctx, pr.merged_by, pr.merged_by_id), "forge")
    return committer(repo, ctx.sha)


def noreply_email(ctx: Context, login: str, user_id: int | None) -> str:
    """The e-mail the forge itself writes for a user who keeps theirs private (GitHub:
    ``ID+login@users.noreply.github.com``; GitLab: ``ID-username@users.noreply.<host>``)."""
    from urllib.parse import urlsplit

    host = urlsplit(ctx.server_url).hostname or (
        "gitlab.com" if ctx.platform == Platform.GITLAB else "github.com")  # fmt: skip
    sep = "-" if ctx.platform == Platform.GITLAB else "+"
    who = f"{user_id}{sep}{login}" if user_id is not None else login
    return f"{who}@users.noreply.{host}"


def _push(
    ctx: Context, repo: Path, tag: str, request: PromotionRequest, reporter: Reporter
) -> bool:
    """Push the new tag; False when another run pushed the stage change first (our tag is
    then dropped, theirs kept)."""
    from gitops.gitpush import PushRefused, push_plain

    ref = f"refs/tags/{tag}"
    url, env = push_target(ctx)
    for _ in range(PUSH_ATTEMPTS):
        try:
            results = push_plain(repo, url, [(ref, ref)], env=env, no_verify=True,
                                 options=_skip_pipeline(ctx))  # fmt: skip
        except PushRefused:
            if _taken(repo, url, env, request, tag):
                reporter.log(f"promotion {_what(request)}: another run tagged it first; "
                             "nothing more to do")  # fmt: skip
                return False
            raise
        if any(r.status == "up to date" for r in results):  # the very same tag, pushed by
            reporter.log(f"promotion {_what(request)}: another run tagged it first; "
                         "nothing more to do")  # another run: it deploys  # fmt: skip
            return False
        if all(r.status != "race" for r in results):
            reporter.log(f"promotion {_what(request)}: pushed {tag}")
            return True
    raise GitopsError(f"pushing {tag} kept losing races with other pushes")


def _skip_pipeline(ctx: Context) -> tuple[str, ...]:
    """GitLab starts a tag pipeline for a tag pushed with an access token: this run deploys
    it already, so the push asks for none (``ci.skip``). GitHub starts no run for a tag pushed
    with ``GITHUB_TOKEN``."""
    return ("ci.skip",) if ctx.platform == Platform.GITLAB else ()


def _taken(
    repo: Path, url: str, env: dict[str, str] | None, request: PromotionRequest, tag: str
) -> bool:
    """After a refused push: the tags of where we push fetched (ours replaced by theirs), does
    the stage hold the version now?"""
    from gitops.promote.merge import pending
    from gitops.registry.git import run_git
    from gitops.registry.reader import load_registry

    run_git(repo, "tag", "--delete", tag)  # ours, never pushed
    if url == "origin":  # where origin pushes (its push URL may differ from its fetch URL)
        url = run_git(repo, "remote", "get-url", "--push", "origin").decode().strip()
    try:
        run_git(repo, "fetch", "--quiet", "--force", "--no-write-fetch-head", "--", url,
                "+refs/tags/*:refs/tags/*", env=env)  # fmt: skip
    except GitopsError:
        return False
    return pending(load_registry(repo), [request])[0].state == "done"


def push_target(ctx: Context) -> tuple[str, dict[str, str] | None]:
    """Where and how this run pushes: origin with the checkout's credentials, or on GitLab with
    an access token in GITOPS_TOKEN (the job token may not push) the project's URL with the
    token in an HTTP header set through the environment."""
    if ctx.platform == Platform.GITLAB and ctx.token_kind == "private" and ctx.repo_url:
        from gitops.deploy.store import http_auth_env

        url = ctx.repo_url + ".git"
        return url, http_auth_env(url, "oauth2", ctx.token)
    return "origin", None


def markdown(
    merged: Merged, ctx: Context, repo: Path, config_file: str, registry: Registry | None = None
) -> str:
    """The job summary's "Promotions" section: each request's outcome, then the audit of every
    stage change this run made (requested, approved, merged by; the tag; the deploys)."""
    from gitops.markdown import code, escape
    from gitops.markdown import table as md_table

    rows = []
    for landing in merged.landings:
        r = landing.request
        if landing.outcome == "refused" and landing.decision is not None:
            rules = ", ".join(v.rule for v in landing.decision.violations)
            what = escape(f"refused by the policy ({rules}): see the errors")
        elif landing.tag in merged.lost:
            what = escape("another run tagged it first: nothing done")
        else:
            what = f"tagged {code(landing.tag)}"
        rows.append([code(r.artifact), code(r.version), code(r.stage), what])
    rows += [[code(p.request.artifact), code(p.request.version), code(p.request.stage),
              escape(f"nothing to do: {p.detail}")] for p in merged.skipped]  # fmt: skip
    if not rows:
        return ""
    text = "## Promotions\n\n" + md_table(["Artifact", "Version", "Stage", "Outcome"], rows)
    text += "\n" + _audit(merged, ctx, repo, config_file, registry)
    return text


def _audit(
    merged: Merged, ctx: Context, repo: Path, config_file: str, registry: Registry | None
) -> str:
    """``gitops audit`` of the stage changes this run pushed (after their deploys);
    ``registry``: the run's own, read after the tags were made."""
    if not merged.tags:
        return ""
    from gitops.promote import audit
    from gitops.registry.reader import load_registry

    try:
        registry = registry or load_registry(repo)
        config = state = None
        if (repo / config_file).is_file():
            from gitops.config import load_config

            config = load_config(repo, config_file)
            state = _state(ctx, config, repo)
        changes = [c for c in audit.stories(registry, config, state, audit.request_history(repo))
                   if c.tag in merged.tags]  # fmt: skip
    except GitopsError as exc:
        return f"\n(no audit: {exc})\n"
    return "\n" + audit.markdown(changes, ctx.repo_url)
