"""Automatic proposals: which promotions are due, because a version has run healthy in every
environment of its stage for the soak time its policy asks (``promote: {to, when, soak}``).

Pure: the scheduled reconcile asks this, then opens or updates the promotion PR of each
(``gitops.promote.open``). The pipeline proposes; people merge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from gitops.deploy.order import proof
from gitops.promote.times import parse, span

if TYPE_CHECKING:
    from gitops.config import GitopsConfig
    from gitops.deploy.state import LiveState
    from gitops.registry.moves import Holder
    from gitops.registry.reader import Registry


@dataclass(frozen=True)
class Due:
    artifact: str
    version: str
    commit: str
    source: str  # the stage it proved itself in
    target: str  # the stage it is proposed for
    since: str  # when it started running healthy (the latest of its environments), ISO

    @property
    def reason(self) -> str:
        return f"ran healthy in {self.source} since {self.since} (automatic proposal)"


@dataclass(frozen=True)
class NotYet:
    artifact: str
    version: str
    source: str
    target: str
    why: str  # "soaked 3h of 24h", "not deployed healthy in staging-eu"


def due(
    config: GitopsConfig, registry: Registry, state: LiveState, now: datetime
) -> tuple[list[Due], list[NotYet]]:
    """Promotions due now, and those waiting with the reason (for the log).

    Measured as the policy check measures its ``after``/``soak`` rules (``gitops.promote
    .policy``), so that what is proposed is what the merge will allow: only the environments
    of the source stage that serve the artifact count; in each, the version's healthy run is
    timed from its deploy until now, or until another version replaced it there (a run cut
    short does not grow by waiting). A version the target already holds is not proposed.
    """
    from gitops.deploy.plan import artifact_info, served_artifacts
    from gitops.registry.moves import stage_holders

    ready: list[Due] = []
    waiting: list[NotYet] = []
    holders = stage_holders(registry)
    info = artifact_info(registry) if any(p.promote for p in config.policies.values()) else {}
    for source, policy in config.policies.items():
        if policy.promote is None:
            continue
        target = policy.promote.to
        for (artifact, stage), held in sorted(holders.items()):
            if stage != source:
                continue
            there = holders.get((artifact, target))
            if there is not None and there.version == held.version:
                continue  # already promoted
            why = _not_proposable(registry, artifact, held.version, target, there)
            if why:
                waiting.append(NotYet(artifact, held.version, source, target, why))
                continue
            envs = [
                env
                for env in config.environments_for(source)
                if artifact in served_artifacts(config.environments[env], registry, info)
            ]
            found = _soaked(state, envs, artifact, held.version, policy.promote.soak, now)
            if isinstance(found, str):
                waiting.append(NotYet(artifact, held.version, source, target, found))
                continue
            ready.append(Due(artifact, held.version, held.commit, source, target,
                             found.isoformat()))  # fmt: skip
    return ready, waiting


def _not_proposable(
    registry: Registry, artifact: str, version: str, target: str, there: Holder | None
) -> str:
    """Why ``version`` cannot be proposed at all, whatever its soak ("" when it can): the
    promotion PR needs a registered version, and a proposal never rolls the target back."""
    from gitops.registry.moves import is_older

    known = registry.state.artifacts.get(artifact)
    versions = known.versions if known is not None else []
    if not any(v.version == version and v.is_registered and v.is_active for v in versions):
        return f"{version} is not a registered version (register it to have it proposed)"
    if there is not None and is_older(version, there.version, registry, artifact):
        return f"{target} holds {there.version}, newer: a proposal never rolls it back"
    return ""


def _soaked(
    state: LiveState, envs: list[str], artifact: str, version: str, soak: str, now: datetime
) -> datetime | str:
    """Since when ``version`` has run healthy in every one of ``envs`` (the latest start), or
    why it does not count yet."""
    from gitops.deploy.order import waits
    from gitops.promote.policy import run_end
    from gitops.promote.settings import parse_duration

    if not envs:
        return f"no environment of this stage runs {artifact}, so nothing shows it ran healthy"
    blocked = waits(state, envs, artifact, version)
    if blocked:
        return f"not healthy in {blocked[0].upstream} yet: {blocked[0].reason}"
    needed = timedelta(seconds=parse_duration(soak))
    starts = []
    for env in envs:
        record = proof(state, env, artifact, version)
        assert record is not None  # waits() said it is proven
        since = parse(record.at)
        if since is None:
            return f"the state store has no time for its deploy to {env}: its soak cannot be timed"
        until, replaced_by = run_end(state, env, artifact, record)
        ran = max((until or now) - since, timedelta(0))
        if ran < needed:
            if replaced_by is not None:
                cut = f"ran healthy in {env} for {span(ran)} of {soak}"
                return f"{cut} before {replaced_by} replaced it"
            ready = (since + needed).astimezone(UTC)
            return f"soaked {span(ran)} of {soak} in {env} (due {ready:%Y-%m-%d %H:%M} UTC)"
        starts.append(since)
    return max(starts)
