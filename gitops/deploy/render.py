"""Plans and results for people: a terminal table and Markdown for summaries and PR comments."""

from __future__ import annotations

from collections.abc import Sequence

from gitops.deploy.apply import Result
from gitops.deploy.plan import Plan
from gitops.markdown import code, escape, table
from gitops.markdown import strip_control as clean
from gitops.registry.views import short

SYMBOL = {
    "deploy": "+",
    "update": "~",
    "rollback": "<",
    "remove": "-",
    "orphan": "?",
    "in-sync": "=",
}


def _columns(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows
    )


def plan_table(plan: Plan, show_in_sync: bool = False) -> str:
    rows = [["", "ENVIRONMENT", "ARTIFACT", "ACTION", "FROM", "TO"]]
    for a in plan.actions:
        if a.kind == "in-sync" and not show_in_sync:
            continue
        note = " (failed before)" if a.failed_before else ""
        note += " (drift: found running)" if a.drift else ""
        kind = "remove (prune off: kept)" if a.kind == "orphan" else a.kind
        rows.append(
            [
                SYMBOL[a.kind],
                clean(a.environment),
                clean(a.artifact),
                kind + note,
                short(a.from_version),
                short(a.to_version),
            ]
        )
    in_sync = sum(1 for a in plan.actions if a.kind == "in-sync")
    summary = f"{len(plan.changes)} to change, {in_sync} in sync"
    if len(rows) == 1:
        return f"Everything is in sync ({in_sync} artifact(s) in their environments)."
    return _columns(rows) + "\n\n" + summary


def plan_markdown(plan: Plan) -> str:
    changes = [a for a in plan.actions if a.kind != "in-sync"]
    out = ["## Deployment plan", ""]
    if not changes:
        out.append("Every environment is in sync with the registry.")
        return "\n".join(out) + "\n"
    rows = [
        [
            code(a.environment),
            code(a.artifact),
            escape("remove (prune off: kept)" if a.kind == "orphan" else a.kind),
            code(short(a.from_version)) if a.from_version else "_(none)_",
            code(short(a.to_version)) if a.to_version else "_(none)_",
        ]
        for a in changes
    ]
    out.append(table(["Environment", "Artifact", "Action", "From", "To"], rows))
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
                clean(r.message)[:120],
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
            escape(r.message[:200]),
        ]
        for r in results
    ]
    out.append(table(["Environment", "Artifact", "Result", "From", "To", "Message"], rows))
    return "\n".join(out) + "\n"
