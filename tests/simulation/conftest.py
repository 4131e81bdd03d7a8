"""Shared small panels for the simulation tests."""

from __future__ import annotations

import numpy as np
import pytest

from brain_agent.simulation.local.market import MarketSpec, synthetic_market
from brain_agent.simulation.local.panel import GroupValue, Panel, VectorValue, make_panel


@pytest.fixture
def tiny_panel() -> Panel:
    """4 dates × 3 instruments with hand-checkable values."""
    close = np.array([[10.0, 20.0, 30.0], [11.0, 19.0, 30.0], [12.0, 18.0, 33.0], [13.0, 17.0, 30.0]])
    returns = np.vstack([np.full(3, np.nan), close[1:] / close[:-1] - 1])
    sector = GroupValue(codes=np.array([[0, 0, 1]]).repeat(4, axis=0), n_groups=2)
    vec = VectorValue(data=np.arange(36, dtype=float).reshape(4, 3, 3))
    dates = np.arange("2020-01-01", "2020-01-05", dtype="datetime64[D]")
    return make_panel(
        dates, ["A", "B", "C"], {"close": close, "returns": returns, "sector": sector, "vec": vec}
    )


@pytest.fixture(scope="session")
def small_market() -> Panel:
    return synthetic_market(
        MarketSpec(instruments=300, days=504, seed=11), [("bookvalue_ps", "MATRIX", "fundamental6")]
    )
