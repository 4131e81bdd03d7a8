"""From alpha values to a $20M book, daily PnL and the ``is`` block of a BRAIN-shaped result.

Order, as on BRAIN: restrict to the universe → decay (linear, ``decay`` days) → neutralize
(NONE / MARKET / SECTOR / INDUSTRY / SUBINDUSTRY) → scale to unit gross → truncation (cap each
weight, rescale, repeat) → $20M gross. Delay 1: the alpha of row t (data through date t) is the
position held over date t+1, so the PnL of date t is Σ w[t−1] · returns[t]. There are no intraday
prices, so delay 0 uses the same alignment and differs only in its check limits.
"""

from __future__ import annotations

from dataclasses import dataclass

import bottleneck as bn
import numpy as np
from numpy.typing import NDArray

from brain_agent.simulation.backend import SimulationSettings
from brain_agent.simulation.errors import EvaluationError
from brain_agent.simulation.local import kernels as k
from brain_agent.simulation.local.panel import BoolArray, FloatArray, GroupValue, Panel
from brain_agent.simulation.metrics import BOOK, DAYS_PER_YEAR, HALF_BOOK, drawdown, fitness, sharpe

_GROUP_FOR = {"SECTOR": "sector", "INDUSTRY": "industry", "SUBINDUSTRY": "subindustry"}


@dataclass(frozen=True)
class Book:
    dates: NDArray[np.datetime64]
    daily_pnl: FloatArray
    """PnL per date in dollars (0 before the first position)."""
    start: int
    """Index of the first date with a realised PnL."""
    sharpe: float
    fitness: float
    turnover: float
    returns: float
    drawdown: float
    margin: float
    pnl: float
    long_count: float
    short_count: float
    max_weight: float


def neutralize(alpha: FloatArray, how: str, panel: Panel) -> FloatArray:
    if how == "NONE":
        return alpha
    if how == "MARKET":
        with k.quiet():
            return alpha - np.asarray(bn.nanmean(alpha, axis=1), dtype=np.float64)[:, None]
    field = _GROUP_FOR[how]
    if panel.kind(field) != "GROUP":
        raise EvaluationError(
            f"neutralization {how} needs a GROUP field {field!r}, which this panel does not have",
            error_code="BAD_SETTING",
            setting="neutralization",
        )
    group = panel.get(field)
    assert isinstance(group, GroupValue)
    return k.group_neutralize(alpha, group)


def weights(alpha: FloatArray, truncation: float) -> FloatArray:
    """Unit-gross weights per row (0 where the alpha is NaN), each capped at ``truncation``."""
    w = np.where(np.isnan(alpha), 0.0, alpha)
    w = _unit_gross(w)
    if 0.0 < truncation < 1.0:
        for _ in range(20):
            if float(np.max(np.abs(w), initial=0.0)) <= truncation * (1 + 1e-9):
                break
            w = _unit_gross(np.clip(w, -truncation, truncation))
    return w


def _unit_gross(w: FloatArray) -> FloatArray:
    gross = np.sum(np.abs(w), axis=1, keepdims=True)
    with k.quiet():
        return np.where(gross > 0, w / np.where(gross > 0, gross, 1.0), 0.0)


def prepare(alpha: FloatArray, universe: BoolArray, settings: SimulationSettings) -> FloatArray:
    """Universe restriction and decay (before neutralization)."""
    a = np.where(universe, alpha, np.nan)
    if settings.decay > 1:
        a = np.where(universe, k.decay_linear(a, settings.decay, min_rows=1), np.nan)
    return a


def run_book(weights_: FloatArray, returns: FloatArray, dates: NDArray[np.datetime64]) -> Book:
    """PnL and metrics of unit-gross ``weights_`` (row t held over date t+1)."""
    t = weights_.shape[0]
    ret = np.nan_to_num(returns, nan=0.0)
    daily = np.zeros(t)
    daily[1:] = np.einsum("ij,ij->i", weights_[:-1], ret[1:]) * BOOK
    gross = np.einsum("ij->i", np.abs(weights_[:-1]))
    active = np.flatnonzero(gross > 0)
    if active.size == 0:
        return Book(dates, daily, t, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    first = int(active[0])
    held = weights_[first:-1]  # unit-gross positions whose PnL is realised
    traded = np.empty(held.shape[0])
    traded[0] = gross[first]
    traded[1:] = np.einsum("ij->i", np.abs(np.diff(held, axis=0)))
    traded *= BOOK
    pnl_days = daily[first + 1 :]
    s = sharpe(pnl_days)
    turnover = float(np.mean(traded)) / BOOK
    returns_ = float(np.mean(pnl_days)) * DAYS_PER_YEAR / HALF_BOOK
    total_traded = float(np.sum(traded))
    total = float(np.sum(pnl_days))
    return Book(
        dates=dates,
        daily_pnl=daily,
        start=first + 1,
        sharpe=s,
        fitness=fitness(s, returns_, turnover),
        turnover=turnover,
        returns=returns_,
        drawdown=drawdown(pnl_days),
        margin=total / total_traded if total_traded > 0 else 0.0,
        pnl=total,
        long_count=float(np.count_nonzero(held > 0)) / held.shape[0],
        short_count=float(np.count_nonzero(held < 0)) / held.shape[0],
        max_weight=max(float(np.max(held)), -float(np.min(held))),
    )


def simulate_alpha(
    alpha: FloatArray, panel: Panel, universe: BoolArray, settings: SimulationSettings
) -> tuple[Book, FloatArray]:
    """The book for ``alpha`` under ``settings``; also returns the prepared (decayed) alpha."""
    prepared = prepare(alpha, universe, settings)
    neutral = neutralize(prepared, settings.neutralization, panel)
    w = weights(neutral, settings.truncation)
    return run_book(w, panel.matrix("returns"), panel.dates), prepared


def sub_universe_sharpe(
    prepared: FloatArray, panel: Panel, universe: BoolArray, fraction: float
) -> float | None:
    """Sharpe on the most liquid ``fraction`` of the universe: pasteurize to it, market-neutralize,
    rescale, PnL. None when the sub-universe would be empty."""
    size = round(float(np.mean(np.sum(universe, axis=1))) * fraction)
    if size < 2:
        return None
    sub = panel.universe(size) & universe
    a = np.where(sub, prepared, np.nan)
    w = weights(neutralize(a, "MARKET", panel), 0.0)
    return run_book(w, panel.matrix("returns"), panel.dates).sharpe
