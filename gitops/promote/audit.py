"""One story per stage change: who asked for it, who merged it, the tag, and what each
environment of the stage did with it (deployed by which run, healthy or rolled back).

Joined from what the repository already records, nothing kept on the side:

- the registry's assignment tags (the tag, its tagger and time, its message: a tag made by a
  merged promotion PR names the PR);
- the promotion request files' history on the current branch (``.gitops/promotions/``): who
  requested which version and why, and the commit that brought the request in (its committer
  merged it);
- the state store's per-environment history (each deploy's result, time, actor and run).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitops.errors import GitopsError
from gitops.promote.request import FOLDER, PromotionRequest
from gitops.promote.times import when
from gitops.registry.git import read_paths_at, run_git
from gitops.registry.tags import ASSIGNMENT

if TYPE_CHECKING:
    from gitops.config import GitopsConfig
    from gitops.deploy.state import LiveState
    from gitops.registry.reader import Registry

_URL = re.compile(r"https?://[^\s<>\"')\]]+")


@dataclass(frozen=True)
class RequestRecord:
    """A promotion request as the branch's history has it."""

    request: PromotionRequest
    commit: str  # the commit that brought the file in (the merge commit, for a merged PR)
    committed_by: str  # its author: on GitHub and GitLab, who pressed merge for a merge commit
    committed_at: str


@dataclass(frozen=True)
class DeployRecord:
    environment: str
    status: str  # deployed, failed, rolled-back, removed, proposed
    at: str
    by: str
    run_url: str
    message: str


@dataclass(frozen=True)
class StageChange:
    artifact: str
    stage: str
    version: str
    commit: str
    tag: str
    tagged_by: str
    tagged_at: str
    pr_url: str = ""  # from the tag's message, when a merged promotion PR made it
    requested_by: str = ""
    reason: str = ""
    requested_at: str = ""
    merged_by: str = ""  # the tag's "Merged by" (the forge's word), else the request's committer
    approved_by: tuple[str, ...] = ()  # the tag's "Approved by": the PR/MR's approvers at merge
    notes: tuple[str, ...] = ()  # the tag's "Freeze lifted" lines (an override label used)
    deploys: tuple[DeployRecord, ...] = field(default=())

    @property
    def rolled_back(self) -> bool:
        return any(d.status == "rolled-back" for d in self.deploys)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["rolled_back"] = self.rolled_back
        return out


def request_history(repo: Path, ref: str = "HEAD") -> list[RequestRecord]:
    """Every version of every request file on ``ref``'s history, oldest first: one ``git log``
    and one batch read whatever their number."""
    from gitops.promote.request import parse_request
    from gitops.yamlfile import YamlFileError

    # --first-parent: the commit that brought a request into this branch (a merge, diffed
    # against the branch it merged into), not the PR branch's own commits
    log = ["log", "--reverse", "--first-parent", "--no-renames", "--diff-filter=AM", "-z"]
    try:
        out = run_git(repo, *log, "--name-only", "--format=%x01%H%x00%an%x00%aI", ref, "--", FOLDER)
    except GitopsError:  # no commits yet, or no such ref: no history
        return []
    changes: list[tuple[str, str, str, str]] = []  # commit, committer, date, path
    for entry in out.decode("utf-8", "replace").split("\x01"):
        if not entry.strip("\0\n"):
            continue
        head, _, rest = entry.partition("\n")
        fields = head.split("\0")
        if len(fields) < 3:
            continue
        sha, name, date = fields[0], fields[1], fields[2]
        for path in rest.split("\0"):
            path = path.strip("\n")
            if path.startswith(FOLDER + "/") and path.endswith(".yaml"):
                changes.append((sha, name, date, path))
    specs = [f"{sha}:{path}" for sha, _, _, path in changes]
    found = read_paths_at(repo, specs, max_size=1 << 16)
    records = []
    for (sha, name, date, path), spec in zip(changes, specs, strict=True):
        at = found.get(spec)
        if at is None or at.content is None:
            continue
        try:
            request = parse_request(at.content, path)
        except YamlFileError:
            continue  # not a request we made: the audit tells what it can
        records.append(RequestRecord(request, sha, name, date))
    return records


def stories(
    registry: Registry,
    config: GitopsConfig | None,
    state: LiveState | None,
    requests: Sequence[RequestRecord],
    name: str | None = None,
) -> list[StageChange]:
    """Stage changes (assignments), newest first, of ``name`` or of every artifact. Each deploy
    record belongs to one of them: the latest change that put its version in its environment's
    stage before the deploy (a rollback belongs to the version that failed)."""
    changes: list[StageChange] = []
    for artifact_name, artifact in registry.state.artifacts.items():
        if name is not None and artifact_name != name:
            continue
        for event in artifact.events_desc:
            if event.kind != ASSIGNMENT or event.stage is None or event.version is None:
                continue
            changes.append(_story(event, requests))
    changes.sort(key=lambda c: (_at(c.tagged_at), c.tag))  # oldest first, to place deploys
    placed: dict[int, list[DeployRecord]] = {}
    indexes: dict[tuple[str, str, str], list[int]] = {}  # one pass, not one per deploy record
    for i, c in enumerate(changes):
        indexes.setdefault((c.stage, c.artifact, c.version), []).append(i)
    for stage, artifact, version, record in _deploy_records(config, state, name):
        same = indexes.get((stage, artifact, version), [])
        if not same:
            continue
        before = [i for i in same if _at(changes[i].tagged_at) <= _at(record.at)]
        placed.setdefault((before or same)[-1], []).append(record)
    out = [
        replace(c, deploys=tuple(sorted(placed.get(i, []), key=lambda d: d.at)))
        for i, c in enumerate(changes)
    ]
    return out[::-1]


def _record(message: str) -> dict[str, list[str]]:
    """The ``Key: value`` lines a merge job writes in a stage tag's message (land.py)."""
    from gitops.promote import land

    keys = (land.PROMOTION, land.REQUESTED_BY, land.APPROVED_BY, land.MERGED_BY, land.LIFTED)
    found: dict[str, list[str]] = {}
    for line in message.splitlines():
        key, sep, value = line.partition(": ")
        if sep and key in keys and value.strip():
            found.setdefault(key, []).append(value.strip())
    return found


def _story(event: Any, requests: Sequence[RequestRecord]) -> StageChange:
    from gitops.promote import land

    found = _URL.search(event.message or "")
    said = _record(event.message or "")
    request = _request_for(requests, event.artifact, event.stage, event.version)
    approved = said.get(land.APPROVED_BY, [""])[0]
    return StageChange(
        artifact=event.artifact,
        stage=event.stage,
        version=event.version,
        commit=event.commit,
        tag=event.tag or "",
        tagged_by=event.author,
        tagged_at=event.created_at.isoformat(),
        pr_url=found.group(0) if found else "",
        requested_by=request.request.requested_by if request else "",
        reason=request.request.reason if request else "",
        requested_at=request.request.created_at if request else "",
        merged_by=said.get(land.MERGED_BY, [request.committed_by if request else ""])[0],
        approved_by=tuple(a.strip() for a in approved.split(",") if a.strip()),
        notes=tuple(said.get(land.LIFTED, [])),
    )


def _request_for(
    requests: Sequence[RequestRecord], artifact: str, stage: str, version: str
) -> RequestRecord | None:
    """The latest request that asked for exactly this move."""
    for record in reversed(requests):
        r = record.request
        if (r.artifact, r.stage, r.version) == (artifact, stage, version):
            return record
    return None


def _deploy_records(
    config: GitopsConfig | None, state: LiveState | None, name: str | None
) -> Iterable[tuple[str, str, str, DeployRecord]]:
    """(stage, artifact, version, record) for every deploy record of every environment; the
    version is the one the deploy was about (a failure's or rollback's attempted version)."""
    if config is None or state is None:
        return
    for env, settings in config.environments.items():
        doc = state.environments.get(env)
        if doc is None:
            continue
        for artifact in dict.fromkeys([*doc.history, *doc.deployed]):  # a first deploy: no
            if name is not None and artifact != name:  # history yet, only what runs
                continue
            records = list(doc.history.get(artifact, []))
            current = doc.deployed.get(artifact)
            if current is not None and current not in records:
                records.append(current)
            seen: set[DeployRecord] = set()
            for rec in records:
                about = rec.attempted if rec.status in ("failed", "rolled-back") else rec.version
                if about is None:
                    continue
                record = DeployRecord(env, rec.status, rec.at, rec.by, rec.run_url, rec.message)
                if record not in seen:
                    seen.add(record)
                    yield settings.stage, artifact, about, record


def table(changes: Sequence[StageChange]) -> str:
    """Plain text for a terminal: one block per stage change."""
    from gitops.safetext import visible

    if not changes:
        return "No stage changes."
    blocks = []
    for c in changes:
        lines = [f"{c.artifact} {c.version} -> {c.stage}  ({c.tag}, {c.tagged_at})"]
        if c.requested_by:
            why = f": {c.reason}" if c.reason else ""
            lines.append(f"  requested by {c.requested_by} at {c.requested_at}{why}")
        if c.approved_by:
            lines.append(f"  approved by {', '.join(c.approved_by)}")
        if c.merged_by:
            lines.append(f"  merged by {c.merged_by}" + (f" ({c.pr_url})" if c.pr_url else ""))
        lines += [f"  {note}" for note in c.notes]
        lines.append(f"  tagged by {c.tagged_by}")
        for d in c.deploys:
            run = f" {d.run_url}" if d.run_url else ""
            lines.append(f"  {d.environment}: {d.status} at {d.at} by {d.by}{run}")
        if not c.deploys:
            lines.append("  no deploy recorded")
        blocks.append("\n".join(visible(line) for line in lines))
    return "\n\n".join(blocks)


def markdown(changes: Sequence[StageChange], repo_url: str = "") -> str:
    """A table for a job summary, every string escaped; a PR URL from a tag message is a link
    only when it is on ``repo_url`` (the repository's own pages), else shown as text."""
    from gitops.markdown import code, escape
    from gitops.markdown import table as md_table

    rows = []
    for c in changes:
        deploys = "; ".join(f"{escape(d.environment)}: {escape(d.status)}" for d in c.deploys)
        ours = bool(repo_url) and c.pr_url.startswith(repo_url.rstrip("/") + "/")
        pr = f"[PR]({c.pr_url})" if ours else (code(c.pr_url) if c.pr_url else "")
        rows.append([
            code(c.artifact), code(c.version), code(c.stage), code(c.tag),
            escape(c.requested_by) or "—", escape(", ".join(c.approved_by)) or "—",
            escape(c.merged_by) or "—", escape(c.tagged_by),
            pr or "—", deploys or "—",
        ])  # fmt: skip
    header = ["Artifact", "Version", "Stage", "Tag", "Requested by", "Approved by", "Merged by",
              "Tagged by", "PR", "Deploys"]  # fmt: skip
    notes = [f"- {code(c.tag)}: {escape(note)}" for c in changes for note in c.notes]
    tail = "\n" + "\n".join(notes) + "\n" if notes else ""
    return "## Audit\n\n" + md_table(header, rows) + "\n" + tail


def _at(iso: str) -> datetime:
    """Unreadable times sort first here: a record is never placed after a readable one."""
    return when(iso, datetime.min.replace(tzinfo=UTC))
