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
    assert ready == [] and [w.why for w in waiting] == ["soaked 23.0h of 24h"]
    ready, waiting = _due(r, store, deployed + timedelta(hours=24, minutes=1))
    [d] = ready
    assert (d.artifact, d.version, d.source, d.target) == ("churn", "v1.0.0", "staging", "prod")
    assert d.commit == r.rev("churn@v1.0.0") and "ran healthy in staging" in d.reason
    assert waiting == []


def test_not_due_when_unhealthy_somewhere_or_already_there(tmp_path: Path) -> None:
    r, store = _repo(tmp_path, healthy=False)  # staging-eu's health check fails
    later = datetime.now(UTC) + timedelta(days=3)
    ready, waiting = _due(r, store, later)
    assert ready == [] and "not deployed healthy" in waiting[0].why
    r2, store2 = _repo(tmp_path / "two")
    r2.tag("churn#prod#2", ref=r2.rev("churn@v1.0.0"), epoch=T + 10)
    assert _due(r2, store2, later) == ([], [])
