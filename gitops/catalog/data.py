"""The catalog's data as plain JSON-able dicts: the overview (``catalog.json``), each model's page
and each environment's page. Pure: from ``gather.Sources`` and the links, nothing read here.

Lists that grow with the registry are cut to what a page shows (``PAGE``, ``EVENTS``...); each
says how many there were, so a page can tell what it left out and link to the rest.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from typing import TYPE_CHECKING, Any

from gitops.catalog.gather import Sources
from gitops.catalog.links import Links

if TYPE_CHECKING:
    from gitops.deploy.state import Deployed
    from gitops.registry.state import Artifact, RegistryEvent

SCHEMA = 1
PAGE = 50  # versions per page of a model
EVENTS = 30  # registry events on a model page (newest first)
STORIES = 25  # audit stories on a model page
DEPLOYS = 50  # deploy records on an environment page
MAX_CHARTS = 12  # metrics charted per model
MAX_METRIC_ROWS = 200  # metrics in a model's table of latest values

HEALTH = {  # a deploy record's status -> what the catalog says of the environment's health
    "deployed": "healthy",
    "proposed": "proposed",
    "failed": "failed",
    "rolled-back": "rolled back",
    "removed": "removed",
}
_UNSAFE = re.compile(r"[^a-z0-9-]")


@functools.cache
def slug(name: str) -> str:
    """A file name for an artifact or environment: lower-case letters, digits and dashes, with a
    digest of the name when anything had to change (``Churn`` and ``churn`` are two files)."""
    clean = _UNSAFE.sub("_", name.lower())
    if clean == name:
        return clean
    return f"{clean}-{hashlib.sha1(name.encode()).hexdigest()[:8]}"  # noqa: S324 - a name, not a secret


def _time(e: RegistryEvent) -> str:
    return e.created_at.isoformat()


def _annotation(artifact: Artifact) -> dict[str, Any]:
    """The latest ``artifacts.yaml`` entry GTO attached to any of the artifact's versions."""
    latest = None
    for version in artifact.versions:
        for event in version.enrichments:
            if event.annotation is not None and (latest is None or event.time >= latest[0]):
                latest = (event.time, event.annotation)
    if latest is None:
        return {"type": None, "path": None, "description": "", "labels": []}
    note = latest[1]
    return {
        "type": note.type,
        "path": note.path,
        "description": note.description,
        "labels": list(note.labels),
    }


def build(sources: Sources, links: Links) -> dict[str, Any]:
    """The whole catalog: ``overview``, ``models`` (name -> page data), ``environments``."""
    from gitops.deploy.plan import artifact_info
    from gitops.registry.views import ShowOptions

    registry = sources.registry
    stages = registry.stages
    opts = ShowOptions()
    info = artifact_info(registry) if sources.config is not None else {}
    env_names = list(sources.config.environments) if sources.config is not None else []
    env_slugs = {name: slug(name) for name in env_names}
    runs_in = _runs_in(sources)
    stories_of: dict[str, list[Any]] = {}
    for story in sources.stories:
        stories_of.setdefault(story.artifact, []).append(story)

    rows: list[dict[str, Any]] = []
    models: dict[str, dict[str, Any]] = {}
    for name, artifact in registry.state.artifacts.items():
        note = _annotation(artifact)
        if name in info and info[name].type is not None:
            note["type"], note["path"] = info[name].type, info[name].path
        latest = artifact.latest_version(registered_only=True)
        held = opts.vstages(artifact) if artifact.is_active else {}
        row = {
            "name": name,
            "slug": slug(name),
            **note,
            "latest": latest.version if latest else None,
            "stages": {s: (held[s][0].version if held.get(s) else None) for s in stages},
            "active": artifact.is_active,
            "deprecated": bool(artifact.deprecations) and not artifact.is_active,
            "environments": [
                {**r, "slug": env_slugs[r["environment"]]} for r in runs_in.get(name, [])
            ],
        }
        rows.append(row)
        models[name] = _model_page(sources, links, artifact, row, stories_of.get(name, []))
    actions = _by_environment(sources)
    summaries = [
        _environment_summary(sources, env, env_slugs[env], actions.get(env, []))
        for env in env_names
    ]
    overview = {
        "schema": SCHEMA,
        "head": registry.state.head,
        "stages": stages,
        "models": rows,
        "environments": summaries,
        "conflicts": [str(c) for c in registry.state.conflicts.values()],
        "repo_url": links.repo_url,
    }
    environments = {
        s["name"]: _environment_page(sources, links, s, actions.get(s["name"], []))
        for s in summaries
    }
    return {"overview": overview, "models": models, "environments": environments}


def _runs_in(sources: Sources) -> dict[str, list[dict[str, Any]]]:
    """artifact -> what each environment runs of it, with its health."""
    out: dict[str, list[dict[str, Any]]] = {}
    if sources.state is None or sources.config is None:
        return out
    for env in sources.config.environments:
        for artifact, entry in sorted(sources.state.deployed(env).items()):
            out.setdefault(artifact, []).append({
                "environment": env,
                "version": entry.version,
                "status": entry.status,
                "health": HEALTH.get(entry.status, entry.status),
                "since": entry.at,
            })  # fmt: skip
    return out


def _model_page(
    sources: Sources, links: Links, artifact: Artifact, row: dict[str, Any], stories: list[Any]
) -> dict[str, Any]:
    versions = []  # newest first (by SemVer, as ``gto show NAME`` lists them)
    for v in artifact.get_versions(active_only=False, include_non_explicit=True, sort="semver"):
        event = v.registrations[0] if v.registrations else v.authoring_event
        versions.append({
            "version": v.version,
            "commit": v.commit,
            "commit_url": links.commit(v.commit),
            "tag": event.tag or "",
            "tag_url": links.tag(event.tag or ""),
            "created_at": _time(event),
            "author": event.author,
            "stages": [s for s, held in row["stages"].items() if held == v.version],
            "active": v.is_active,
            "registered": v.is_registered,
        })  # fmt: skip
    events = [
        {
            "time": _time(e),
            "event": e.kind,
            "version": e.version,
            "stage": e.stage,
            "tag": e.tag or "",
            "tag_url": links.tag(e.tag or ""),
            "author": e.author,
        }
        for e in artifact.events_desc[:EVENTS]
        if e.tag
    ]
    return {
        "model": row,
        "versions": versions,
        "events": events,
        "events_total": len(artifact.events_desc),
        "timeline": _timeline(artifact),
        "charts": _charts(sources, artifact.name),
        "stories": [_story(s, links) for s in stories[:STORIES]],
        "stories_total": len(stories),
    }


def _timeline(artifact: Artifact) -> dict[str, list[dict[str, Any]]]:
    """stage -> which version held it from when to when, oldest first: the latest active
    assignment holds a stage (as ``gto show`` has it), an unassignment hands it back to the
    version assigned before, if still there."""
    per_stage: dict[str, list[RegistryEvent]] = {}
    for v in artifact.versions:
        for stage, vs in v.stages.items():
            per_stage.setdefault(stage, []).extend(vs.events_desc)
    out: dict[str, list[dict[str, Any]]] = {}
    for stage in sorted(per_stage):
        active: list[str] = []
        spans: list[dict[str, Any]] = []
        holder: str | None = None
        for e in sorted(per_stage[stage], key=lambda e: (e.time, e.tag or "")):
            assert e.version is not None
            if e.version in active:
                active.remove(e.version)
            if e.addition:
                active.append(e.version)
            now = active[-1] if active else None
            if now != holder:
                if spans and spans[-1]["to"] is None:
                    spans[-1]["to"] = _time(e)
                if now is not None:
                    spans.append({"version": now, "from": _time(e), "to": None, "tag": e.tag})
                holder = now
        out[stage] = spans
    return out


def _charts(sources: Sources, name: str) -> dict[str, Any]:
    """Each numeric metric across the charted versions (oldest first), and a table of every
    metric's latest value. Metrics with a direction first, as the report charts them."""
    from gitops.report.direction import Directions
    from gitops.report.model import Direction, Kind

    chosen = sources.charted.get(name, [])
    settings = sources.config.reports if sources.config is not None else None
    directions = Directions(settings)
    series: dict[tuple[str, str], list[float | None]] = {}
    latest: dict[tuple[str, str], Any] = {}
    for i, v in enumerate(chosen):
        snap = sources.snapshots.get(v.commit)
        if snap is None:
            continue
        for read in snap.files:
            if read.kind != Kind.METRICS:
                continue
            for key, value in read.values.items():
                latest[(read.path, key)] = value
                if isinstance(value, bool) or not isinstance(value, int | float):
                    continue
                if not math.isfinite(value):
                    continue
                values = series.setdefault((read.path, key), [None] * len(chosen))
                values[i] = value
    with_dir = [(k, directions(k[0], k[1], Kind.METRICS)) for k in series]
    with_dir.sort(key=lambda kd: kd[1] == Direction.NONE)  # stable: file order within
    charts = [
        {
            "path": path,
            "metric": key,
            "direction": str(direction),
            "values": series[(path, key)],
        }
        for (path, key), direction in with_dir[:MAX_CHARTS]
    ]
    table = [{"path": p, "metric": k, "value": v} for (p, k), v in latest.items()]
    return {
        "versions": [v.version for v in chosen],
        "series": charts,
        "series_total": len(series),
        "latest": table[:MAX_METRIC_ROWS],
        "latest_total": len(table),
    }


def _story(s: Any, links: Links) -> dict[str, Any]:
    return {
        "version": s.version,
        "stage": s.stage,
        "tag": s.tag,
        "tag_url": links.tag(s.tag),
        "tagged_by": s.tagged_by,
        "tagged_at": s.tagged_at,
        "requested_by": s.requested_by,
        "reason": s.reason,
        "merged_by": s.merged_by,
        "approved_by": list(s.approved_by),
        "pr_url": s.pr_url,
        "pr_link": links.pr(s.pr_url),
        "notes": list(s.notes),
        "deploys": [
            {
                "environment": d.environment,
                "status": d.status,
                "at": d.at,
                "by": d.by,
                "run_url": links.run(d.run_url),
            }
            for d in s.deploys
        ],
        "rolled_back": s.rolled_back,
    }


def _deployed(entry: Deployed, links: Links) -> dict[str, Any]:
    return {
        "version": entry.version,
        "commit": entry.commit,
        "commit_url": links.commit(entry.commit or ""),
        "status": entry.status,
        "health": HEALTH.get(entry.status, entry.status),
        "attempted": entry.attempted,
        "kind": entry.kind,
        "at": entry.at,
        "by": entry.by,
        "why": entry.why,
        "run_url": links.run(entry.run_url),
        "message": entry.message,
    }


def _by_environment(sources: Sources) -> dict[str, list[Any]]:
    """The plan's actions of each environment, in one pass."""
    out: dict[str, list[Any]] = {}
    for action in sources.plan.actions if sources.plan is not None else []:
        out.setdefault(action.environment, []).append(action)
    return out


def _environment_summary(
    sources: Sources, env: str, env_slug: str, actions: list[Any]
) -> dict[str, Any]:
    assert sources.config is not None
    settings = sources.config.environments[env]
    deployed = sources.state.deployed(env) if sources.state is not None else {}
    statuses = [e.status for e in deployed.values()]
    health = "unknown"
    if statuses:
        bad = [s for s in statuses if s in ("failed", "rolled-back")]
        health = HEALTH[bad[0]] if bad else "healthy"
    return {
        "name": env,
        "slug": env_slug,
        "stage": settings.stage,
        "driver": settings.deploy.driver,
        "running": len([e for e in deployed.values() if e.version is not None]),
        "health": health,
        "changes": len([a for a in actions if a.is_change]),
        "drift": len([a for a in actions if a.drift]),
    }


def _environment_page(
    sources: Sources, links: Links, summary: dict[str, Any], actions: list[Any]
) -> dict[str, Any]:
    env = summary["name"]
    state = sources.state
    known = sources.registry.state.artifacts

    def page(name: str) -> str:  # an artifact no longer in the registry has no page
        return slug(name) if name in known else ""

    deployed = state.deployed(env) if state is not None else {}
    running = [
        {"artifact": a, "slug": page(a), **_deployed(e, links)} for a, e in sorted(deployed.items())
    ]
    records: list[dict[str, Any]] = []
    if state is not None:
        doc = state.environments.get(env)
        if doc is not None:
            for artifact, entry in doc.deployed.items():
                records.append({"artifact": artifact, "slug": page(artifact),
                                **_deployed(entry, links)})  # fmt: skip
            for artifact, past in doc.history.items():
                records += [{"artifact": artifact, "slug": page(artifact), **_deployed(e, links)}
                            for e in past]  # fmt: skip
    records.sort(key=lambda r: r["at"], reverse=True)
    plan = [
        {
            "artifact": a.artifact,
            "slug": page(a.artifact),
            "kind": a.kind,
            "from": a.from_version,
            "to": a.to_version,
            "drift": a.drift,
            "drift_reason": a.drift_reason,
            "waiting": list(a.waiting),
            "observed": a.observed,
            "held": a.held,
        }
        for a in actions
        if a.kind != "in-sync" or a.drift or a.waiting or not a.observed
    ]
    return {
        "summary": summary,
        "running": running,
        "deploys": records[:DEPLOYS],
        "deploys_total": len(records),
        "rollbacks": len([r for r in records if r["status"] == "rolled-back"]),
        "plan": plan,  # what is not simply in sync
        "in_sync": len(actions) - len(plan),
    }
