"""Freeze windows (``policies.<stage>.freeze``): is one open at an instant, and until when.

Each window is judged in its own time zone on the wall clock there, so "fri 18:00 to mon 08:00
Europe/Berlin" means Berlin's Friday evening whatever zone the runner is in, across DST changes.

- Dates (``from: 2026-12-20``, ``to: 2026-12-27``): whole days, both inclusive.
- Times (``from: "18:00"``, ``to: "08:00"``) on ``days`` (default every day): ``to`` before
  ``from`` runs past midnight into the next day (it belongs to the day it opens on); ``to``
  equal to ``from`` is the whole day.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from gitops.promote.settings import WEEKDAYS, FreezeWindow


def closes_at(window: FreezeWindow, now: datetime) -> datetime | None:
    """When ``window`` closes, in its zone, if it is open at ``now`` (aware); else None."""
    zone = ZoneInfo(window.tz)
    local = now.astimezone(zone)
    today = local.date()
    if not isinstance(window.start, time):  # dates: whole days, inclusive
        start, end = window.start, window.end
        assert isinstance(end, date) and not isinstance(end, time)
        if start <= today <= end:
            return _at(end + timedelta(days=1), time(0), zone)
        return None
    start_t, end_t = _wall(window.start), _wall(window.end)  # type: ignore[arg-type]
    days = set(window.days or WEEKDAYS)
    clock = local.time().replace(tzinfo=None)
    on_today = WEEKDAYS[today.weekday()] in days
    on_yesterday = WEEKDAYS[(today.weekday() - 1) % 7] in days
    if start_t == end_t:  # the whole day
        return _at(today + timedelta(days=1), start_t, zone) if on_today else None
    if start_t < end_t:
        return _at(today, end_t, zone) if on_today and start_t <= clock < end_t else None
    if on_today and clock >= start_t:  # past midnight: opened today, closes tomorrow
        return _at(today + timedelta(days=1), end_t, zone)
    if on_yesterday and clock < end_t:  # opened yesterday evening, still open
        return _at(today, end_t, zone)
    return None


def describe(window: FreezeWindow) -> str:
    """The window as written, for messages: ``fri 18:00-08:00 Europe/Berlin``."""
    if not isinstance(window.start, time):
        span = f"{window.start}" if window.start == window.end else f"{window.start}..{window.end}"
        return f"{span} ({window.tz})"
    days = ",".join(window.days) + " " if window.days else ""
    start, end = _wall(window.start), _wall(window.end)  # type: ignore[arg-type]
    return f"{days}{start:%H:%M}-{end:%H:%M} ({window.tz})"


def _wall(value: time) -> time:
    """A time as a wall-clock time in the window's zone (an offset written on it is ignored:
    ``tz`` says where it is)."""
    return value.replace(tzinfo=None)


def _at(day: date, clock: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=zone)
