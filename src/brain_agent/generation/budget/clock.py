"""The clock seam and the period windows (day, ISO week) in the configured time zone.

A call is charged to the window of its *reservation* time, so a call that straddles midnight never
lands in two windows (LiteLLM #39150).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> float:
        """UNIX time in seconds."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: float = 1_764_000_000.0) -> None:
        self.t = float(start)

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@dataclass(frozen=True)
class Window:
    kind: str  # "day" | "week"
    key: str  # e.g. "2026-11-25" or "2026-W48" (+ "@zone")
    start: float
    end: float


def day_window(ts: float, zone: str) -> Window:
    tz = ZoneInfo(zone)
    local = datetime.fromtimestamp(ts, tz)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    end = _next_midnight(start, 1, tz)
    return Window("day", f"{start.date().isoformat()}@{zone}", start.timestamp(), end.timestamp())


def week_window(ts: float, zone: str) -> Window:
    tz = ZoneInfo(zone)
    local = datetime.fromtimestamp(ts, tz)
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    end = _next_midnight(monday, 7, tz)
    year, week, _ = monday.isocalendar()
    return Window("week", f"{year}-W{week:02d}@{zone}", monday.timestamp(), end.timestamp())


def _next_midnight(start: datetime, days: int, tz: ZoneInfo) -> datetime:
    # Add calendar days on the wall clock, then re-localise (DST days are 23 or 25 hours long).
    naive = start.replace(tzinfo=None) + timedelta(days=days)
    return naive.replace(tzinfo=tz)


def utc_iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")
