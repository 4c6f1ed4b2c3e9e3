"""The promotion-order rule (`after:`): a version enters an environment only once it has proven
itself in every environment listed before it.

It is decided from the state store alone, so it holds across runs, across matrix jobs (one
``apply`` per environment) and for tags pushed by hand; and it lives here, in one place, so that
promotion policies (soak times, who may promote) build on the same answer.

"Proven" in an upstream environment means the state store's newest word about that version there
is a healthy deploy, and the version did not leave that environment by a rollback. That is the
case while it runs there, and stays the case after a newer version replaced it (staging moves on
faster than prod), as Kargo treats freight verified in an upstream stage. A version that failed
or was rolled back there, or that the environment never ran, is not proven.
"""

from __future__ import annotations

from dataclasses import dataclass

from gitops.deploy.state import Deployed, LiveState


@dataclass(frozen=True)
class Wait:
    """Why a version may not enter an environment yet: one per upstream environment."""

    upstream: str
    reason: str
    failed: bool = False  # the version failed there (not merely: it has not run there yet)

    def __str__(self) -> str:
        return f"waits for {self.upstream}: {self.reason}"


def proof(state: LiveState, environment: str, artifact: str, version: str) -> Deployed | None:
    """The record that shows ``version`` ran healthy in ``environment``, or None.

    Its ``at`` says since when: a soak time is measured from it.
    """
    entries = [e for e in (state.live(environment, artifact),) if e is not None]
    entries += state.history(environment, artifact)  # newest first
    newer: Deployed | None = None
    for entry in entries:
        if entry.attempted == version and entry.status in ("failed", "rolled-back"):
            return None  # the newest word about it: it failed there
        if entry.version == version and entry.status == "deployed":
            if newer is not None and newer.kind == "rollback":
                return None  # it left by a rollback: someone judged it bad
            return entry
        newer = entry
    return None


def _why_not(state: LiveState, environment: str, artifact: str, version: str) -> Wait:
    """What the store says instead, for people reading the plan."""
    live = state.live(environment, artifact)
    for entry in [e for e in (live,) if e is not None] + state.history(environment, artifact):
        if entry.attempted == version and entry.status == "rolled-back":
            return Wait(environment, f"{version} failed there and was rolled back", True)
        if entry.attempted == version and entry.status == "failed":
            return Wait(environment, f"{version} failed there", True)
        if entry.version == version and entry.status == "deployed":
            return Wait(environment, f"{version} left it by a rollback", True)
        if entry.version == version and entry.status == "proposed":
            why = f"{version} is proposed there (its pull request is not merged yet)"
            return Wait(environment, why)
    if live is None or live.version is None:
        return Wait(environment, f"{version} has not run there (it runs nothing of {artifact})")
    return Wait(environment, f"{version} has not run there (it runs {live.version})")


def waits(state: LiveState, upstreams: list[str], artifact: str, version: str) -> list[Wait]:
    """For each environment of ``upstreams`` where ``version`` is not proven: why not.

    ``upstreams`` are the `after:` environments that serve ``artifact`` (one that never runs
    it cannot vouch for it, nor hold it back).
    """
    return [
        _why_not(state, name, artifact, version)
        for name in upstreams
        if proof(state, name, artifact, version) is None
    ]
