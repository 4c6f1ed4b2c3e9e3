"""Apply a plan: per action run the driver, check health, roll back on failure, record the truth.

Environments go in ``after:`` order; the ones of one level run in parallel up to the configured
limit. Each environment is locked in the state store first (compare-and-swap, so two runs never
deploy one environment at once), then re-planned from fresh state: whatever another run already
did is not done twice.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from gitops.config import Environment, GitopsConfig
from gitops.deploy.drivers.base import DeployOutcome, DeployRequest, Driver
from gitops.deploy.drivers.registry import make_driver
from gitops.deploy.health import check_health
from gitops.deploy.plan import Action, Plan, artifact_info, environment_levels, plan_now
from gitops.deploy.state import Deployed, LiveState, Lock, now_iso
from gitops.deploy.store import StateStore
from gitops.errors import GitopsError
from gitops.registry.reader import Registry


@dataclass(frozen=True)
class RunInfo:
    """Who runs this, why, and where its log is: written into every record."""

    actor: str = ""
    why: str = ""
    run_url: str = ""
    owner: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")


@dataclass
class Result:
    environment: str
    artifact: str
    kind: str
    from_version: str | None
    to_version: str | None
    status: str  # deployed | removed | failed | rolled-back | skipped | dry-run
    message: str
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.status in ("failed", "rolled-back")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


FLUSH_SECONDS = 0.5  # results faster than this are written together, in one commit

# Hooks for records outside the store (forge deployment records); called after each result.
Recorder = Callable[[Action, Result], None]


class Applier:
    def __init__(
        self,
        registry: Registry,
        config: GitopsConfig,
        store: StateStore,
        run: RunInfo,
        *,
        dry_run: bool = False,
        log: Callable[[str], None] = print,
        recorder: Recorder | None = None,
        lock_wait: float = 600.0,
        retry_failed: bool = False,
        forge: Any = None,
    ) -> None:
        self.registry, self.config, self.store, self.run = registry, config, store, run
        self.dry_run, self.log, self.recorder = dry_run, log, recorder
        self.lock_wait = lock_wait
        self.retry_failed = retry_failed
        self.forge = forge  # for drivers that open pull requests (manifest, mode: pr)
        self.info = artifact_info(registry)  # read once, not once per environment
        self.failed_artifacts: dict[str, set[str]] = {}  # environment -> artifacts that failed

    def apply(self, plan: Plan, environments: list[str] | None = None) -> list[Result]:
        names = [n for n in self.config.environments if environments is None or n in environments]
        busy = [n for n in names if plan.for_environment(n)]
        if not busy:
            return []
        if not self.dry_run:
            self._lock(busy)
        try:
            results: list[Result] = []
            for level in environment_levels(self.config, busy):
                workers = min(self.config.parallelism, len(level))
                with ThreadPoolExecutor(max_workers=workers) as pool:
                    for env_results in pool.map(self._apply_environment, level):
                        results.extend(env_results)
            return results
        finally:
            if not self.dry_run:
                self._unlock(busy)

    def _apply_environment(self, name: str) -> list[Result]:
        actions = self._fresh_plan(name)
        if self.dry_run:
            return [self._dry(a) for a in actions]
        env = self.config.environments[name]
        driver = make_driver(env.deploy)
        if self.forge is not None and hasattr(driver, "forge"):
            driver.forge = self.forge
        results, pending = [], []
        last_flush = time.monotonic()
        for action in actions:
            result = self._do(env, name, driver, action)
            results.append(result)
            if result.status != "skipped":
                pending.append((action, result))
            if pending and time.monotonic() - last_flush >= FLUSH_SECONDS:
                self._record(name, pending)
                pending, last_flush = [], time.monotonic()
        if pending:
            self._record(name, pending)
        return results

    def _fresh_plan(self, name: str) -> list[Action]:
        """Re-planned from the store as it is now: another run may have done some of it."""
        state, _ = self.store.read([name])
        return plan_now(self.registry, self.config, state, [name], self.info).changes

    def _dry(self, action: Action) -> Result:
        return Result(
            action.environment,
            action.artifact,
            action.kind,
            action.from_version,
            action.to_version,
            "dry-run",
            f"would {action.kind} {action.artifact} {action.from_version or '-'} -> "
            f"{action.to_version or '-'}",
        )

    # -- locking -------------------------------------------------------------------------------

    def _lock(self, names: list[str]) -> None:
        """Lock every environment this run deploys, in one compare-and-swap write; wait while
        another run holds any of them."""
        deadline = time.monotonic() + self.lock_wait
        ttl = max(self.config.environments[n].timeout for n in names) * 4 + 300

        def take(state: LiveState) -> dict[str, Lock]:
            now = time.time()
            held = {
                n: h
                for n in names
                if (h := state.lock_holder(n, now)) is not None and h.owner != self.run.owner
            }
            if not held:
                for n in names:
                    state.set_lock(n, Lock(owner=self.run.owner, since=now, expires=now + ttl))
            return held

        message = f"lock {', '.join(names)} for {self.run.run_url or self.run.owner}"
        while True:
            held = self.store.update(names, take, message)
            if not held:
                return
            name, holder = next(iter(held.items()))
            if time.monotonic() > deadline:
                raise GitopsError(
                    f"environment {name} is locked by {holder.owner} since "
                    f"{time.ctime(holder.since)}; gave up after {self.lock_wait:g} s"
                )
            self.log(f"{name}: waiting for the lock held by {holder.owner}")
            time.sleep(0.5)

    def _unlock(self, names: list[str]) -> None:
        def release(state: LiveState) -> None:
            for n in names:
                lock = state.environments.get(n) and state.env(n).lock
                if lock and lock.owner == self.run.owner:
                    state.set_lock(n, None)

        self.store.update(names, release, f"unlock {', '.join(names)}")

    # -- one action ----------------------------------------------------------------------------

    def _request(
        self,
        env: Environment,
        action: Action,
        version: str | None,
        commit: str | None,
        previous: str | None,
    ) -> DeployRequest:
        return DeployRequest(
            environment=action.environment,
            artifact=action.artifact,
            stage=action.stage,
            version=version,
            commit=commit,
            previous_version=previous,
            path=action.path,
            repo=self.registry.root,
            timeout=env.timeout,
            run_url=self.run.run_url,
        )

    def _do(self, env: Environment, name: str, driver: Driver, action: Action) -> Result:
        started = time.monotonic()
        blocked = [
            upstream
            for upstream in env.after
            if action.artifact in self.failed_artifacts.get(upstream, set())
        ]
        if blocked:
            result = self._result(action, "skipped", f"{blocked[0]} failed to deploy it first")
        elif action.failed_before and not self.retry_failed:
            result = self._result(
                action,
                "skipped",
                f"{action.to_version} failed here before; not retried automatically "
                "(apply with --retry-failed, or move the stage)",
            )
        else:
            result = self._execute(env, driver, action)
        result.seconds = round(time.monotonic() - started, 3)
        if result.failed:
            self.failed_artifacts.setdefault(name, set()).add(action.artifact)
        self.log(f"{name}: {action.artifact} {result.status}: {result.message}")
        if self.recorder is not None:
            self.recorder(action, result)
        return result

    def _execute(self, env: Environment, driver: Driver, action: Action) -> Result:
        request = self._request(
            env, action, action.to_version, action.to_commit, action.from_version
        )
        outcome = _safe_deploy(driver, request)
        if outcome.ok and outcome.details.get("pending"):
            return self._result(action, "proposed", outcome.message)  # nothing runs it yet
        if outcome.ok and action.to_version is not None:
            healthy, why = check_health(env.health, request)
            if not healthy:
                outcome = DeployOutcome(False, f"deployed, but {why}")
        if outcome.ok:
            status = "deployed" if action.to_version is not None else "removed"
            return self._result(action, status, outcome.message)
        if env.on_failure == "rollback" and action.from_version is not None:
            return self._rollback(env, driver, action, outcome.message)
        return self._result(action, "failed", outcome.message)

    def _rollback(self, env: Environment, driver: Driver, action: Action, why: str) -> Result:
        previous = self._live(action)
        commit = previous.commit if previous else None
        request = self._request(env, action, action.from_version, commit, action.to_version)
        outcome = _safe_deploy(driver, request)
        if outcome.ok:
            healthy, health_why = check_health(env.health, request)
            if not healthy:
                outcome = DeployOutcome(False, health_why)
        if outcome.ok:
            return self._result(
                action, "rolled-back", f"{why}; rolled back to {action.from_version}"
            )
        return self._result(
            action,
            "failed",
            f"{why}; rollback to {action.from_version} failed too: {outcome.message}",
        )

    def _live(self, action: Action) -> Deployed | None:
        state, _ = self.store.read([action.environment])
        return state.live(action.environment, action.artifact)

    def _result(self, action: Action, status: str, message: str) -> Result:
        return Result(
            action.environment,
            action.artifact,
            action.kind,
            action.from_version,
            action.to_version,
            status,
            message,
        )

    def _record(self, name: str, done: list[tuple[Action, Result]]) -> None:
        """The store says what runs now: the new version, the old one after a rollback, or,
        when the deploy failed without rollback, the old one marked failed. Results are
        written as they come (batched only when they come faster than FLUSH_SECONDS)."""

        def change(state: LiveState) -> None:
            for action, result in done:
                deployed = result.status in ("deployed", "removed", "proposed")
                runs_now = action.to_version if deployed else action.from_version
                current = state.live(name, action.artifact)
                commit = action.to_commit if deployed else (current.commit if current else None)
                entry = Deployed(
                    version=runs_now,
                    commit=commit,
                    status=_STATUS[result.status],
                    attempted=None if deployed else action.to_version,
                    at=now_iso(),
                    by=self.run.actor,
                    why=self.run.why,
                    run_url=self.run.run_url,
                    message=result.message[:500],
                )
                state.record(name, action.artifact, entry, self.config.state.history)

        if len(done) == 1:
            message = _commit_message(*done[0], self.run)
        else:
            lines = [_commit_message(a, r, self.run).split("\n", 1)[0] for a, r in done]
            message = "\n".join(
                [
                    f"{len(done)} changes in {name}",
                    "",
                    *lines,
                    "",
                    f"by: {self.run.actor or '-'}",
                    f"why: {self.run.why or '-'}",
                    f"run: {self.run.run_url or self.run.owner}",
                ]
            )
        self.store.update([name], change, message)


_STATUS = {
    "proposed": "proposed",
    "deployed": "deployed",
    "removed": "removed",
    "failed": "failed",
    "rolled-back": "rolled-back",
}


def _safe_deploy(driver: Driver, request: DeployRequest) -> DeployOutcome:
    """A driver bug must not leave the state unrecorded: it becomes a failed deploy."""
    try:
        return driver.deploy(request)
    except GitopsError as exc:
        return DeployOutcome(False, str(exc))
    except Exception as exc:  # noqa: BLE001 - recorded and reported, never swallowed silently
        return DeployOutcome(False, f"driver {driver.name} crashed: {type(exc).__name__}: {exc}")


def _commit_message(action: Action, result: Result, run: RunInfo) -> str:
    was = f" (was {action.from_version})" if action.from_version else ""
    title = {
        "deployed": f"deploy {action.artifact} {action.to_version} to {action.environment}{was}",
        "proposed": f"propose {action.artifact} {action.to_version} for {action.environment}{was}",
        "removed": f"remove {action.artifact} from {action.environment}{was}",
        "rolled-back": f"rolled back {action.artifact} in {action.environment} to "
        f"{action.from_version} ({action.to_version} failed)",
        "failed": f"failed to {action.kind} {action.artifact} {action.to_version} in "
        f"{action.environment}",
    }[result.status]
    lines = [
        title,
        "",
        f"environment: {action.environment}",
        f"artifact: {action.artifact}",
        f"stage: {action.stage}",
        f"from: {action.from_version or '-'}",
        f"to: {action.to_version or '-'}",
        f"status: {result.status}",
        f"by: {run.actor or '-'}",
        f"why: {run.why or '-'}",
        f"run: {run.run_url or run.owner}",
        f"message: {' '.join(result.message.split())[:300]}",
    ]
    return "\n".join(lines)


def apply(
    registry: Registry,
    config: GitopsConfig,
    store: StateStore,
    run: RunInfo,
    environments: list[str] | None = None,
    **kwargs: Any,
) -> tuple[Plan, list[Result]]:
    """Plan against the store and apply: the whole of ``gitops apply``/``reconcile``."""
    names = list(config.environments) if environments is None else environments
    state, _ = store.read(names)
    plan = plan_now(registry, config, state, environments)
    return plan, Applier(registry, config, store, run, **kwargs).apply(plan, environments)
