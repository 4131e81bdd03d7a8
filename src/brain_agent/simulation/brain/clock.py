"""The clock seam: what time it is and how to wait.

Every wait in the BRAIN client (Retry-After, back-off, the daily-limit pause) goes through a ``Clock``,
so tests swap in a fake that records the requested sleeps instead of sleeping.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

NEW_YORK = "America/New_York"
"""BRAIN's daily simulation quota resets at midnight in this time zone (reference §1.7)."""


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (never negative)."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


def next_new_york_midnight(now: datetime) -> datetime:
    """The next midnight in New York after ``now`` (aware), in UTC. DST-correct via zoneinfo."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    ny = ZoneInfo(NEW_YORK)
    local = now.astimezone(ny)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=ny)
    return midnight.astimezone(UTC)


def seconds_until_new_york_midnight(now: datetime) -> float:
    """Seconds from ``now`` to the next New York midnight (always > 0)."""
    return (next_new_york_midnight(now) - now.astimezone(UTC)).total_seconds()
