"""Times as the promotion code reads and says them: records and tags carry ISO times with
different offsets (or none), and people read durations rounded."""

from __future__ import annotations

from datetime import UTC, datetime


def when(iso: str, missing: datetime | None = None) -> datetime:
    """An ISO time as an aware datetime (UTC when it has no offset); ``missing`` (default: the
    far future, so that nothing unreadable counts as long ago) when it cannot be read."""
    try:
        value = datetime.fromisoformat(iso)
    except ValueError:
        return missing if missing is not None else datetime.max.replace(tzinfo=UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


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
