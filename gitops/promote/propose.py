"""Automatic proposals: which promotions are due, because a version has run healthy in every
environment of its stage for the soak time its policy asks (``promote: {to, when, soak}``).

Pure: the scheduled reconcile asks this, then opens or updates the promotion PR of each
(``gitops.promote.open``). The pipeline proposes; people merge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from gitops.deploy.order import proof
from gitops.promote.times import human, when

if TYPE_CHECKING:
    from gitops.config import GitopsConfig
    from gitops.deploy.state import LiveState
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
    """Promotions due now, and those waiting with the reason (for the log)."""
    from gitops.promote.settings import parse_duration
    from gitops.registry.moves import stage_holders

    ready: list[Due] = []
    waiting: list[NotYet] = []
    holders = stage_holders(registry)
    for source, policy in config.policies.items():
        if policy.promote is None:
            continue
        target = policy.promote.to
        soak = parse_duration(policy.promote.soak)
        environments = config.environments_for(source)
        for (artifact, stage), held in sorted(holders.items()):
            if stage != source:
                continue
            there = holders.get((artifact, target))
            if there is not None and there.version == held.version:
                continue  # already promoted
            if not environments:
                waiting.append(NotYet(artifact, held.version, source, target,
                                      f"no environment serves {source}"))  # fmt: skip
                continue
            starts = []
            for env in environments:
                record = proof(state, env, artifact, held.version)
                if record is None:
                    break
                starts.append(when(record.at))
            if len(starts) != len(environments):
                why = f"not deployed healthy in every environment of {source} yet"
                waiting.append(NotYet(artifact, held.version, source, target, why))
                continue
            since = max(starts)
            soaked = (now - since).total_seconds()
            if soaked < soak:
                why = f"soaked {human(soaked)} of {policy.promote.soak}"
                waiting.append(NotYet(artifact, held.version, source, target, why))
                continue
            ready.append(Due(artifact, held.version, held.commit, source, target,
                             since.isoformat()))  # fmt: skip
    return ready, waiting
