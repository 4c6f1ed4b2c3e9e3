"""Live state: what each environment runs now, who put it there and why, and the locks.

One JSON document, the same for every store. It is read at a boundary (a file, a branch another
run may have written), so it is a pydantic model; a damaged document is a clear error.
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
    status: Literal["deployed", "failed", "rolled-back", "removed"] = "deployed"
    attempted: str | None = None  # the version that failed, when status is not "deployed"
    at: str = ""  # ISO time
    by: str = ""  # actor
    why: str = ""  # the tag or reason
    run_url: str = ""
    message: str = ""


class Lock(BaseModel):
    owner: str  # a run id (platform run URL or host:pid)
    since: float  # epoch seconds
    expires: float


class LiveState(BaseModel):
    model_config = ConfigDict(extra="ignore")

    schema_version: int = SCHEMA_VERSION
    environments: dict[str, dict[str, Deployed]] = Field(default_factory=dict)
    history: dict[str, dict[str, list[Deployed]]] = Field(default_factory=dict)
    locks: dict[str, Lock] = Field(default_factory=dict)

    def live(self, environment: str, artifact: str) -> Deployed | None:
        return self.environments.get(environment, {}).get(artifact)

    def record(self, environment: str, artifact: str, entry: Deployed, keep: int) -> None:
        """Set what runs now and push the previous entry into the bounded history."""
        current = self.environments.setdefault(environment, {})
        previous = current.get(artifact)
        if previous is not None and keep:
            past = self.history.setdefault(environment, {}).setdefault(artifact, [])
            past.insert(0, previous)
            del past[keep:]
        current[artifact] = entry

    def lock_holder(self, environment: str, now: float) -> Lock | None:
        lock = self.locks.get(environment)
        return lock if lock is not None and lock.expires > now else None

    def dump(self) -> str:
        return self.model_dump_json(indent=2, exclude_defaults=False) + "\n"


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
