"""The synthetic market's planted effects: sensible expressions earn a positive Sharpe, random ones do not."""

from __future__ import annotations

import numpy as np

from brain_agent.simulation.backend import SimulationJob, SimulationSettings
from brain_agent.simulation.local.backend import LocalBackend
from brain_agent.simulation.local.panel import Panel
from brain_agent.simulation.result import AlphaResult


def _sharpe(panel: Panel, expression: str) -> float:
    outcome = LocalBackend(panel).simulate([SimulationJob("c", expression, SimulationSettings())])[0]
    assert outcome.status == "COMPLETE", outcome.error
    return float(AlphaResult.model_validate(outcome.result).is_.sharpe or 0.0)


def test_reversal_earns_a_clearly_positive_sharpe(small_market: Panel) -> None:
    assert _sharpe(small_market, "rank(-ts_delta(close, 5))") > 1.5
    assert _sharpe(small_market, "rank(ts_delta(close, 5))") < -1.5


def test_value_earns_a_positive_sharpe(small_market: Panel) -> None:
    assert _sharpe(small_market, "rank(bookvalue_ps / close)") > 1.0


def test_random_signals_do_not(small_market: Panel) -> None:
    rng = np.random.default_rng(2024)
    for name in ("random_a", "random_b"):
        small_market.put(name, rng.normal(size=small_market.shape), "MATRIX")
    assert abs(_sharpe(small_market, "rank(random_a)")) < 1.0
    assert abs(_sharpe(small_market, "rank(ts_mean(random_b, 10))")) < 1.0
