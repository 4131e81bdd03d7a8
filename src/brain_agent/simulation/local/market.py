"""A seeded synthetic equity market with planted effects, for offline simulation.

Instruments sit in a sector → industry → subindustry hierarchy. Daily returns are a one-factor
market move plus sector and industry moves plus idiosyncratic noise, and three planted effects:

- short-term reversal: an instrument's idiosyncratic return leans against its last 5 days' return;
- momentum: a small push in the direction of its return from 12 months to 1 month ago;
- value: a slow latent "cheapness" score that pays a small premium; book-like fundamentals
  (``bookvalue_ps``, ``equity``, ``assets``...) are noisy reads of it.

So sensible expressions (``rank(-ts_delta(close, 5))``, ``rank(bookvalue_ps / close)``) earn a positive
Sharpe and random ones do not. Prices, OHLC, vwap, volume, adv20 and returns are made
eagerly; cap, sharesout, dividend and split (no random draws) on first use; any other field a
knowledge pack names is made on first use, deterministically from the seed and the field id, by
type: MATRIX fields as noisy series linked to one latent driver
(value, size, momentum, quality, volatility or none), GROUP fields as categorical codes, VECTOR
fields as a few noisy values per cell.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

import bottleneck as bn
import numpy as np

from brain_agent.errors import ConfigError
from brain_agent.simulation.local.memory import release_free_memory
from brain_agent.simulation.local.panel import (
    FieldValue,
    FloatArray,
    GroupValue,
    Kind,
    Panel,
    VectorValue,
    make_panel,
)
from brain_agent.simulation.local.types import StoredArray

ENV_INSTRUMENTS = "BRAIN_AGENT_SIM_INSTRUMENTS"
ENV_DAYS = "BRAIN_AGENT_SIM_DAYS"
ENV_SEED = "BRAIN_AGENT_SIM_SEED"

CORE_FIELDS = (
    "open",
    "high",
    "low",
    "close",
    "vwap",
    "volume",
    "adv20",
    "returns",
    "cap",
    "sharesout",
    "dividend",
    "split",
)
CORE_GROUPS = ("sector", "industry", "subindustry", "market", "country", "exchange", "currency")
_DRIVERS = ("value", "size", "momentum", "quality", "volatility", "none")
_VALUE_FIELDS = {
    "bookvalue_ps",
    "equity",
    "assets",
    "retained_earnings",
    "invested_capital",
    "ppent",
    "working_capital",
    "sales",
    "revenue",
    "sales_ps",
    "cashflow_op",
    "ebitda",
    "ebit",
    "income",
    "eps",
    "cash",
    "enterprise_value",
}
_N_SECTORS, _IND_PER_SECTOR, _SUB_PER_IND = 11, 3, 3


@dataclass(frozen=True)
class MarketSpec:
    instruments: int = 500
    days: int = 756
    seed: int = 7
    start: str = "2019-01-02"
    reversal: float = 0.006
    """Strength of the short-term reversal (share of the last 5 days' idiosyncratic return given back)."""
    momentum: float = 0.00015
    value: float = 0.0004

    @classmethod
    def from_env(cls) -> MarketSpec:
        """``BRAIN_AGENT_SIM_INSTRUMENTS`` / ``_DAYS`` / ``_SEED`` override the defaults (500 × 756, 7)."""
        values: dict[str, int] = {}
        for key, env in (("instruments", ENV_INSTRUMENTS), ("days", ENV_DAYS), ("seed", ENV_SEED)):
            raw = os.environ.get(env)
            if raw is None or raw == "":
                continue
            try:
                values[key] = int(raw)
            except ValueError:
                raise ConfigError(f"${env}: expected an integer, got {raw!r}", key=env) from None
        default = cls()
        spec = cls(
            instruments=values.get("instruments", default.instruments),
            days=values.get("days", default.days),
            seed=values.get("seed", default.seed),
        )
        spec.check()
        return spec

    def check(self) -> None:
        if self.instruments < 2:
            raise ConfigError(f"market instruments must be ≥ 2, got {self.instruments}", key="instruments")
        if self.days < 30:
            raise ConfigError(f"market days must be ≥ 30, got {self.days}", key="days")


def _rng(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


def _stored(x: FloatArray | StoredArray) -> StoredArray:
    return np.asarray(x, dtype=np.float32)


def _zs(x: FloatArray) -> FloatArray:
    """Cross-sectional z-score per row, NaN-aware, no warnings."""
    with np.errstate(all="ignore"):
        mean = bn.nanmean(x, axis=1)[:, None]
        sd = bn.nanstd(x, axis=1)[:, None]
        sd = np.where(sd > 0, sd, 1.0)
        return np.asarray((x - mean) / sd, dtype=np.float64)


class _Market:
    """The eager core of the market plus the recipe for lazy fields."""

    def __init__(self, spec: MarketSpec) -> None:
        spec.check()
        self.spec = spec
        t, n = spec.days, spec.instruments
        self.shape: tuple[int, int] = (t, n)
        rng = _rng(spec.seed, "core")
        self.dates = np.busday_offset(np.datetime64(spec.start, "D"), np.arange(t), roll="forward")
        self.instruments = np.array([f"SYN{i:05d}" for i in range(n)])
        sub = rng.integers(0, _N_SECTORS * _IND_PER_SECTOR * _SUB_PER_IND, size=n)
        self.subindustry = sub
        self.industry = sub // _SUB_PER_IND
        self.sector = self.industry // _IND_PER_SECTOR
        # listing: most instruments trade from day 0; a few list later
        listing = np.where(rng.random(n) < 0.06, rng.integers(1, max(2, (2 * t) // 3), size=n), 0)
        self.listed = np.arange(t)[:, None] >= listing[None, :]
        # latent characteristics
        self.size = rng.normal(0.0, 1.0, n)
        self.quality = rng.normal(0.0, 1.0, n)
        vol = 0.018 * np.exp(-0.15 * self.size + rng.normal(0.0, 0.2, n))
        beta = 1.0 + rng.normal(0.0, 0.25, n)
        rho = 0.995
        value = np.empty((t, n))
        value[0] = rng.normal(0.0, 1.0, n)
        shocks = rng.normal(0.0, np.sqrt(1 - rho * rho), (t, n))
        for i in range(1, t):
            value[i] = rho * value[i - 1] + shocks[i]
        del shocks  # temporaries go as soon as they are used: the build's peak is the process's peak
        mkt = rng.normal(0.0003, 0.009, t)
        sec_f = rng.normal(0.0, 0.005, (t, _N_SECTORS))
        ind_f = rng.normal(0.0, 0.004, (t, _N_SECTORS * _IND_PER_SECTOR))
        eps = rng.normal(0.0, 1.0, (t, n))
        ret = np.zeros((t, n))
        # row by row (only the last 6 rows of the idiosyncratic sums are ever read): the build's peak
        # is the process's peak
        cum_idio = np.zeros((6, n))  # cum_idio[i % 6] = sum of idio returns before row i
        cum_ret = np.zeros((t + 1, n))
        for i in range(t):
            planted = spec.value * value[i - 1] if i else np.zeros(n)
            if i >= 5:
                past5 = cum_idio[i % 6] - cum_idio[(i - 5) % 6]
                planted = planted - spec.reversal * (past5 - past5.mean())
            if i >= 252:
                mom = cum_ret[i - 21] - cum_ret[i - 252]
                planted = planted + spec.momentum * (mom - mom.mean()) / (mom.std() + 1e-12)
            idio = eps[i] * vol + planted
            common = beta * mkt[i] + sec_f[i, self.sector] + ind_f[i, self.industry]
            ret[i] = np.clip(common + idio, -0.5, 1.0)
            cum_idio[(i + 1) % 6] = cum_idio[i % 6] + idio
            cum_ret[i + 1] = cum_ret[i] + ret[i]
        del eps, cum_idio
        # each field is kept in single precision as soon as it is final and its double copy dropped:
        # the build's peak is the process's peak (the same numbers as converting them all at the end)
        self.value = _stored(value)
        del value
        self.mom: FloatArray | StoredArray = _stored(cum_ret[1:])
        del cum_ret
        ret[~self.listed] = np.nan
        first = np.argmax(self.listed, axis=0)
        ret[first, np.arange(n)] = np.nan  # no return on a listing day
        self.vol = vol
        p0 = np.exp(rng.normal(np.log(40.0), 0.8, n))
        ret0 = np.nan_to_num(ret)
        # the market's data is single precision, as a data vendor's is (prices to a few decimals):
        # half the memory; every computation on it is in double precision
        self.core: dict[str, StoredArray] = {"returns": _stored(ret)}
        del ret
        # in place where it can be (the same operations, fewer whole-matrix temporaries)
        close = ret0 + 1.0
        np.cumprod(close, axis=0, out=close)
        close *= p0
        close[~self.listed] = np.nan
        prev = np.vstack([close[:1], close[:-1]])
        gap = rng.normal(0.0, 0.004, (t, n))
        open_ = ret0 * 0.3
        open_ += 1.0
        open_ += gap
        del gap
        open_ *= prev  # prev · (1 + 0.3 · ret0 + gap)
        np.copyto(open_, close, where=np.isnan(prev))
        del prev
        wick = np.abs(rng.normal(0.0, 0.006, (t, 2, n)))
        up, down = wick[:, 0], wick[:, 1]
        up += 1.0
        np.subtract(1.0, down, out=down)
        high = np.maximum(open_, close)
        high *= up  # max(open, close) · (1 + wick)
        low = np.minimum(open_, close)
        low *= down  # min(open, close) · (1 − wick)
        del wick, up, down
        self.core["open"] = _stored(open_)
        del open_
        vwap = high + low
        vwap += 2.0 * close
        vwap /= 4.0  # (high + low + 2 · close) / 4
        self.core.update(high=_stored(high), low=_stored(low), close=_stored(close), vwap=_stored(vwap))
        del high, low, close, vwap
        base_volume = np.exp(13.0 + 0.8 * self.size + rng.normal(0.0, 0.3, n))
        volume = base_volume * np.exp(rng.normal(0.0, 0.3, (t, n)))
        volume *= 1.0 + 15.0 * np.abs(ret0)
        del ret0
        volume[~self.listed] = np.nan
        with np.errstate(all="ignore"):
            adv20 = np.asarray(bn.move_mean(volume, 20, min_count=1, axis=0), dtype=np.float64)
        self.core.update(volume=_stored(volume), adv20=_stored(adv20))
        del volume, adv20
        order = ("open", "high", "low", "close", "vwap", "volume", "adv20", "returns")
        self.core = {name: self.core[name] for name in order}
        self.close: FloatArray | StoredArray = self.core["close"]
        self._made: dict[str, StoredArray] = {}

    def core_field(self, name: str) -> StoredArray:
        """The core fields that need no random draws (sharesout, cap, dividend, split), made on first
        use and kept: a market most expressions never ask for them in is about 60 MB smaller."""
        known = self._made.get(name)
        if known is not None:
            return known
        made: FloatArray | StoredArray
        t = self.shape[0]
        if name == "sharesout":
            sharesout = np.exp(4.0 + self.size)[None, :] * (1.0 + 0.0001 * np.arange(t))[:, None]
            made = np.where(self.listed, sharesout, np.nan)
        elif name == "cap":
            made = self.close * self.core_field("sharesout")
        elif name == "dividend":
            made = np.where(
                (np.arange(t)[:, None] % 63 == 40) & self.listed & (self.quality > 0), 0.002 * self.close, 0.0
            )
            made[~self.listed] = np.nan
        elif name == "split":
            made = np.where(self.listed, 1.0, np.nan)
        else:
            return self.core[name]
        kept = _stored(made)
        self._made[name] = kept
        return kept

    # -- lazy fields -------------------------------------------------------------------------------
    def driver(self, name: str) -> FloatArray:
        t, n = self.shape
        if name == "value":
            return _zs(np.asarray(self.value, dtype=np.float64))
        if name == "size":
            return _zs(np.log(np.asarray(self.core_field("cap"), dtype=np.float64)))
        if name == "momentum":
            mom = np.full((t, n), np.nan)
            mom[252:] = np.asarray(self.mom[231:-21], dtype=np.float64) - self.mom[: t - 252]
            return _zs(mom)
        if name == "quality":
            return np.broadcast_to(self.quality, (t, n)).copy()
        if name == "volatility":
            return np.broadcast_to(np.log(self.vol), (t, n)).copy()
        return np.zeros((t, n))

    def matrix(self, name: str, dataset: str) -> StoredArray:
        rng = _rng(self.spec.seed, name)
        t, n = self.shape
        driver = "value" if name in _VALUE_FIELDS else _DRIVERS[zlib.crc32(name.encode()) % len(_DRIVERS)]
        loading = (
            0.8
            if driver == "value" and name in _VALUE_FIELDS
            else rng.uniform(0.3, 0.9) * rng.choice([-1.0, 1.0])
        )
        z = loading * self.driver(driver) + rng.normal(0.0, 0.6, (t, n))
        quarterly = dataset.startswith("fundamental") or name in _VALUE_FIELDS
        if quarterly:  # reported once a quarter, held in between
            offsets = rng.integers(0, 63, n)
            anchor = ((np.arange(t)[:, None] - offsets[None, :]) // 63) * 63 + offsets[None, :]
            anchor = np.clip(anchor, 0, t - 1)
            z = np.take_along_axis(z, anchor, axis=0)
        if name == "bookvalue_ps":
            out = self.close * 0.6 * np.exp(0.8 * z)
        elif name in _VALUE_FIELDS:
            out = self.core_field("cap") * 0.6 * np.exp(0.8 * z)
        elif quarterly:
            out = np.exp(0.5 * self.size)[None, :] * 100.0 * np.exp(0.5 * z)
        else:
            out = z
        coverage = rng.uniform(0.85, 1.0)
        missing = rng.random(n) > coverage
        out = np.where(self.listed & ~missing[None, :], out, np.nan)
        return _stored(out)

    def group(self, name: str) -> GroupValue:
        t, n = self.shape
        rng = _rng(self.spec.seed, name)
        if name == "sector" or name.endswith("_sector"):
            codes, size = self.sector, _N_SECTORS
        elif name == "industry" or name.endswith("_industry"):
            codes, size = self.industry, _N_SECTORS * _IND_PER_SECTOR
        elif name == "subindustry" or name.endswith("_subindustry"):
            codes, size = self.subindustry, _N_SECTORS * _IND_PER_SECTOR * _SUB_PER_IND
        elif name in ("market", "country", "currency"):
            codes, size = np.zeros(n, dtype=np.int64), 1
        elif name == "exchange":
            codes, size = rng.integers(0, 3, n), 3
        elif name in ("sedol", "cusip", "isin", "ticker"):
            codes, size = np.arange(n), n
        else:
            size = int(rng.integers(5, 40))
            codes = rng.integers(0, size, n)
        if name.startswith("pv13_") and not name.endswith(("_sector", "_industry", "_subindustry")):
            codes = rng.integers(0, size, n)
        grid = np.broadcast_to(np.asarray(codes, dtype=np.int64), (t, n))
        return GroupValue(codes=np.where(self.listed, grid, -1), n_groups=int(size))

    def vector(self, name: str, dataset: str) -> VectorValue:
        base = self.matrix(name, dataset)
        rng = _rng(self.spec.seed, name + "#vec")
        k = 3
        data = base[:, :, None] * (1.0 + rng.normal(0.0, 0.2, (*base.shape, k)))
        data[rng.random((*base.shape, k)) < 0.2] = np.nan
        return VectorValue(data=data)


def synthetic_market(spec: MarketSpec | None = None, fields: Iterable[tuple[str, str, str]] = ()) -> Panel:
    """Build the market. ``fields``: extra (id, type MATRIX|GROUP|VECTOR, dataset) to offer lazily,
    e.g. every field of the knowledge pack."""
    market = _Market(spec or MarketSpec())
    kinds: dict[str, Kind] = {name: "MATRIX" for name in CORE_FIELDS}
    kinds.update({name: "GROUP" for name in CORE_GROUPS})
    datasets: dict[str, str] = {}
    for field_id, field_type, dataset in fields:
        if field_id in kinds:
            continue
        if field_type not in ("MATRIX", "GROUP", "VECTOR"):
            raise ConfigError(f"field {field_id!r}: unknown type {field_type!r}", key=field_id)
        kinds[field_id] = field_type  # type: ignore[assignment]
        datasets[field_id] = dataset

    def source(name: str) -> FieldValue | None:
        if name in CORE_FIELDS:
            return market.core_field(name)
        kind = kinds.get(name)
        if kind == "GROUP":
            return market.group(name)
        if kind == "VECTOR":
            return market.vector(name, datasets.get(name, ""))
        if kind == "MATRIX":
            return market.matrix(name, datasets.get(name, ""))
        return None

    s = market.spec
    panel = make_panel(
        market.dates,
        market.instruments,
        dict(market.core),
        listed=market.listed,
        kinds=kinds,
        source=source,
        name=f"synthetic(instruments={s.instruments}, days={s.days}, seed={s.seed})",
    )
    release_free_memory()  # the build's double-precision temporaries are gone: give their pages back
    return panel
