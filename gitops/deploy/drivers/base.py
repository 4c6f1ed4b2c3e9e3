"""The one interface every deploy driver implements, and the facts a deploy gets.

A driver knows nothing about the forge, the plan or the state store: it is handed one
``DeployRequest`` (put this version of this artifact into this environment) and says what
happened. Settings come from the environment's ``deploy:`` block in gitops.yaml, validated by
the driver's own pydantic model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from gitops.artifacts.fetch import FetchCache, Fetched, process_fetches
from gitops.artifacts.resolve import Source
from gitops.errors import GitopsError


class DriverSettings(BaseModel):
    """Base of every driver's settings model: unknown keys are errors (typos show up)."""

    model_config = ConfigDict(extra="forbid")

    driver: str


@dataclass(frozen=True)
class DeployRequest:
    environment: str
    artifact: str
    stage: str
    version: str | None  # None: remove the artifact from the environment
    commit: str | None  # the version's commit
    previous_version: str | None  # what the environment ran before, if anything
    path: str | None  # the artifact's path (artifacts.yaml / dvc.yaml), when annotated
    repo: Path  # the registry repository's work tree
    timeout: float  # seconds the driver may take
    run_url: str = ""
    dry_run: bool = False
    # deploy | remove | rollback (putting ``version`` back after ``previous_version`` failed)
    action: str = ""
    # Where a driver sends what its process prints, line by line, as it prints it: ("stdout" or
    # "stderr", line). The applier masks secrets and logs it; None: nobody listens.
    on_output: Callable[[str, str], None] | None = field(default=None, compare=False, repr=False)
    # The run's resolver and fetcher of artifact bytes: one fetch per version per run, however
    # many environments deploy it. None (a request made outside a run): one for the process.
    fetches: FetchCache | None = field(default=None, compare=False, repr=False)

    def source(self) -> Source:
        """Where this version's bytes are (Git, or a DVC remote) and how big they are."""
        if self.commit is None:
            raise GitopsError(f"{self.artifact}: no version to look up")
        return self._fetches().source(self.artifact, self.path, self.commit)

    def fetch(self) -> Fetched:
        """This version's bytes in a folder the run owns: read them, do not change them."""
        return self._fetches().get(self.source())

    def place(self, staging: Path) -> Fetched:
        """This version's bytes put under ``staging``, an environment's own copy."""
        return self._fetches().place(self.source(), staging)

    def _fetches(self) -> FetchCache:
        return self.fetches if self.fetches is not None else process_fetches(self.repo)

    @property
    def verb(self) -> str:
        """What is asked: ``GITOPS_ACTION``."""
        if self.action:
            return self.action
        return "remove" if self.version is None else "deploy"

    def env_vars(self) -> dict[str, str]:
        """The facts as ``GITOPS_*`` variables (command driver, health commands)."""
        return {
            "GITOPS_ENVIRONMENT": self.environment,
            "GITOPS_ARTIFACT": self.artifact,
            "GITOPS_STAGE": self.stage,
            "GITOPS_VERSION": self.version or "",
            "GITOPS_COMMIT": self.commit or "",
            "GITOPS_PREVIOUS_VERSION": self.previous_version or "",
            "GITOPS_PATH": self.path or "",
            "GITOPS_REPO": str(self.repo),
            "GITOPS_RUN_URL": self.run_url,
            "GITOPS_ACTION": self.verb,
        }

    def to_json(self) -> dict[str, Any]:
        """The facts as a JSON object (webhook body, logs)."""
        return {
            "environment": self.environment,
            "artifact": self.artifact,
            "stage": self.stage,
            "version": self.version,
            "commit": self.commit,
            "previous_version": self.previous_version,
            "path": self.path,
            "run_url": self.run_url,
            "action": self.verb,
        }


@dataclass(frozen=True)
class Observation:
    """What a driver found in the environment itself (not what the state store says).

    ``state``: ``running`` (``version`` is there, as deployed), ``missing`` (nothing is there),
    ``modified`` (``version``'s files are there but their bytes changed since the deploy),
    ``unknown`` (something is there that the driver did not put there).
    """

    state: str
    version: str | None = None
    detail: str = ""


@dataclass
class DeployOutcome:
    ok: bool
    message: str
    details: dict[str, Any] = field(default_factory=dict)  # e.g. url, commit, pr_url

    @classmethod
    def untouched(cls, message: str) -> DeployOutcome:
        """A failure before anything in the environment changed (its bytes could not be
        fetched, say): what ran there still runs, so there is nothing to roll back."""
        return cls(False, f"{message}; the previous version stays", {"untouched": True})


class Driver:
    """Subclasses set ``name`` and ``Settings`` and implement ``deploy``."""

    name: ClassVar[str]
    Settings: ClassVar[type[DriverSettings]]

    def __init__(self, settings: DriverSettings) -> None:
        self.settings = settings

    def deploy(self, request: DeployRequest) -> DeployOutcome:
        raise NotImplementedError

    def observe(self, repo: Path, environment: str, artifact: str) -> Observation | None:
        """What really runs there, so ``plan`` finds drift; None: this driver cannot look (the
        plan then says so instead of claiming the environment is in sync)."""
        return None
