"""Make a CI checkout complete enough to read the registry exactly.

``actions/checkout`` clones at depth 1 without tags and turns the pushed annotated tag into a
lightweight one; GitLab fetches only the pipeline's own tag. Reading such a clone gives a wrong
state (gto.md §5), so we fetch every tag from ``origin``, annotated objects included, and replace
rewritten ones (``--force``). Local tags are never deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gitops.ci.context import Context, Platform
from gitops.ci.reporter import Reporter
from gitops.errors import GitopsError
from gitops.registry.git import run_git

FETCH_HINT = {
    Platform.GITHUB: (
        "add `fetch-depth: 0` to the `with:` of actions/checkout (it also fetches all tags), "
        "and keep its default `persist-credentials: true` so this step can fetch from origin"
    ),
    Platform.GITLAB: (
        'set `GIT_DEPTH: "0"` and `GIT_FETCH_EXTRA_FLAGS: "--prune --quiet --tags --force"` '
        "in the job's `variables:` so the clone has every registry tag"
    ),
}


class CheckoutError(GitopsError):
    pass


@dataclass(frozen=True)
class CheckoutFacts:
    shallow: bool
    tag_count: int
    pushed_tag_missing: bool
    pushed_tag_lightweight: bool

    @property
    def incomplete(self) -> bool:
        return (
            self.shallow
            or self.tag_count == 0
            or self.pushed_tag_missing
            or self.pushed_tag_lightweight
        )

    def describe(self) -> str:
        parts = []
        if self.shallow:
            parts.append("the clone is shallow")
        if self.tag_count == 0:
            parts.append("it has no tags")
        if self.pushed_tag_missing:
            parts.append("the pushed tag is missing")
        if self.pushed_tag_lightweight:
            parts.append("the pushed tag was rewritten as a lightweight tag")
        return ", ".join(parts) or "the clone looked complete"


def mark_safe_directory(path: Path) -> None:
    """git refuses a repository owned by another user (the runner's); say it is ours.

    Only from global config does git honour ``safe.directory``; the container has its own HOME,
    so the runner's setting does not reach us (actions/runner#2033).
    """
    target = str(path.resolve())
    try:
        current = run_git(Path("/"), "config", "--global", "--get-all", "safe.directory")
    except GitopsError:
        current = b""
    if target in current.decode(errors="replace").splitlines():
        return
    run_git(Path("/"), "config", "--global", "--add", "safe.directory", target)


def inspect(root: Path, pushed_tag: str | None) -> CheckoutFacts:
    shallow = run_git(root, "rev-parse", "--is-shallow-repository").strip() == b"true"
    listing = run_git(root, "for-each-ref", "--format=%(objecttype) %(refname)", "refs/tags/")
    types = {}
    for line in listing.decode(errors="replace").splitlines():
        kind, _, ref = line.partition(" ")
        types[ref.removeprefix("refs/tags/")] = kind
    missing = bool(pushed_tag) and pushed_tag not in types
    lightweight = bool(pushed_tag) and types.get(pushed_tag or "") == "commit"
    return CheckoutFacts(shallow, len(types), missing, lightweight)


def complete_checkout(ctx: Context, root: Path, reporter: Reporter, deleted: bool) -> None:
    """Fetch every tag from origin when CI left some out; fail with the setting to add."""
    facts = inspect(root, None if deleted else ctx.tag)
    try:
        run_git(
            root,
            "fetch",
            "--quiet",
            "--force",
            "--no-recurse-submodules",
            "--no-write-fetch-head",  # git >= 2.29; a line per tag otherwise (70 ms at 10k)
            "origin",
            "+refs/tags/*:refs/tags/*",
        )
    except GitopsError as exc:
        if not facts.incomplete:
            reporter.warning(f"could not fetch tags from origin, using the local ones: {exc}")
            return
        hint = FETCH_HINT.get(ctx.platform, "fetch all tags from origin before running")
        raise CheckoutError(
            f"the checkout is incomplete ({facts.describe()}) and fetching tags from origin "
            f"failed: {exc}. Fix: {hint}."
        ) from None
    after = inspect(root, None if deleted else ctx.tag)
    reporter.log(
        f"checkout: {facts.describe()}; fetched tags from origin: "
        f"{after.tag_count} tags ({after.tag_count - facts.tag_count:+d})"
    )
    if after.pushed_tag_missing:
        raise CheckoutError(
            f"tag {ctx.tag!r} of this event is not on origin any more; nothing to act on"
        )


def prepare(ctx: Context, root: Path, reporter: Reporter, what: str, deleted: bool = False) -> None:
    """Every command's start: say what runs on which event, then (in CI) make the checkout
    whole: the registry is every tag."""
    suffix = f": {what}" if what else ""
    reporter.log(f"gitops: {ctx.platform} {ctx.event} event on {ctx.ref or '(no ref)'}{suffix}")
    if ctx.platform != Platform.LOCAL:
        mark_safe_directory(root)
        with reporter.group("Fetch registry tags"):
            complete_checkout(ctx, root, reporter, deleted=deleted)
