"""Metric formulas against the numbers captured from BRAIN (reference §1.8, §3), and the book on a
hand-computed two-instrument panel."""

from __future__ import annotations

import math

import numpy as np
import pytest

from brain_agent.simulation.backend import SimulationSettings
from brain_agent.simulation.local.book import neutralize, simulate_alpha, weights
from brain_agent.simulation.local.panel import GroupValue, make_panel
from brain_agent.simulation.metrics import (
    Limits,
    drawdown,
    fitness,
    margin_from_returns,
    pnl_correlation,
    self_correlation_check,
    sharpe,
    standard_checks,
)

# USA rank(close), captured Feb 2026: is.pnl 1,946,403 over 10 years, turnover 0.0242, returns 0.0195,
# margin 0.001611, sharpe 0.19, fitness 0.08
CAPTURED = {
    "pnl": 1946403,
    "turnover": 0.0242,
    "returns": 0.0195,
    "margin": 0.001611,
    "sharpe": 0.19,
    "fitness": 0.08,
}


def test_fitness_recomputed_from_captured_is_block() -> None:
    value = fitness(CAPTURED["sharpe"], CAPTURED["returns"], CAPTURED["turnover"])
    assert value == pytest.approx(0.19 * math.sqrt(0.0195 / 0.125))
    assert round(value, 2) == CAPTURED["fitness"]
    # turnover above the 0.125 floor is used as is
    assert fitness(2.0, 0.2, 0.5) == pytest.approx(2.0 * math.sqrt(0.4))


def test_margin_and_returns_recomputed_from_captured_is_block() -> None:
    assert margin_from_returns(CAPTURED["returns"], CAPTURED["turnover"]) == pytest.approx(
        CAPTURED["margin"], rel=0.02
    )
    # EUR record: returns 0.017, turnover 0.1367 → reported margin 0.000249
    assert margin_from_returns(0.017, 0.1367) == pytest.approx(0.000249, rel=0.02)
    assert CAPTURED["pnl"] / 10 / 10_000_000 == pytest.approx(CAPTURED["returns"], rel=0.01)


def test_sharpe_and_drawdown() -> None:
    daily = np.array([1.0, 3.0, 1.0, 3.0])
    assert sharpe(daily) == pytest.approx(math.sqrt(252) * 2.0 / 1.0)
    assert sharpe(np.array([5.0, 5.0])) == 0.0
    dd = drawdown(np.array([1e6, -3e6, 1e6, -1e6]))
    assert dd == pytest.approx(3e6 / 10e6)


def _two_instrument_panel() -> tuple[np.ndarray, object]:
    returns = np.array([[np.nan, np.nan], [0.01, -0.02], [0.03, 0.01], [-0.01, 0.0]])
    close = np.cumprod(np.nan_to_num(returns) + 1, axis=0) * 10
    dates = np.arange("2021-01-04", "2021-01-08", dtype="datetime64[D]")
    panel = make_panel(dates, ["A", "B"], {"close": close, "returns": returns})
    return returns, panel


def test_book_pnl_turnover_and_delay_alignment() -> None:
    _returns, panel = _two_instrument_panel()
    alpha = np.array([[1.0, -1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, 1.0]])
    settings = SimulationSettings(neutralization="NONE", truncation=0.0)
    book, _ = simulate_alpha(alpha, panel, panel.listed, settings)  # type: ignore[arg-type]
    # row t's position ($10M long / $10M short) earns date t+1's returns
    expected = np.array([0.0, 1e7 * (0.01 + 0.02), 1e7 * (0.03 - 0.01), -1e7 * (-0.01 - 0.0)])
    np.testing.assert_allclose(book.daily_pnl, expected)
    assert book.start == 1
    assert book.pnl == pytest.approx(expected.sum())
    # traded: day 0 build 20M, day 1 nothing, day 2 flip 40M → mean over 3 position days / 20M
    assert book.turnover == pytest.approx((20e6 + 0 + 40e6) / 3 / 20e6)
    assert book.margin == pytest.approx(expected.sum() / 60e6)
    assert book.returns == pytest.approx(expected[1:].mean() * 252 / 10e6)
    assert book.long_count == 1 and book.short_count == 1


def test_neutralization_truncation_and_decay() -> None:
    _returns, panel = _two_instrument_panel()
    alpha = np.array([[3.0, 1.0]] * 4)
    np.testing.assert_allclose(neutralize(alpha, "MARKET", panel)[0], [1, -1])  # type: ignore[arg-type]
    w = weights(np.array([[5.0, 1.0, 1.0, 1.0, -2.0]]), 0.3)
    assert np.max(np.abs(w)) <= 0.3 + 1e-9 and np.sum(np.abs(w)) == pytest.approx(1.0)
    settings = SimulationSettings(neutralization="NONE", truncation=0.0, decay=2)
    moving = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
    _book, prepared = simulate_alpha(moving, panel, panel.listed, settings)  # type: ignore[arg-type]
    np.testing.assert_allclose(prepared[1], [1 / 3, 2 / 3])  # (2·today + 1·yesterday) / 3


def test_sector_neutralization_uses_the_group_field() -> None:
    dates = np.arange("2021-01-04", "2021-01-06", dtype="datetime64[D]")
    groups = GroupValue(codes=np.array([[0, 0, 1, 1]] * 2), n_groups=2)
    panel = make_panel(
        dates, list("ABCD"), {"close": np.ones((2, 4)), "returns": np.zeros((2, 4)), "sector": groups}
    )
    out = neutralize(np.array([[1.0, 3.0, 10.0, 20.0]] * 2), "SECTOR", panel)
    np.testing.assert_allclose(out[0], [-1, 1, -5, 5])


def test_checks_and_self_correlation() -> None:
    checks = {
        c["name"]: c
        for c in standard_checks(
            sharpe_=1.5,
            fitness_=0.8,
            turnover=0.75,
            max_weight=0.2,
            sub_universe_sharpe=0.1,
            sub_universe_ratio=1 / 3,
            limits=Limits(),
        )
    }
    assert checks["LOW_SHARPE"]["result"] == "PASS"
    assert checks["LOW_FITNESS"]["result"] == "FAIL"
    assert checks["HIGH_TURNOVER"]["result"] == "FAIL" and checks["LOW_TURNOVER"]["result"] == "PASS"
    assert checks["CONCENTRATED_WEIGHT"]["result"] == "FAIL"
    assert checks["LOW_SUB_UNIVERSE_SHARPE"]["limit"] == pytest.approx(
        0.75 * math.sqrt(1 / 3) * 1.5, abs=1e-4
    )
    assert checks["LOW_SUB_UNIVERSE_SHARPE"]["result"] == "FAIL"
    assert checks["SELF_CORRELATION"]["result"] == "PENDING"
    assert Limits.for_delay(0).sharpe == 2.0
    dates = [f"2021-01-{d:02d}" for d in range(1, 31)]
    rng = np.random.default_rng(0)
    a = np.cumsum(rng.normal(size=30))
    assert pnl_correlation(dates, list(a), dates, list(a * 3)) == pytest.approx(1.0)
    assert pnl_correlation(dates[:5], list(a[:5]), dates[:5], list(a[:5])) is None  # too short
    assert self_correlation_check(1.0, [(0.9, 1.0)])["result"] == "FAIL"
    assert self_correlation_check(1.2, [(0.9, 1.0)])["result"] == "PASS"  # ≥ 10% better
    assert self_correlation_check(1.0, [(0.5, 3.0)])["result"] == "PASS"
