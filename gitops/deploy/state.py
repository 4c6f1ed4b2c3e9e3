"""Live state: what each environment runs now, who put it there and why, and its lock.

One small JSON document per environment (``<environment>.json`` in the file store's directory or
on the state branch), so a deploy to one environment reads and writes only that environment:
the cost of a record does not grow with the number of environments, and the branch's history
shows per-environment diffs. Documents are read at a boundary (another run may have written
them), so they are pydantic models; a damaged one is a clear error.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1


class Deployed(BaseModel):
    """One deploy result for an (environment, artifact)."""

    model_config = ConfigDict(extra="ignore")

    version: str | None  # what runs now (None: nothing)
    commit: str | None = None
    # proposed: handed off as a pull request (manifest driver); it runs once that is merged
    # failed: ``version`` was put there (all or in part) and is not healthy; rolled-back:
    # ``attempted`` failed and ``version``, what ran before, runs again
    status: Literal["deployed", "proposed", "failed", "rolled-back", "removed"] = "deployed"
    attempted: str | None = None  # the version that failed, when status is not "deployed"
    kind: str | None = None  # the plan's word: deploy, update, rollback, redeploy, remove
    at: str = ""  # ISO time
    by: str = ""  # actor
    why: str = ""  # the tag or reason
    run_url: str = ""
    message: str = ""
    stdout: list[str] = Field(default_factory=list)  # the deploy's last lines, secrets masked
    stderr: list[str] = Field(default_factory=list)


class Lock(BaseModel):
    owner: str  # a run id (platform run URL or host:pid)
    since: float  # epoch seconds
    expires: float


class EnvironmentState(BaseModel):
    """The document of one environment."""

    model_config = ConfigDict(extra="ignore")

    schema_version: int = SCHEMA_VERSION
    deployed: dict[str, Deployed] = Field(default_factory=dict)
    history: dict[str, list[Deployed]] = Field(default_factory=dict)
    lock: Lock | None = None

    def dump(self) -> str:
        return self.model_dump_json(indent=2) + "\n"


class LiveState:
    """The environments a command loaded, and which of them it changed (``dirty``)."""

    def __init__(self, environments: dict[str, EnvironmentState] | None = None) -> None:
        self.environments: dict[str, EnvironmentState] = environments or {}
        self.dirty: set[str] = set()

    def env(self, name: str) -> EnvironmentState:
        if name not in self.environments:
            self.environments[name] = EnvironmentState()
        return self.environments[name]

    def deployed(self, environment: str) -> dict[str, Deployed]:
        doc = self.environments.get(environment)
        return doc.deployed if doc is not None else {}

    def live(self, environment: str, artifact: str) -> Deployed | None:
        return self.deployed(environment).get(artifact)

    def history(self, environment: str, artifact: str) -> list[Deployed]:
        doc = self.environments.get(environment)
        return doc.history.get(artifact, []) if doc is not None else []

    def record(self, environment: str, artifact: str, entry: Deployed, keep: int) -> None:
        """Set what runs now and push the previous entry into the bounded history."""
        doc = self.env(environment)
        previous = doc.deployed.get(artifact)
        if previous is not None and keep:
            past = doc.history.setdefault(artifact, [])
            past.insert(0, previous)
            del past[keep:]
        doc.deployed[artifact] = entry
        self.dirty.add(environment)

    def lock_holder(self, environment: str, now: float) -> Lock | None:
        doc = self.environments.get(environment)
        lock = doc.lock if doc is not None else None
        return lock if lock is not None and lock.expires > now else None

    def set_lock(self, environment: str, lock: Lock | None) -> None:
        doc = self.env(environment)
        if doc.lock != lock:
            doc.lock = lock
            self.dirty.add(environment)


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
