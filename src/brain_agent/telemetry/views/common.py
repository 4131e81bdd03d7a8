"""Constants and value coercion shared by the view's parts (pure, no state)."""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

VELOCITY_WINDOW_S = 60
PROTECTION_WINDOW_S = 30
WARNING_PRESSURE = 0.75
CRITICAL_PRESSURE = 0.9
SPIKE_FACTOR = 1.6  # a call costing > 1.6 x the mean of the previous 10 calls (with >= 3 of them)
SERIES_BASE_BUCKET_S = 5
SERIES_MAX_POINTS = 120  # past this the bucket width doubles (5 s, 10 s, 20 s, ...)
MAX_INJECTIONS = 50
MAX_PULSE = 120
MAX_FEED = 30
FEED_SHOWN = 12
MAX_SCANNING = 24
MAX_LATENCIES = 1000
MAX_KPI_BATCHES = 500
MAX_ALERTS = 10  # budget.threshold_crossed kept for the reactor (newest last)
# State is bounded by what is in flight, not by the run's length (so a checkpoint of a 1,000,000-event
# run is as small as one of a 1,000-event run): finished ideas, simulations and candidates are
# forgotten past these counts, newest kept.
MAX_SIMULATIONS = 1000  # records kept for GET /simulations (its default limit)
MAX_OPEN_CANDIDATES = 5000  # candidates not yet simulated (their idea and expression)
MAX_FINISHED_IDEAS = 5000  # ids of finished ideas remembered (a late event does not count them again)
SECTORS = 12

Format = Literal["both", "chart", "reactor"]
Extra = Literal["budget", "kpi"]
LANES = ("exploit", "explore")
FINISHED = frozenset({"completed", "failed", "interrupted"})


def num(value: Any, default: float = 0.0) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else default
    if isinstance(value, str):
        try:
            out = float(value)
        except ValueError:
            return default
        return out if math.isfinite(out) else default
    return default


def integer(value: Any) -> int:
    return int(num(value))


def money(value: Any) -> Decimal:
    if value is None or isinstance(value, bool):
        return Decimal(0)
    try:
        out = Decimal(str(value))
    except InvalidOperation:
        return Decimal(0)
    return out if out.is_finite() else Decimal(0)


def text(value: Any) -> str | None:
    return value if isinstance(value, str) else None if value is None else str(value)


def str_list(value: Any) -> list[str]:
    return [x for x in value if isinstance(x, str)] if isinstance(value, list) else []


def rnd(x: float) -> float:
    return round(x, 6)


def quantile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    i = min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[i]


def put(d: dict[str, Any], key: str, value: Any, limit: int) -> None:
    """Insert as newest; drop the oldest entries past ``limit``."""
    d.pop(key, None)
    d[key] = value
    while len(d) > limit:
        del d[next(iter(d))]
