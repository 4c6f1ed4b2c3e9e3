"""Times as the promotion code reads and says them: records and tags carry ISO times with
different offsets (or none), and people read durations rounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def parse(iso: str) -> datetime | None:
    """An ISO time as an aware datetime (UTC when it has no offset); None if unreadable."""
    try:
        value = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def when(iso: str, missing: datetime | None = None) -> datetime:
    """``parse``, with ``missing`` (default: the far future, so that nothing unreadable counts
    as long ago) when it cannot be read."""
    value = parse(iso)
    if value is not None:
        return value
    return missing if missing is not None else datetime.max.replace(tzinfo=UTC)


def span(delta: timedelta) -> str:
    """``3d 4h``, ``2h 5m``, ``40s``: how long, to the two largest units."""
    seconds = int(delta.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return " ".join(parts[:2])


def human(seconds: float) -> str:
    """``45s``, ``12m``, ``3.5h``, ``2.0d``."""
    seconds = max(seconds, 0)
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    if seconds < 172800:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def now() -> datetime:
    """The current time, aware; ``GITOPS_NOW`` (ISO) overrides it, so tests and dry rehearsals
    can say "a day later" without sleeping (soak times, freeze windows, proposals)."""
    import os

    forced = os.environ.get("GITOPS_NOW", "").strip()
    if forced:
        value = parse(forced)
        if value is None:
            from gitops.errors import UsageError

            raise UsageError(f"GITOPS_NOW is {forced!r}: not an ISO time (2026-12-05T10:00Z)")
        return value
    return datetime.now(UTC)
