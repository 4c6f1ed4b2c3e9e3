"""``policies:`` in gitops.yaml: per stage, the rules a version must meet to enter it, and the
automatic proposal of the next promotion. Checked for promotion PRs and hand-pushed tags alike
(``gitops.promote.policy``)."""

from __future__ import annotations

import re
from datetime import date, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_duration(text: str) -> float:
    """Seconds in ``30m``, ``24h``, ``2d``, ``1w``; a ValueError names the accepted forms."""
    found = _DURATION.fullmatch(text)
    if not found:
        raise ValueError(f"{text!r}: use a number and a unit: s, m, h, d or w (e.g. 24h)")
    return float(found.group(1)) * _UNITS[found.group(2)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FreezeWindow(_Strict):
    """No promotion into the stage while this window is open: dates (``from``/``to``, whole
    days, inclusive), or weekly times (``days`` with ``from``/``to`` times), in ``tz``."""

    start: date | time = Field(alias="from", description="A date (2026-12-20) or a time (18:00).")
    end: date | time = Field(alias="to", description="A date (inclusive) or a time.")
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] | None = Field(
        None, description="Weekdays the times apply to (default: every day)."
    )
    tz: str = Field("UTC", description="IANA time zone of the dates and times (Europe/Berlin).")
    reason: str | None = Field(None, description="Shown when a promotion is refused.")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @field_validator("tz")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name: Europe/Berlin)") from None
        return value

    @model_validator(mode="after")
    def _same_kind(self) -> FreezeWindow:
        if isinstance(self.start, date) != isinstance(self.end, date):
            raise ValueError("`from` and `to` must both be dates or both be times")
        if isinstance(self.start, date) and self.days is not None:
            raise ValueError("`days` goes with times (18:00), not with dates")
        if isinstance(self.start, date) and self.end < self.start:  # type: ignore[operator]
            raise ValueError(f"`to` {self.end} is before `from` {self.start}")
        return self


class Proposal(_Strict):
    """Open (or update) the promotion PR to ``to`` once a version has soaked here."""

    to: str = Field(description="The stage to propose the version for.")
    when: Literal["healthy"] = Field(
        "healthy", description="healthy: deployed and healthy in every environment of this stage."
    )
    soak: str = Field("0s", description="How long it must have run healthy first (24h).")

    @field_validator("soak")
    @classmethod
    def _soak(cls, value: str) -> str:
        parse_duration(value)
        return value


class StagePolicy(_Strict):
    """Rules for entering one stage."""

    after: list[str] = Field(
        default_factory=list,
        description="Stages the version must have been in first, deployed healthy there.",
    )
    soak: str | None = Field(
        None, description="How long it must have run healthy in each `after` stage (24h)."
    )
    actors: list[str] | None = Field(
        None,
        description="Who may promote into the stage: users, GitHub teams (@org/team) or "
        "GitLab groups (@group/subgroup). Default: anyone with write access.",
    )
    approvals: int = Field(0, ge=0, le=50, description="Approvals a promotion PR/MR needs.")
    signed_tags: bool = Field(
        False, description="The stage tag must carry a signature that verifies (SSH or GPG)."
    )
    gates: bool = Field(
        True, description="The metric gates of `reports.gates` must pass (when there are any)."
    )
    freeze: list[FreezeWindow] = Field(
        default_factory=list, description="Windows in which nothing enters the stage."
    )
    override_label: str | None = Field(
        None,
        description="A PR/MR label that lifts a freeze window for an emergency (recorded).",
    )
    promote: Proposal | None = Field(
        None, description="Propose the next promotion automatically once a version has soaked."
    )

    @field_validator("soak")
    @classmethod
    def _soak(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @property
    def soak_seconds(self) -> float:
        return parse_duration(self.soak) if self.soak else 0.0
