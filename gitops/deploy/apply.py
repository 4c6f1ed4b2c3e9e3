"""Apply a plan: per action run the driver, check health, roll back on failure, record the truth.

Environments go in ``after:`` order; the ones of one level run in parallel up to the configured
limit. Each environment is locked in the state store first (compare-and-swap, so two runs never
deploy one environment at once), then re-planned from fresh state: whatever another run already
did is not done twice, and the order rule (``gitops.deploy.order``) is checked again against
what the environments before it now run, so in one apply prod goes once staging is healthy.

A command's output streams to the log as it comes (a collapsible group per deploy), with every
secret the run knows masked there, in the results and in the records.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from gitops.artifacts.fetch import FetchCache
from gitops.config import Environment, GitopsConfig
from gitops.deploy.drivers.base import DeployOutcome, DeployRequest, Driver
from gitops.deploy.drivers.command import TAIL_LINES
from gitops.deploy.drivers.registry import make_driver
from gitops.deploy.health import check_health
from gitops.deploy.plan import (
    Action,
    Plan,
    artifact_info,
    environment_levels,
    plan_now,
    upstreams,
    version_path,
    with_upstreams,
)
from gitops.deploy.state import Deployed, LiveState, Lock, now_iso
from gitops.deploy.store import StateStore
from gitops.errors import GitopsError
from gitops.registry.reader import Registry
from gitops.text import one_line, shorten


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
    # deployed | removed | proposed | failed | rolled-back | skipped | waiting | dry-run
    status: str
    message: str
    seconds: float = 0.0
    running: str | None = None  # what the environment runs after this (the record says so)
    stdout: list[str] = field(default_factory=list)  # the deploy's last lines, masked
    stderr: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.status in ("failed", "rolled-back")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


FLUSH_SECONDS = 0.5  # results faster than this are written together, in one commit
RECORD_MESSAGE = 500  # characters of a result's message kept in the record
GROUP_TITLE = 200

# Hooks for records outside the store (forge deployment records); called after each result.
Recorder = Callable[[Action, Result], None]
Group = Callable[[str], AbstractContextManager[None]]


@contextmanager
def _no_group(title: str) -> Iterator[None]:
    yield


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
        mask: Callable[[str], str] = lambda text: text,
        group: Group = _no_group,
        ignore_order: bool = False,
    ) -> None:
        self.registry, self.config, self.store, self.run = registry, config, store, run
        self.dry_run, self.recorder = dry_run, recorder
        self.mask = mask  # every secret the run knows, out of every text it writes
        self._log, self._group = log, group
        self.lock_wait = lock_wait
        self.retry_failed = retry_failed
        self.ignore_order = ignore_order  # deploy even where `after:` says wait (first sync)
        self.forge = forge  # for drivers that open pull requests (manifest, mode: pr)
        self.info = artifact_info(registry)  # read once, not once per environment
        self.results: list[Result] = []  # as they come: a run that fails later still has them
        self.fetches = FetchCache(registry.root, self.log)  # a version's bytes: once per run
        self._print = threading.Lock()  # one deploy's output group at a time in the log
        self._live_output = True  # stream output as it comes (one deploy at a time)

    def log(self, message: str) -> None:
        self._log(self.mask(message))

    def apply(self, plan: Plan, environments: list[str] | None = None) -> list[Result]:
        names = [n for n in self.config.environments if environments is None or n in environments]
        busy = [n for n in names if plan.for_environment(n)]
        if not busy:
            return []
        if not self.dry_run:
            self._lock(busy)
        for action in plan.changes:  # so that the last deploy of a version may take its files
            if action.environment in busy and action.to_version and action.to_commit:
                self.fetches.expect(action.artifact, action.path, action.to_commit)
        try:
            results: list[Result] = []
            for level in environment_levels(self.config, busy):
                workers = min(self.config.parallelism, len(level))
                self._live_output = workers == 1  # in parallel, each deploy's output at its end
                with ThreadPoolExecutor(max_workers=workers) as pool:
                    for env_results in pool.map(self._apply_environment, level):
                        results.extend(env_results)
            return results
        finally:
            self.fetches.close()
            if not self.dry_run:
                self._unlock(busy)

    def _apply_environment(self, name: str) -> list[Result]:
        actions = self._fresh_plan(name)
        if self.dry_run:
            dry = [self._dry(a) for a in actions]
            self.results.extend(dry)
            return dry
        env = self.config.environments[name]
        driver = make_driver(env.deploy)
        if self.forge is not None and hasattr(driver, "forge"):
            driver.forge = self.forge
        results, pending = [], []
        last_flush = time.monotonic()
        for action in actions:
            result = self._do(env, name, driver, action)
            results.append(result)
            if result.status not in ("skipped", "waiting"):  # nothing happened: no record
                pending.append((action, result))
            if pending and time.monotonic() - last_flush >= FLUSH_SECONDS:
                self._record(name, pending)
                pending, last_flush = [], time.monotonic()
        if pending:
            self._record(name, pending)
        return results

    def _fresh_plan(self, name: str) -> list[Action]:
        """Re-planned from the store as it is now: another run may have done some of it, and
        the environments of `after:` may have moved. While one of those is being deployed by
        another run (a matrix job, say), wait for it to finish before deciding."""
        deadline = time.monotonic() + self.lock_wait
        while True:
            state, _ = self.store.read(with_upstreams(self.config, [name]))
            actions = plan_now(self.registry, self.config, state, [name], self.info).changes
            if self.dry_run or not any(a.waiting for a in actions):
                return actions
            now = time.time()
            busy = [
                (u, h)
                for u in upstreams(self.config, name)
                if (h := state.lock_holder(u, now)) is not None and h.owner != self.run.owner
            ]
            if not busy or time.monotonic() > deadline:
                return actions
            self.log(f"{name}: waiting for {busy[0][0]}, being deployed by {busy[0][1].owner}")
            time.sleep(1.0)

    def _dry(self, action: Action) -> Result:
        waits = f"; {'; '.join(action.waiting)}" if action.waiting else ""
        return self._result(
            action,
            "dry-run",
            f"would {action.kind} {action.artifact} {action.from_version or '-'} -> "
            f"{action.to_version or '-'}{waits}",
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
        verb: str,
        on_output: Callable[[str, str], None] | None,
    ) -> DeployRequest:
        return DeployRequest(
            environment=action.environment,
            artifact=action.artifact,
            stage=action.stage,
            version=version,
            commit=commit,
            previous_version=previous,
            path=version_path(self.registry, action.artifact, version, action.path),
            repo=self.registry.root,
            timeout=env.timeout,
            run_url=self.run.run_url,
            action=verb,
            on_output=on_output,
            fetches=self.fetches,
        )

    def _do(self, env: Environment, name: str, driver: Driver, action: Action) -> Result:
        started = time.monotonic()
        if action.waiting and not self.ignore_order:
            result = self._result(action, "waiting", "; ".join(action.waiting))
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
        result.message = self.mask(result.message)
        result.stdout = [self.mask(line) for line in result.stdout]
        result.stderr = [self.mask(line) for line in result.stderr]
        self.results.append(result)
        self.log(f"{name}: {action.artifact} {result.status}: {one_line(result.message)}")
        if self.recorder is not None:
            self.recorder(action, result)
        return result

    def _execute(self, env: Environment, driver: Driver, action: Action) -> Result:
        """Deploy, check health, roll back or stop; the result says what runs afterwards."""
        verb = "remove" if action.to_version is None else "deploy"
        title = f"{action.environment}: {verb} {action.artifact} {action.to_version or ''}".rstrip()
        with self._output(title) as on_output:
            request = self._request(
                env,
                action,
                action.to_version,
                action.to_commit,
                action.from_version,
                verb,
                on_output,
            )
            outcome = _safe_deploy(driver, request)
            deployed = outcome.ok
            if outcome.ok and not outcome.details.get("pending") and action.to_version:
                healthy, why = check_health(env.health, request)
                if not healthy:
                    outcome = DeployOutcome(False, f"deployed, but {why}", outcome.details)
        tails = _tails(outcome)
        if outcome.ok and outcome.details.get("pending"):  # nothing runs it yet (a PR)
            return self._result(action, "proposed", outcome.message, action.to_version, **tails)
        if outcome.ok:
            status = "deployed" if action.to_version is not None else "removed"
            return self._result(action, status, outcome.message, action.to_version, **tails)
        # it failed: what runs now is the new version when the driver put it there (and only
        # the health check failed), else what ran before
        running = action.to_version if deployed else action.from_version
        untouched = outcome.details.get("untouched", False)  # nothing changed: nothing to undo
        if env.on_failure == "rollback" and action.from_version is not None and not untouched:
            return self._rollback(env, driver, action, outcome.message, running, tails)
        return self._result(action, "failed", outcome.message, running, **tails)

    def _rollback(
        self,
        env: Environment,
        driver: Driver,
        action: Action,
        why: str,
        running: str | None,
        tails: dict[str, list[str]],
    ) -> Result:
        previous = self._live(action)
        commit = previous.commit if previous else None
        title = f"{action.environment}: roll back {action.artifact} to {action.from_version}"
        with self._output(title) as on_output:
            request = self._request(
                env,
                action,
                action.from_version,
                commit,
                action.to_version,
                "rollback",
                on_output,
            )
            outcome = _safe_deploy(driver, request)
            if outcome.ok:
                healthy, health_why = check_health(env.health, request)
                if not healthy:
                    outcome = DeployOutcome(False, health_why, outcome.details)
        back = _tails(outcome)
        tails = {
            k: [*tails[k], *(f"(rollback) {line}" for line in back[k])][-TAIL_LINES:] for k in tails
        }
        if outcome.ok:
            message = f"rolled back to {action.from_version}: {action.to_version} failed: {why}"
            return self._result(action, "rolled-back", message, action.from_version, **tails)
        message = (
            f"rollback to {action.from_version} failed too ({outcome.message}); "
            f"{action.to_version} failed: {why}"
        )
        return self._result(action, "failed", message, running, **tails)

    @contextmanager
    def _output(self, title: str) -> Iterator[Callable[[str, str], None]]:
        """A listener for the driver's output lines: streamed in a log group as they come when
        deploys run one at a time, or kept and printed as one group at the end otherwise (log
        groups cannot interleave)."""
        lines: list[str] = []

        def show(stream: str, line: str) -> None:
            text = self.mask(f"{'err' if stream == 'stderr' else 'out'} | {line}")
            if live:
                self._log(text)
            else:
                lines.append(text)

        live = self._live_output
        if live:
            with self._print, self._group(shorten(title, GROUP_TITLE)):
                yield show
            return
        try:
            yield show
        finally:
            if lines:
                with self._print, self._group(shorten(title, GROUP_TITLE)):
                    for text in lines:
                        self._log(text)

    def _live(self, action: Action) -> Deployed | None:
        state, _ = self.store.read([action.environment])
        return state.live(action.environment, action.artifact)

    def _result(
        self,
        action: Action,
        status: str,
        message: str,
        running: str | None = None,
        stdout: list[str] | None = None,
        stderr: list[str] | None = None,
    ) -> Result:
        return Result(
            action.environment,
            action.artifact,
            action.kind,
            action.from_version,
            action.to_version,
            status,
            message,
            running=running,
            stdout=stdout or [],
            stderr=stderr or [],
        )

    def _record(self, name: str, done: list[tuple[Action, Result]]) -> None:
        """The store says what runs now: the new version, the old one after a rollback, or,
        when the deploy failed without rollback, the old one marked failed. Results are
        written as they come (batched only when they come faster than FLUSH_SECONDS)."""

        def change(state: LiveState) -> None:
            for action, result in done:
                ok = result.status in ("deployed", "removed", "proposed")
                current = state.live(name, action.artifact)
                if result.running == action.to_version:
                    commit = action.to_commit
                else:
                    commit = current.commit if current else None
                entry = Deployed(
                    version=result.running,
                    commit=commit,
                    status=_STATUS[result.status],
                    attempted=None if ok else action.to_version,
                    kind=action.kind,
                    at=now_iso(),
                    by=self.run.actor,
                    why=self.run.why,
                    run_url=self.run.run_url,
                    message=shorten(result.message, RECORD_MESSAGE),
                    stdout=result.stdout,
                    stderr=result.stderr,
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


def _tails(outcome: DeployOutcome) -> dict[str, list[str]]:
    """The last lines a driver's process printed, per stream (the command driver keeps them)."""
    return {
        stream: [str(line) for line in outcome.details.get(stream) or []]
        for stream in ("stdout", "stderr")
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
        f"message: {shorten(result.message, 300)}",
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
    state, _ = store.read(with_upstreams(config, environments))
    plan = plan_now(registry, config, state, environments)
    return plan, Applier(registry, config, store, run, **kwargs).apply(plan, environments)
