"""Plans and results for people: a terminal table and Markdown for summaries and PR comments."""

from __future__ import annotations

from collections.abc import Sequence

from gitops.artifacts.resolve import NotFound, Source, amount
from gitops.deploy.apply import Result
from gitops.deploy.plan import Action, Plan
from gitops.errors import GitopsError
from gitops.markdown import code, escape, table
from gitops.markdown import strip_control as clean
from gitops.registry.views import short
from gitops.text import shorten

TABLE_MESSAGE = 120  # characters of a message in a terminal table
MARKDOWN_MESSAGE = 300  # ... and in a summary or comment table

SYMBOL = {
    "deploy": "+",
    "update": "~",
    "rollback": "<",
    "remove": "-",
    "redeploy": "*",
    "orphan": "?",
    "held": "!",
    "in-sync": "=",
}


def notes(a: Action) -> str:
    """Why an action is what it is: waits, drift, earlier failures, conflicts, blind spots."""
    parts = []
    if a.held:
        parts.append(f"held: {a.held}")
    parts += list(a.waiting)
    if a.drift:
        parts.append(f"drift: {a.drift_reason or 'found running'}")
    if a.failed_before:
        parts.append(f"{a.to_version} failed here before: not retried without --retry-failed")
    if not a.observed and a.kind == "in-sync":
        parts.append("in sync by the state store (this driver cannot look)")
    return "; ".join(parts)


def _kind(a: Action) -> str:
    return "remove (prune off: kept)" if a.kind == "orphan" else a.kind


def _blind(plan: Plan) -> list[str]:
    return sorted({a.environment for a in plan.actions if not a.observed})


def _columns(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows
    )


def plan_table(plan: Plan, show_in_sync: bool = False) -> str:
    rows = [["", "ENVIRONMENT", "ARTIFACT", "ACTION", "FROM", "TO", "NOTE"]]
    for a in plan.actions:
        if a.kind == "in-sync" and not show_in_sync:
            continue
        rows.append(
            [
                SYMBOL[a.kind],
                clean(a.environment),
                clean(a.artifact),
                _kind(a),
                short(a.from_version),
                short(a.to_version),
                shorten(clean(notes(a)), TABLE_MESSAGE),
            ]
        )
    in_sync = sum(1 for a in plan.actions if a.kind == "in-sync")
    blind = _blind(plan)
    unseen = f"; not observed: {', '.join(blind)} (their drivers cannot look)" if blind else ""
    if len(rows) == 1:
        return f"Everything is in sync ({in_sync} artifact(s) in their environments){unseen}."
    waiting = sum(1 for a in plan.changes if a.waiting)
    waits = f" ({waiting} waiting)" if waiting else ""
    text = _columns(rows) + f"\n\n{len(plan.changes)} to change{waits}, {in_sync} in sync{unseen}"
    if _worth_showing(plan):
        lines = [
            [clean(artifact), short(version), shorten(clean(_source_text(found)), TABLE_MESSAGE)]
            for (artifact, version), found in plan.sources.items()
        ]
        text += "\n\nWhere the bytes come from:\n" + _columns(
            [["ARTIFACT", "VERSION", "FROM"], *lines]
        )
    return text


def _worth_showing(plan: Plan) -> bool:
    """Some version's bytes are in Git or DVC, or one cannot be told for a reason worth
    reading: a registry whose paths are all virtual (URLs) gets no table of blanks."""
    return any(not isinstance(found, NotFound) for found in plan.sources.values())


def _source_text(found: Source | GitopsError) -> str:
    if isinstance(found, Source):
        return found.describe()
    if isinstance(found, NotFound):
        return "not in Git or DVC at this version (its path is as annotated)"
    return f"cannot tell: {found}"


def sources_markdown(plan: Plan) -> str:
    """The table of where each deployed version's bytes come from ("" when none is known)."""
    if not _worth_showing(plan):
        return ""
    rows = []
    for (artifact, version), found in plan.sources.items():
        if isinstance(found, Source):
            where = _where_markdown(found)
            size = escape(amount(found))
        elif isinstance(found, NotFound):
            where, size = "_not in Git or DVC at this version_", ""
        else:
            where, size = f"_cannot tell_: {escape(shorten(str(found), MARKDOWN_MESSAGE))}", ""
        rows.append([code(artifact), code(short(version)), where, size])
    return table(["Artifact", "Version", "Bytes from", "Size"], rows)


def _where_markdown(source: Source) -> str:
    if source.kind == "git":
        return "Git"
    if not source.remote:
        return "DVC (no remote configured)"
    inside = f", in output {code(source.output)}" if source.output != source.path else ""
    return f"DVC remote {code(source.remote)} ({code(source.remote_url)}){inside}"


def plan_markdown(plan: Plan) -> str:
    changes = [a for a in plan.actions if a.kind != "in-sync"]
    out = ["## Deployment plan", ""]
    blind = _blind(plan)
    if not changes:
        out.append("Every environment is in sync with the registry.")
        if blind:
            out += ["", f"Not observed (their drivers cannot look): {escape(', '.join(blind))}."]
        return "\n".join(out) + "\n"
    rows = [
        [
            code(a.environment),
            code(a.artifact),
            escape(_kind(a)),
            code(short(a.from_version)) if a.from_version else "_(none)_",
            code(short(a.to_version)) if a.to_version else "_(none)_",
            escape(shorten(notes(a), MARKDOWN_MESSAGE)),
        ]
        for a in changes
    ]
    out.append(table(["Environment", "Artifact", "Action", "From", "To", "Note"], rows))
    if _worth_showing(plan):
        out += ["", "Where the bytes come from:", "", sources_markdown(plan)]
    if blind:
        out += ["", f"Not observed (their drivers cannot look): {escape(', '.join(blind))}."]
    return "\n".join(out) + "\n"


def results_table(results: Sequence[Result]) -> str:
    if not results:
        return "Nothing to do."
    rows = [["ENVIRONMENT", "ARTIFACT", "RESULT", "FROM", "TO", "SECONDS", "MESSAGE"]]
    for r in results:
        rows.append(
            [
                clean(r.environment),
                clean(r.artifact),
                r.status,
                short(r.from_version),
                short(r.to_version),
                f"{r.seconds:.1f}",
                shorten(clean(r.message), TABLE_MESSAGE),
            ]
        )
    return _columns(rows)


def results_markdown(results: Sequence[Result]) -> str:
    out = ["## Deployments", ""]
    if not results:
        return "\n".join(out + ["Nothing to do."]) + "\n"
    rows = [
        [
            code(r.environment),
            code(r.artifact),
            escape(r.status),
            code(short(r.from_version)) if r.from_version else "_(none)_",
            code(short(r.to_version)) if r.to_version else "_(none)_",
            escape(shorten(r.message, MARKDOWN_MESSAGE)),
        ]
        for r in results
    ]
    out.append(table(["Environment", "Artifact", "Result", "From", "To", "Message"], rows))
    return "\n".join(out) + "\n"
