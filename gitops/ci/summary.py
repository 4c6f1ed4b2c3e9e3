"""Stage moves rendered three ways: action outputs, a Markdown job summary, a log table."""

from __future__ import annotations

import json
from pathlib import Path

from gitops.ci.context import Context
from gitops.markdown import code, code_block, escape, link, table
from gitops.registry.annotations import find_dvc_artifact
from gitops.registry.moves import Changes, TagChange
from gitops.registry.views import short
from gitops.yamlfile import YamlFileError

ASSIGN_EVENTS = ("assignment", "unassignment")


def primary_tag(changes: Changes) -> TagChange | None:
    """The tag gto-action's outputs describe: the event's (last) registry tag."""
    registry_tags = [t for t in changes.tags if t.event is not None]
    return registry_tags[-1] if registry_tags else None


def annotation(changes: Changes, repo: Path, tag: TagChange) -> dict[str, str]:
    """type/path/description as gto-action reads them: ``dvc.yaml`` first, then artifacts.yaml."""
    assert tag.artifact is not None
    try:
        dvc = find_dvc_artifact(repo, tag.artifact)
    except YamlFileError:
        dvc = None
    if dvc is not None:
        return {"type": dvc.type or "", "path": dvc.path, "description": dvc.desc or ""}
    artifact = changes.registry.state.artifacts.get(tag.artifact)
    if artifact is not None:
        for version in artifact.versions:
            if version.version != tag.version:
                continue
            for enrichment in version.enrichments:
                note = enrichment.annotation
                if note is not None:
                    return {
                        "type": note.type or "",
                        "path": note.path or "",
                        "description": note.description,
                    }
    return {"type": "", "path": "", "description": ""}


def outputs(changes: Changes, repo: Path) -> dict[str, str]:
    """Every output of spec.OUTPUTS, as strings (GitHub outputs are strings)."""
    values = {"event": "", "name": "", "version": "", "stage": ""}
    values |= {"type": "", "path": "", "description": ""}
    tag = primary_tag(changes)
    if tag is not None:
        values["event"] = tag.event or ""
        values["name"] = tag.artifact or ""
        values["version"] = tag.version or ""
        values["stage"] = tag.stage if tag.event in ASSIGN_EVENTS and tag.stage else ""
        values |= annotation(changes, repo, tag)
    moves = [m.to_json() for m in changes.moves]
    values["moves"] = json.dumps(moves, separators=(",", ":"))
    values["changed"] = "true" if moves else "false"
    return values


def text_table(changes: Changes) -> str:
    """For the log and the terminal: one line per tag, then one per move."""
    lines = []
    for t in changes.tags:
        what = t.event or "not a registry tag"
        prefix = "deleted " if t.deleted else ""
        lines.append(f"{prefix}tag {t.tag}: {what}")
    if not changes.moves:
        lines.append("no stage moved")
    for m in changes.moves:
        lines.append(
            f"{m.artifact} {m.stage}: {short(m.from_version)} -> {short(m.to_version)} "
            f"({m.kind}, tag {m.tag})"
        )
    return "\n".join(lines)


UNKNOWN = "_(unknown)_"


def markdown(changes: Changes, ctx: Context) -> str:
    """The job summary: a table of moves with links to each tag and commit.

    A tag deleted in this event gets no link (it is gone); what git can no longer say about it
    (the version a stage held before, a stage tag's version) reads "unknown", not blank, and
    the move is by whoever deleted it (the run's actor).
    """
    deleted = {t.tag for t in changes.tags if t.deleted}
    out = ["## Registry stage moves", ""]
    if changes.moves:
        rows = []
        for m in changes.moves:
            gone = m.tag in deleted
            to = code(short(m.to_version)) if m.to_version else "_(empty)_"
            if m.to_commit and ctx.commit_url(m.to_commit):
                to += " (" + link(m.to_commit[:7], ctx.commit_url(m.to_commit)) + ")"
            if m.from_version:
                before = code(short(m.from_version))
            else:
                before = UNKNOWN if gone else "_(empty)_"
            by = m.actor or (ctx.actor if gone else "")
            rows.append(
                [
                    code(m.artifact),
                    code(m.stage),
                    before,
                    to,
                    m.kind,
                    _tag_cell(m.tag, gone, ctx),
                    escape(by) if by else UNKNOWN,
                ]
            )
        out.append(table(["Model", "Stage", "From", "To", "Change", "Tag", "By"], rows))
    else:
        out.append("No stage moved.")
    if changes.tags:
        out += ["", "### Tags in this event", ""]
        out.append(table(["Tag", "Event", "Model", "Version", "Stage"], _tag_rows(changes)))
    if ctx.run_url:
        out += ["", f"[Run]({ctx.run_url})"]
    return "\n".join(out) + "\n"


def _tag_cell(tag: str, gone: bool, ctx: Context) -> str:
    if gone:
        return code(tag) + " (deleted)"
    return link(tag, ctx.tag_url(tag)) if ctx.tag_url(tag) else code(tag)


def _tag_rows(changes: Changes) -> list[list[str]]:
    """One row per tag, filled from its name (and the registry, when git still has it)."""
    rows = []
    for t in changes.tags:
        event = t.event or "not a registry tag"
        registry_tag = t.event is not None
        if t.version:
            version = code(short(t.version))
        else:
            version = UNKNOWN if registry_tag and t.deleted else ""
        rows.append(
            [
                code(t.tag) + (" (deleted)" if t.deleted else ""),
                ("deleted " if t.deleted else "") + event,
                code(t.artifact) if t.artifact else "",
                version,
                code(t.stage) if t.stage else "",
            ]
        )
    return rows


def empty_outputs() -> dict[str, str]:
    """The move outputs of a run that failed before it knew the moves."""
    values = dict.fromkeys(("event", "name", "version", "stage", "type", "path"), "")
    return values | {"description": "", "moves": "[]", "changed": "false"}


def errors_markdown(errors: list[str]) -> str:
    """What failed, first in the summary: the rest of it is what was known before."""
    if not errors:
        return ""
    out = ["## Failed", ""]
    for error in errors:
        out += [code_block(error), ""]
    return "\n".join(out) + "\n"
