"""BRAIN's performance metrics and submission checks (reference: BRAIN Learn "parameters of
simulation results" and "alpha submission"), as pure functions.

- Book: $20M gross every day, performance on a $10M base (``HALF_BOOK``).
- Sharpe = √252 · mean(daily PnL) / std(daily PnL).
- Returns = annualised PnL / $10M; Drawdown = largest peak-to-trough PnL drop / $10M.
- Turnover = mean daily dollars traded / $20M.
- Fitness = Sharpe · √(|Returns| / max(Turnover, 0.125)).
- Margin = PnL / dollars traded (a fraction; the UI shows it in basis points, ‱).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

BOOK = 20_000_000.0
HALF_BOOK = BOOK / 2
DAYS_PER_YEAR = 252
SELF_CORRELATION_LIMIT = 0.7


def fitness(sharpe: float, returns: float, turnover: float) -> float:
    return sharpe * math.sqrt(abs(returns) / max(turnover, 0.125))


def margin_from_returns(returns: float, turnover: float) -> float:
    """Margin implied by annual returns and daily turnover: returns / (2 · 252 · turnover)."""
    if turnover <= 0:
        return 0.0
    return returns / (2 * DAYS_PER_YEAR * turnover)


def sharpe(daily_pnl: NDArray[np.float64]) -> float:
    if daily_pnl.size < 2:
        return 0.0
    sd = float(np.std(daily_pnl))
    if sd <= 1e-12 * (abs(float(np.mean(daily_pnl))) + 1.0):
        return 0.0
    return math.sqrt(DAYS_PER_YEAR) * float(np.mean(daily_pnl)) / sd


def drawdown(daily_pnl: NDArray[np.float64]) -> float:
    """Largest peak-to-trough drop of cumulative PnL, as a fraction of $10M."""
    if daily_pnl.size == 0:
        return 0.0
    cum = np.concatenate([[0.0], np.cumsum(daily_pnl)])
    return float(np.max(np.maximum.accumulate(cum) - cum)) / HALF_BOOK


@dataclass(frozen=True)
class Limits:
    """Check limits. Defaults follow the official submission table (D1); ``for_delay(0)`` gives D0."""

    sharpe: float = 1.25
    fitness: float = 1.0
    low_turnover: float = 0.01
    high_turnover: float = 0.7
    max_weight: float = 0.1
    self_correlation: float = SELF_CORRELATION_LIMIT
    sub_universe_factor: float = 0.75

    @classmethod
    def for_delay(cls, delay: int) -> Limits:
        return cls(sharpe=2.0, fitness=1.3) if delay == 0 else cls()


def check(name: str, passed: bool | None, limit: float | None, value: float | None) -> dict[str, Any]:
    result = "PENDING" if passed is None else ("PASS" if passed else "FAIL")
    out: dict[str, Any] = {"name": name, "result": result}
    if limit is not None:
        out["limit"] = round(limit, 4)
    if value is not None:
        out["value"] = round(value, 4)
    return out


def standard_checks(
    *,
    sharpe_: float,
    fitness_: float,
    turnover: float,
    max_weight: float | None,
    sub_universe_sharpe: float | None,
    sub_universe_ratio: float | None,
    limits: Limits,
) -> list[dict[str, Any]]:
    """The checks a finished local simulation can decide; SELF_CORRELATION stays PENDING until the
    runner compares the PnL with earlier results in the store."""
    checks = [
        check("LOW_SHARPE", sharpe_ >= limits.sharpe, limits.sharpe, sharpe_),
        check("LOW_FITNESS", fitness_ >= limits.fitness, limits.fitness, fitness_),
        check("LOW_TURNOVER", turnover >= limits.low_turnover, limits.low_turnover, turnover),
        check("HIGH_TURNOVER", turnover < limits.high_turnover, limits.high_turnover, turnover),
    ]
    if max_weight is not None:
        checks.append(
            check("CONCENTRATED_WEIGHT", max_weight < limits.max_weight, limits.max_weight, max_weight)
        )
    if sub_universe_sharpe is not None and sub_universe_ratio is not None:
        limit = limits.sub_universe_factor * math.sqrt(sub_universe_ratio) * sharpe_
        checks.append(
            check("LOW_SUB_UNIVERSE_SHARPE", sub_universe_sharpe >= limit, limit, sub_universe_sharpe)
        )
    checks.append(check("SELF_CORRELATION", None, limits.self_correlation, None))
    return checks


def daily_from_cumulative(values: Sequence[float]) -> NDArray[np.float64]:
    cum = np.asarray(values, dtype=np.float64)
    return np.diff(cum, prepend=0.0)


def pnl_correlation(
    dates_a: Sequence[str],
    cum_a: Sequence[float],
    dates_b: Sequence[str],
    cum_b: Sequence[float],
    *,
    min_days: int = 20,
) -> float | None:
    """Correlation of two daily PnL series on their common dates (None when they overlap too little
    or one is flat)."""
    a = dict(zip(dates_a, daily_from_cumulative(cum_a), strict=False))
    b = dict(zip(dates_b, daily_from_cumulative(cum_b), strict=False))
    common = [d for d in dates_a if d in b]
    if len(common) < min_days:
        return None
    x = np.array([a[d] for d in common])
    y = np.array([b[d] for d in common])
    sx, sy = float(np.std(x)), float(np.std(y))
    if sx == 0 or sy == 0:
        return None
    return float(np.mean((x - x.mean()) * (y - y.mean())) / (sx * sy))


def self_correlation_check(
    sharpe_: float, correlations: Sequence[tuple[float, float]], limit: float = SELF_CORRELATION_LIMIT
) -> dict[str, Any]:
    """``correlations``: (correlation, sharpe) of each earlier result. PASS when the largest
    correlation is below the limit, or when this Sharpe is ≥ 10% above every correlated one's."""
    if not correlations:
        return check("SELF_CORRELATION", True, limit, 0.0)
    top = max(c for c, _ in correlations)
    correlated = [s for c, s in correlations if c >= limit]
    passed = top < limit or all(sharpe_ >= 1.1 * s for s in correlated)
    return check("SELF_CORRELATION", passed, limit, top)
