"""Automatic proposals: a version that has run healthy in every environment of its stage for the
soak time is due for the next stage; before that, not (time injected, never slept)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gitutil import Repo

from gitops.config import load_config
from gitops.deploy.apply import RunInfo, apply
from gitops.deploy.state import Deployed, EnvironmentState, LiveState
from gitops.deploy.store import FileStore
from gitops.promote.propose import due
from gitops.registry.reader import load_registry

T = 1_767_225_600


def _repo(tmp_path: Path, healthy: bool = True) -> tuple[Repo, FileStore]:
    check = json.dumps([sys.executable, "-c", f"raise SystemExit({0 if healthy else 1})"])
    local = f"{{driver: local, dir: {json.dumps(str(tmp_path / 'deploy'))}}}"
    health = f"{{command: {check}, retries: 0}}"
    cfg = (
        "environments:\n"
        f"  staging-eu: {{stage: staging, deploy: {local}, health: {health}}}\n"
        f"  staging-us: {{stage: staging, deploy: {local}}}\n"
        f"  prod: {{stage: prod, deploy: {local}}}\n"
        "policies:\n"
        "  staging:\n"
        "    promote: {to: prod, when: healthy, soak: 24h}\n"
    )
    r = Repo(tmp_path / "r")
    r.commit(files={"gitops.yaml": cfg, "m.pkl": "1", ".gitignore": ".gitops/\n"}, epoch=T)
    r.tag("churn@v1.0.0", epoch=T + 1)
    r.tag("churn#staging#1", epoch=T + 2)
    store = FileStore(r.path / ".gitops" / "state")
    config = load_config(r.path)
    assert config is not None
    apply(load_registry(r.path), config, store, RunInfo(actor="ci"), log=lambda _: None)
    return r, store


def _due(r: Repo, store: FileStore, now: datetime):  # noqa: ANN202
    config = load_config(r.path)
    assert config is not None
    state, _ = store.read(list(config.environments))
    return due(config, load_registry(r.path), state, now)


def test_a_version_is_due_once_it_soaked_in_every_environment(tmp_path: Path) -> None:
    r, store = _repo(tmp_path)
    deployed = datetime.now(UTC)
    ready, waiting = _due(r, store, deployed + timedelta(hours=23))
    [why] = [w.why for w in waiting]
    assert ready == [] and why.startswith("soaked 23h") and "of 24h in staging-" in why
    assert f"(due {deployed + timedelta(hours=24):%Y-%m-%d %H}:" in why  # when to expect it
    ready, waiting = _due(r, store, deployed + timedelta(hours=24, minutes=1))
    [d] = ready
    assert (d.artifact, d.version, d.source, d.target) == ("churn", "v1.0.0", "staging", "prod")
    assert d.commit == r.rev("churn@v1.0.0") and "ran healthy in staging" in d.reason
    assert waiting == []


def test_not_due_when_unhealthy_somewhere_or_already_there(tmp_path: Path) -> None:
    r, store = _repo(tmp_path, healthy=False)  # staging-eu's health check fails
    later = datetime.now(UTC) + timedelta(days=3)
    ready, waiting = _due(r, store, later)
    [w] = waiting
    assert ready == [] and w.why == "not healthy in staging-eu yet: v1.0.0 failed there"
    r2, store2 = _repo(tmp_path / "two")
    r2.tag("churn#prod#2", ref=r2.rev("churn@v1.0.0"), epoch=T + 10)
    assert _due(r2, store2, later) == ([], [])


def _record(version: str, at: datetime, kind: str = "deploy") -> Deployed:
    return Deployed(version=version, commit="c" * 40, at=at.isoformat(), kind=kind)


def _config(tmp_path: Path, artifacts: str = "") -> Repo:
    """churn v1.0.0 in staging; staging-eu, staging-us (``artifacts``: what the latter serves)."""
    cfg = (
        "environments:\n"
        "  staging-eu: {stage: staging, deploy: {driver: local}}\n"
        f"  staging-us: {{stage: staging, deploy: {{driver: local}}{artifacts}}}\n"
        "  prod: {stage: prod, deploy: {driver: local}}\n"
        "policies:\n"
        "  staging: {promote: {to: prod, soak: 24h}}\n"
    )
    r = Repo(tmp_path / "r")
    r.commit(files={"gitops.yaml": cfg}, epoch=T)
    r.tag("churn@v1.0.0", epoch=T + 1)
    r.tag("churn#staging#1", epoch=T + 2)
    return r


def _due_in(r: Repo, state: LiveState, now: datetime):  # noqa: ANN202
    config = load_config(r.path)
    assert config is not None
    return due(config, load_registry(r.path), state, now)


def test_an_environment_that_does_not_serve_the_artifact_neither_counts_nor_blocks(
    tmp_path: Path,
) -> None:
    r = _config(tmp_path, artifacts=", artifacts: [other]")
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    state = LiveState()
    state.environments["staging-eu"] = EnvironmentState(
        deployed={"churn": _record("v1.0.0", start)}
    )
    [d], waiting = _due_in(r, state, start + timedelta(hours=25))
    assert waiting == [] and d.since == start.isoformat()
    r2 = _config(tmp_path / "all")  # now staging-us serves churn and never ran it: it waits
    ready, [w] = _due_in(r2, state, start + timedelta(hours=25))
    assert ready == [] and w.why.startswith("not healthy in staging-us yet: v1.0.0 has not run")


def test_a_run_replaced_by_another_version_counts_only_until_it_was_replaced(
    tmp_path: Path,
) -> None:
    """v1.0.0 ran 2h in staging-us before v1.1.0 (a hand deploy) replaced it: waiting longer
    does not make those 2h into 24h (the policy check at merge measures it the same way)."""
    r = _config(tmp_path)
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    eu = EnvironmentState(deployed={"churn": _record("v1.0.0", start)})
    us = EnvironmentState(
        deployed={"churn": _record("v1.1.0", start + timedelta(hours=2), kind="update")},
        history={"churn": [_record("v1.0.0", start)]},
    )
    state = LiveState({"staging-eu": eu, "staging-us": us})
    ready, [w] = _due_in(r, state, start + timedelta(days=5))
    assert ready == []
    assert w.why == "ran healthy in staging-us for 2h of 24h before v1.1.0 replaced it"
    state.environments["staging-us"] = EnvironmentState(
        deployed={"churn": _record("v1.0.0", start)}
    )
    [d], [] = _due_in(r, state, start + timedelta(days=5))
    assert (d.version, d.target) == ("v1.0.0", "prod")


def test_never_a_rollback_nor_an_unregistered_version(tmp_path: Path) -> None:
    """prod got v1.1.0 by a hotfix while staging still runs v1.0.0: proposing v1.0.0 would roll
    prod back. A stage holding a bare commit (no version) cannot be proposed either."""
    r = _config(tmp_path)
    r.commit(files={"x": "1"}, epoch=T + 5)
    r.tag("churn@v1.1.0", epoch=T + 6)
    r.tag("churn#prod#2", epoch=T + 7)
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    running = {"churn": _record("v1.0.0", start)}
    state = LiveState(
        {e: EnvironmentState(deployed=dict(running)) for e in ("staging-eu", "staging-us")}
    )
    ready, [w] = _due_in(r, state, start + timedelta(days=5))
    assert ready == [] and w.why == "prod holds v1.1.0, newer: a proposal never rolls it back"
    r2 = _config(tmp_path / "bare")
    r2.commit(files={"y": "1"}, epoch=T + 5)
    r2.tag("churn#staging#2", epoch=T + 6)  # a commit, not a registered version
    sha = r2.rev()
    state2 = LiveState({e: EnvironmentState(deployed={"churn": _record(sha, start)})
                        for e in ("staging-eu", "staging-us")})  # fmt: skip
    ready, [w] = _due_in(r2, state2, start + timedelta(days=5))
    assert ready == [] and w.why.endswith(
        "is not a registered version (register it to have it proposed)"
    )
