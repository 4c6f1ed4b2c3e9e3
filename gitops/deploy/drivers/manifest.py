"""Set values in a YAML manifest (KServe ``storageUri``, a Helm value, a Kustomize ``newTag``)
and hand the change to Git: the Argo CD or Flux watching that file does the rollout.

Modes: ``write`` edits the work tree only; ``commit`` makes one commit on ``branch`` and pushes it
without force; ``pr`` pushes ``gitops/deploy/<environment>/<artifact>`` and opens (or updates) a
pull request through the forge. Commits are built with git plumbing on the branch's tip, so the
user's work tree, index and checked-out branch are never disturbed. A rejected push means
someone else moved the branch first: fetch, redo the edit on the new tip, push again.
"""

from __future__ import annotations

import re
import string
from typing import TYPE_CHECKING

from gitops.artifacts.resolve import GIT
from gitops.deploy.drivers.base import DeployOutcome, DeployRequest, Driver, DriverSettings
from gitops.deploy.drivers.settings import PLACEHOLDERS, ManifestSettings
from gitops.deploy.gitwrite import GitWriter, Rejected
from gitops.deploy.yamledit import EditResult, set_values
from gitops.errors import GitopsError
from gitops.fileio import write_atomic

if TYPE_CHECKING:
    from gitops.forge.base import Forge

BOT = "gitops <gitops@users.noreply.github.com>"
PUSH_ATTEMPTS = 5
REMOVE_MESSAGE = "gitops: remove {artifact} from {environment}"


def render(template: str, facts: dict[str, str]) -> str:
    """The template with its (checked) placeholders filled; nothing else is evaluated."""
    parts = string.Formatter().parse(template)
    return "".join(text + (facts[name] if name is not None else "") for text, name, _, _ in parts)


def _uses_url(templates: dict[str, str], message: str) -> bool:
    return any("{url}" in t for t in (*templates.values(), message))


def remote_url(request: DeployRequest) -> str:
    """``{url}``: where the version's bytes are in their DVC remote; an error for an artifact
    kept in Git or with no remote (a template that needs the URL cannot be filled)."""
    source = request.source()
    if not source.url:
        where = "is stored in Git" if source.kind == GIT else "has no object URL of its own"
        if source.kind != GIT and not source.remote:
            where = "has no DVC remote configured"
        raise GitopsError(
            f"{{url}}: {source.path or request.artifact} {where} at {request.version}"
        )
    return source.url


def pr_branch(environment: str, artifact: str) -> str:
    """``gitops/deploy/<environment>/<artifact>`` made a valid, flat branch name."""

    def clean(part: str) -> str:
        part = re.sub(r"\.{2,}", ".", re.sub(r"[^A-Za-z0-9._-]+", "-", part)).strip(".-")
        return (part + "-" if part.endswith(".lock") else part) or "x"

    return f"gitops/deploy/{clean(environment)}/{clean(artifact)}"


class ManifestDriver(Driver):
    name = "manifest"
    Settings = ManifestSettings

    def __init__(self, settings: DriverSettings, forge: Forge | None = None) -> None:
        super().__init__(settings)
        self.forge = forge  # PR mode only; the caller sets it when it has a forge client

    @property
    def s(self) -> ManifestSettings:
        assert isinstance(self.settings, ManifestSettings)
        return self.settings

    def deploy(self, request: DeployRequest) -> DeployOutcome:
        if self.s.mode == "pr" and not request.dry_run and self.forge is None:
            return DeployOutcome(
                False, "mode: pr needs a forge client (run in CI with a token), or use mode: commit"
            )
        return self._run(request, open_pr=True)

    def push_proposal(self, request: DeployRequest) -> DeployOutcome:
        """PR mode's git half: push the proposal branch, open no PR (tests, or forges that
        open PRs for pushed branches themselves)."""
        return self._run(request, open_pr=False)

    def _run(self, request: DeployRequest, open_pr: bool) -> DeployOutcome:
        templates = self.s.set if request.version is not None else self.s.remove
        if templates is None:
            return DeployOutcome(True, f"nothing to remove for a manifest ({self.s.file} kept)")
        facts = {name: str(getattr(request, name, "") or "") for name in PLACEHOLDERS}
        if request.version is not None and _uses_url(templates, self.s.message):
            try:
                facts["url"] = remote_url(request)
            except GitopsError as exc:
                return DeployOutcome.untouched(str(exc))
        values = {path: render(template, facts) for path, template in templates.items()}
        subject = render(self.s.message if request.version else REMOVE_MESSAGE, facts).strip()
        message = f"{subject}\n\n{_facts_text(request)}\n"
        git = _writer(request, self.s)
        try:
            if request.dry_run or self.s.mode == "write":
                return self._write(git, values, request.dry_run)
            if self.s.mode == "commit":
                return self._commit(git, values, message)
            outcome = self._propose(git, values, message, request)
            if not (open_pr and outcome.ok and outcome.details.get("proposed")):
                return outcome
            assert self.forge is not None
            title = subject.splitlines()[0] if subject else "gitops deploy"
            body = f"{_facts_text(request)}\n\nMerging this PR deploys it (`{self.s.file}`)."
            pr = self.forge.open_pr(outcome.details["branch"], outcome.details["base"], title, body)
            # pending: nothing runs the new version until someone merges the PR
            details = outcome.details | {"pr_url": pr.url, "pr_number": pr.number, "pending": True}
            message = f"{self.forge.pr_name(pr.number)} proposes {_wanted(values)}: {pr.url}"
            return DeployOutcome(True, message, details)
        except GitopsError as exc:  # YamlFileError is one: bad path, missing key, bad YAML
            return DeployOutcome(False, str(exc))

    def _edit(self, text: str, values: dict[str, str]) -> EditResult:
        s = self.s
        return set_values(text, values, file=s.file, document=s.document, create=s.create)

    def _write(self, git: GitWriter, values: dict[str, str], dry_run: bool) -> DeployOutcome:
        target = git.work / self.s.file
        try:
            text = target.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return DeployOutcome(False, f"cannot read {self.s.file}: {exc}")
        result = self._edit(text, values)
        summary = _summary(result)
        if not result.changed:
            return DeployOutcome(True, f"{self.s.file} already has {_wanted(values)}")
        if dry_run:
            where = {"write": "", "commit": " and commit", "pr": " and open a PR"}[self.s.mode]
            return DeployOutcome(True, f"would set {summary} in {self.s.file}{where}")
        try:  # a new file swapped in by rename: readers never see half a manifest
            write_atomic(target, result.text, mode=target.stat().st_mode & 0o7777)
        except OSError as exc:
            return DeployOutcome(False, f"cannot write {self.s.file}: {exc}")
        return DeployOutcome(True, f"wrote {summary} into {self.s.file}", {"file": self.s.file})

    def _commit(self, git: GitWriter, values: dict[str, str], message: str) -> DeployOutcome:
        s = self.s
        branch = s.branch or git.default_branch()
        details: dict = {"file": s.file, "branch": branch}
        for attempt in range(PUSH_ATTEMPTS):
            base = git.fetch(branch) if s.push else git.rev(f"refs/heads/{branch}")
            if base is None:
                where = f"{s.remote} has" if s.push else "the repository has"
                return DeployOutcome(False, f"{where} no branch {branch!r}", details)
            result = self._edit(git.show(base, s.file), values)
            if not result.changed:
                return DeployOutcome(True, f"{s.file} on {branch} already has {_wanted(values)}")
            commit = git.commit(base, s.file, result.text, message)
            try:
                if s.push:
                    git.push(commit, branch)
                else:
                    git.advance_local(branch, base, commit, s.file)
            except Rejected:
                git.pause(attempt)
                continue
            pushed = f" and pushed to {s.remote}" if s.push else ""
            details |= {"commit": commit, "pushed": s.push, "attempts": attempt + 1}
            text = f"committed {_summary(result)} to {branch} ({commit[:12]}){pushed}"
            return DeployOutcome(True, text, details)
        return DeployOutcome(
            False, f"{branch} kept moving: gave up after {PUSH_ATTEMPTS} attempts", details
        )

    def _propose(
        self, git: GitWriter, values: dict[str, str], message: str, req: DeployRequest
    ) -> DeployOutcome:
        """Push the change to the PR branch: on top of its open proposal, else on the base."""
        s = self.s
        base_branch = s.branch or git.default_branch()
        head = pr_branch(req.environment, req.artifact)
        details: dict = {"file": s.file, "branch": head, "base": base_branch}
        for attempt in range(PUSH_ATTEMPTS):
            base = git.fetch(base_branch)
            if base is None:
                return DeployOutcome(False, f"{s.remote} has no branch {base_branch!r}", details)
            tip = git.fetch(head)
            start = base if tip is None or git.is_ancestor(tip, base) else tip
            result = self._edit(git.show(start, s.file), values)
            if not result.changed and start == base:
                details["proposed"] = False
                return DeployOutcome(True, f"{base_branch} already has {_wanted(values)}", details)
            if not result.changed:  # the open proposal already says this
                details |= {"proposed": True, "commit": start}
                return DeployOutcome(True, f"{head} already proposes {_wanted(values)}", details)
            commit = git.commit(start, s.file, result.text, message)
            try:
                git.push(commit, head)
            except Rejected:
                git.pause(attempt)
                continue
            details |= {"proposed": True, "commit": commit, "attempts": attempt + 1}
            return DeployOutcome(True, f"pushed {_summary(result)} to {head}", details)
        return DeployOutcome(False, f"{head} kept moving: gave up", details)


def _summary(result: EditResult) -> str:
    return ", ".join(f"{c.path}={c.new}" for c in result.changes)


def _wanted(values: dict[str, str]) -> str:
    return ", ".join(f"{path}={value}" for path, value in values.items())


def _facts_text(req: DeployRequest) -> str:
    was = f" (was {req.previous_version})" if req.previous_version else ""
    lines = [
        f"Artifact: {req.artifact}",
        f"Version: {req.version or '(removed)'}{was}",
        f"Stage: {req.stage}",
        f"Environment: {req.environment}",
    ]
    lines += [f"Commit: {req.commit}"] if req.commit else []
    lines += [f"Run: {req.run_url}"] if req.run_url else []
    return "\n".join(lines)


def _writer(request: DeployRequest, settings: ManifestSettings) -> GitWriter:
    work = (request.repo / settings.checkout) if settings.checkout else request.repo
    return GitWriter(work, settings.remote, settings.author or BOT, request.timeout)
