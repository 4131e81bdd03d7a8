"""Argument domains: the values an operator's constant arguments may take.

The validator checks each literal against its parameter's domain here, so that whatever validates
also simulates: a ``bucket`` range with a trillion buckets (``range="0,1,1e-12"``) or one whose count
overflows (``range="0,1e308,1e-308"``) is refused as ``BAD_ARGUMENT`` before any simulator tries to
allocate it. Each rule returns the problem as text, or None when the value is fine.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from brain_agent.errors import shorten

MAX_LOOKBACK = 5000
"""Longest lookback in days (about 20 years of trading days: more than any dataset's history)."""
MAX_BUCKETS = 1000
"""Most groups one ``bucket(...)`` may make (range count or boundaries)."""
DRIVERS = ("gaussian", "uniform", "cauchy")

Rule = Callable[[object], str | None]


def _numbers(text: str) -> list[float] | None:
    try:
        values = [float(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        return None
    return values if all(math.isfinite(v) for v in values) else None


def bucket_range(value: object) -> str | None:
    if not isinstance(value, str):
        return None  # the kind check reports a non-string
    parts = _numbers(value)
    if parts is None or len(parts) != 3:
        return f'must be "start,end,step" (three finite numbers), got {shorten(value)}'
    start, end, step = parts
    if not end > start or not step > 0:
        return f"needs end > start and step > 0, got {shorten(value)}"
    count = (end - start) / step
    if not math.isfinite(count) or count > MAX_BUCKETS:
        shown = "too many" if not math.isfinite(count) else f"{count:.3g}"
        return f"would make {shown} buckets (at most {MAX_BUCKETS}), got {shorten(value)}"
    return None


def bucket_boundaries(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    parts = _numbers(value)
    if not parts:
        return f'must be comma-separated finite numbers such as "2,5,6,7,10", got {shorten(value)}'
    if len(parts) > MAX_BUCKETS:
        return f"has {len(parts)} boundaries (at most {MAX_BUCKETS})"
    return None


def _one_of(*allowed: object) -> Rule:
    def rule(value: object) -> str | None:
        if isinstance(value, str):
            value = value.strip().lower()
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if value in allowed:
            return None
        return f"must be one of {', '.join(str(a) for a in allowed)}, got {shorten(value)}"

    return rule


def _at_least(low: float) -> Rule:
    def rule(value: object) -> str | None:
        if isinstance(value, int | float) and not isinstance(value, bool) and value < low:
            return f"must be ≥ {low:g}, got {shorten(value)}"
        return None

    return rule


def _fraction(value: object) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and not 0 < value <= 1:
        return f"must be in (0, 1], got {shorten(value)}"
    return None


RULES: dict[tuple[str, str], Rule] = {
    ("bucket", "range"): bucket_range,
    ("bucket", "buckets"): bucket_boundaries,
    ("ts_returns", "mode"): _one_of(1, 2),
    ("ts_regression", "lag"): _at_least(0),
    ("ts_decay_exp_window", "factor"): _fraction,
    ("quantile", "driver"): _one_of(*DRIVERS),
    ("ts_quantile", "driver"): _one_of(*DRIVERS),
}
"""(operator, parameter) → rule. Only parameters whose bad values the simulators cannot take."""

EXACTLY_ONE: dict[str, tuple[str, ...]] = {"bucket": ("range", "buckets")}
"""Operators that need exactly one of these parameters."""


def check_value(operator: str, parameter: str, value: object) -> str | None:
    """The problem with ``value`` for ``operator(parameter)``, or None."""
    rule = RULES.get((operator, parameter))
    return None if rule is None else rule(value)


def check_lookback(value: float) -> str | None:
    if value > MAX_LOOKBACK:
        return (
            f"is at most {MAX_LOOKBACK} days, got {value:.0f}"
            if value < 1e15
            else f"is at most {MAX_LOOKBACK} days"
        )
    return None


def check_exactly_one(operator: str, given: set[str]) -> str | None:
    names = EXACTLY_ONE.get(operator)
    if names is None:
        return None
    present = [n for n in names if n in given]
    if len(present) == 1:
        return None
    options = " or ".join(f"{n}=..." for n in names)
    if not present:
        return f"{operator} needs {options}"
    return f"{operator} takes only one of {options}, not both"
