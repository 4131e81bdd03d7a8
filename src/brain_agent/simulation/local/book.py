"""From alpha values to a $20M book, daily PnL and the ``is`` block of a BRAIN-shaped result.

Order, as on BRAIN: restrict to the universe → decay (linear, ``decay`` days) → neutralize
(NONE / MARKET / SECTOR / INDUSTRY / SUBINDUSTRY) → scale to unit gross → truncation (cap each
weight, rescale, repeat) → $20M gross. Delay 1: the alpha of row t (data through date t) is the
position held over date t+1, so the PnL of date t is Σ w[t−1] · returns[t]. There are no intraday
prices, so delay 0 uses the same alignment and differs only in its check limits.

Speed: neutralization, weights, PnL and turnover are one pass over blocks of rows (a block's
arrays stay in cache; the weight matrix is never held whole), and per-market arrays (group bins,
NaN-free returns) are kept on the panel. Every row is computed as it would be alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import NDArray

from brain_agent.simulation.backend import SimulationSettings
from brain_agent.simulation.errors import EvaluationError
from brain_agent.simulation.local import kernels as k
from brain_agent.simulation.local.kernels import _native as k_native
from brain_agent.simulation.local.kernels._native import BookRows
from brain_agent.simulation.local.panel import BoolArray, FloatArray, GroupValue, Panel
from brain_agent.simulation.metrics import BOOK, DAYS_PER_YEAR, HALF_BOOK, drawdown, fitness, sharpe

_BLOCK = 64
"""Rows per block in the book pass (64 × 3000 float64 ≈ 1.5 MB)."""
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


Demean = Callable[[FloatArray, int], FloatArray]
"""Neutralizes a block of rows, given the block and the index of its first row."""


def neutralize(alpha: FloatArray, how: str, panel: Panel) -> FloatArray:
    """``alpha`` neutralized by ``how`` (NONE, MARKET, SECTOR, INDUSTRY, SUBINDUSTRY)."""
    if how == "NONE":
        return alpha
    demean = _demeaner(how, panel, alpha.shape)
    out = np.empty(alpha.shape)
    for a in range(0, alpha.shape[0], _BLOCK):
        out[a : a + _BLOCK] = demean(alpha[a : a + _BLOCK], a)
    return out


def _demeaner(how: str, panel: Panel, shape: tuple[int, ...]) -> Demean:
    if how == "NONE":
        return _same
    if how == "MARKET":
        return _market
    field, group = _group_for(how, panel)
    keys = panel.derived(f"block_keys:{field}:{shape}", lambda: _block_keys(group, shape))
    size, n = _BLOCK * group.n_groups + 1, shape[1]
    return lambda block, a: k.group_demean(block, keys[a * n : a * n + block.size], size)


def _group_for(how: str, panel: Panel) -> tuple[str, GroupValue]:
    """The GROUP field a SECTOR / INDUSTRY / SUBINDUSTRY neutralization uses, and its groups."""
    field = _GROUP_FOR[how]
    if panel.kind(field) != "GROUP":
        raise EvaluationError(
            f"neutralization {how} needs a GROUP field {field!r}, which this panel does not have",
            error_code="BAD_SETTING",
            setting="neutralization",
        )
    group = panel.get(field)
    assert isinstance(group, GroupValue)
    return field, group


def _same(block: FloatArray, _a: int) -> FloatArray:
    return block


def _market(block: FloatArray, _a: int) -> FloatArray:
    """``block`` minus each row's mean over its non-NaN cells. Summing with the NaN cells zeroed
    beats ``bottleneck.nanmean`` (whose branch per cell mispredicts on scattered NaN); the sum
    differs in its last bit at most."""
    valid = ~np.isnan(block)
    total: FloatArray = np.sum(np.where(valid, block, 0.0), axis=1)
    with np.errstate(all="ignore"):  # the floating-point state only (per thread); no warning filters
        mean: FloatArray = total / np.count_nonzero(valid, axis=1)
    out: FloatArray = block - mean[:, None]
    return out


def _block_keys(group: GroupValue, shape: tuple[int, ...]) -> NDArray[np.int32]:
    """Each cell's (row within its block, group) bin, flat; the last bin is "no group"."""
    codes = np.broadcast_to(group.codes, shape)
    row = (np.arange(shape[0], dtype=np.int64) % _BLOCK)[:, None] * group.n_groups
    # int32 (half the memory of the default): the bins number at most _BLOCK × groups + 1
    return np.where(codes >= 0, row + codes, _BLOCK * group.n_groups).astype(np.int32).ravel()


def weights(alpha: FloatArray, truncation: float) -> FloatArray:
    """Unit-gross weights per row (0 where the alpha is NaN), each capped at ``truncation``."""
    out = np.empty(alpha.shape)
    for a in range(0, alpha.shape[0], _BLOCK):
        out[a : a + _BLOCK] = _block_weights(alpha[a : a + _BLOCK], truncation)
    return out


def _block_weights(alpha: FloatArray, truncation: float) -> FloatArray:
    """``weights`` of a few rows. Truncation: the rows whose largest weight is over the cap are
    clipped and rescaled until none is (at most 20 rounds); rows within the cap are left alone."""
    w = _unit_gross(np.where(np.isnan(alpha), 0.0, alpha))
    if 0.0 < truncation < 1.0:
        limit = truncation * (1 + 1e-9)
        rows = np.flatnonzero(np.max(np.abs(w), axis=1, initial=0.0) > limit)
        for _ in range(20):
            if rows.size == 0:
                break
            capped = _unit_gross(np.clip(w[rows], -truncation, truncation))
            w[rows] = capped
            rows = rows[np.max(np.abs(capped), axis=1, initial=0.0) > limit]
    return w


def _unit_gross(w: FloatArray) -> FloatArray:
    """``w`` scaled in place so that each row's Σ|w| is 1 (rows with nothing to scale become 0)."""
    gross = np.sum(np.abs(w), axis=1, keepdims=True)
    empty = ~(gross[:, 0] > 0)
    gross[empty] = 1.0
    with np.errstate(all="ignore"):
        w /= gross
    w[empty] = 0.0
    return w


def prepare(alpha: FloatArray, universe: BoolArray, settings: SimulationSettings) -> FloatArray:
    """Universe restriction and decay (before neutralization)."""
    a = np.where(universe, alpha, np.nan)
    if settings.decay > 1:
        a = k.decay_linear(a, settings.decay, min_rows=1)
        np.copyto(a, np.nan, where=~universe)
    return a


@dataclass(frozen=True)
class _Rows:
    """Per-date sums of a unit-gross book ``w``, from one pass."""

    pnl: FloatArray
    """Σ w[t−1] · returns[t] (0 on the first date)."""
    gross: FloatArray
    """Σ |w[t]|."""
    traded: FloatArray
    """Σ |w[t] − w[t−1]| (0 on the first date)."""
    longs: FloatArray
    shorts: FloatArray
    top: FloatArray
    """max |w[t]|."""


@dataclass(frozen=True)
class _Spec:
    """One book a pass computes: weights from the block (restricted to ``within``, ``demean``ed,
    unit gross and truncated) and their sums."""

    truncation: float
    demean: Demean = _same
    within: BoolArray | None = None
    pnl_only: bool = False


def _pass(
    alpha: FloatArray,
    returns: FloatArray | NDArray[np.float32],
    truncation: float,
    demean: Demean = _same,
    within: BoolArray | None = None,
    *,
    pnl_only: bool = False,
) -> _Rows:
    """One pass over blocks of rows: restrict ``alpha`` to ``within`` → ``demean`` → weights →
    per-date sums (only ``pnl`` and ``gross`` when ``pnl_only``). ``returns`` has no NaN."""
    spec = _Spec(truncation, demean, within, pnl_only)
    return _passes(lambda a, b: alpha[a:b], alpha.shape, returns, [spec])[0]


def _passes(
    source: Callable[[int, int], FloatArray],
    shape: tuple[int, ...],
    returns: FloatArray | NDArray[np.float32],
    specs: list[_Spec],
) -> list[_Rows]:
    """``_pass`` for several books of the same alpha at once: each block of ``source`` rows (the
    alpha of dates ``a:b``) is made and read once for all of them. Rows are sliced over threads; a
    slice that does not start the book starts from the weights of the date before it, computed
    again (each date's weights depend on that date alone)."""
    t, n = shape
    books = [_Rows(*(np.zeros(t) for _ in range(6))) for _ in specs]

    def weights_of(spec: _Spec, block: FloatArray, a: int) -> FloatArray:
        if spec.within is not None:
            block = np.where(spec.within[a : a + block.shape[0]], block, np.nan)
        block = spec.demean(block, a)
        return _block_weights(block, spec.truncation)

    def rows(lo: int, hi: int) -> None:
        start = None if lo == 0 else source(lo - 1, lo)
        prevs = [np.zeros((1, n)) if start is None else weights_of(spec, start, lo - 1) for spec in specs]
        for a in range(lo, hi, _BLOCK):
            b = min(a + _BLOCK, hi)
            block = source(a, b)
            ret = np.asarray(returns[a:b], dtype=np.float64)
            for i, spec in enumerate(specs):
                out = books[i]
                w = weights_of(spec, block, a)
                before = np.concatenate([prevs[i], w[:-1]])  # w[t−1] for each row t
                out.pnl[a:b] = np.einsum("ij,ij->i", before, ret)
                absw = np.abs(w)
                out.gross[a:b] = np.einsum("ij->i", absw)
                prevs[i] = w[-1:]
                if spec.pnl_only:
                    continue
                out.top[a:b] = np.max(absw, axis=1, initial=0.0)
                np.subtract(w, before, out=before)
                out.traded[a:b] = np.einsum("ij->i", np.abs(before, out=before))
                out.longs[a:b] = np.count_nonzero(w > 0, axis=1)
                out.shorts[a:b] = np.count_nonzero(w < 0, axis=1)

    k.in_slices(rows, t, _BLOCK)
    for out in books:
        out.pnl[0] = out.traded[0] = 0.0
    return books


def _returns0(panel: Panel) -> FloatArray | NDArray[np.float32]:
    """The returns with 0 for NaN, kept in the precision the panel keeps them in (the book pass
    reads a block at a time in double)."""
    raw = panel.get("returns")
    assert isinstance(raw, np.ndarray)
    return cast(FloatArray, panel.derived("returns0", lambda: np.nan_to_num(raw, nan=0.0)))


def _book(rows: _Rows, dates: NDArray[np.datetime64]) -> Book:
    t = rows.pnl.shape[0]
    daily = rows.pnl * BOOK
    active = np.flatnonzero(rows.gross[:-1] > 0)
    if active.size == 0:
        return Book(dates, daily, t, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    first = int(active[0])
    held = slice(first, t - 1)  # positions whose PnL is realised; the first is built from nothing
    traded = rows.traded[held].copy()
    traded[0] = rows.gross[first]
    traded *= BOOK
    pnl_days = daily[first + 1 :]
    s = sharpe(pnl_days)
    turnover = float(np.mean(traded)) / BOOK
    returns_ = float(np.mean(pnl_days)) * DAYS_PER_YEAR / HALF_BOOK
    total_traded = float(np.sum(traded))
    total = float(np.sum(pnl_days))
    days = t - 1 - first
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
        long_count=float(np.sum(rows.longs[held])) / days,
        short_count=float(np.sum(rows.shorts[held])) / days,
        max_weight=float(np.max(rows.top[held])),
    )


def simulate_alpha(
    alpha: FloatArray, panel: Panel, universe: BoolArray, settings: SimulationSettings
) -> tuple[Book, FloatArray]:
    """The book for ``alpha`` under ``settings``; also returns the prepared (decayed) alpha."""
    prepared = prepare(alpha, universe, settings)
    demean = _demeaner(settings.neutralization, panel, prepared.shape)
    rows = _pass(prepared, _returns0(panel), settings.truncation, demean)
    return _book(rows, panel.dates), prepared


def simulate_book(
    alpha: FloatArray, panel: Panel, universe: BoolArray, settings: SimulationSettings, fraction: float
) -> tuple[Book, float | None]:
    """The book for ``alpha`` under ``settings`` and the Sharpe on the most liquid ``fraction`` of the
    universe (pasteurized to it, market-neutralized, unit gross; None when it would hold fewer than
    2), in one pass over the dates (the C pass when it was built, else numpy's blocks): the universe
    is applied as the rows are read, and each row feeds both books."""
    # decay needs whole columns: it makes the prepared (restricted, decayed) alpha first
    prepared = prepare(alpha, universe, settings) if settings.decay > 1 else None
    sub = _sub_universe(panel, universe, fraction)
    native = k_native.book()
    if native is not None:
        if prepared is not None:
            rows = _native_passes(native, prepared, None, panel, settings, sub)
        else:
            rows = _native_passes(native, alpha, universe, panel, settings, sub)
    else:

        def source(a: int, b: int) -> FloatArray:
            return prepared[a:b] if prepared is not None else np.where(universe[a:b], alpha[a:b], np.nan)

        specs = [_Spec(settings.truncation, _demeaner(settings.neutralization, panel, alpha.shape))]
        if sub is not None:
            specs.append(_Spec(0.0, _market, sub, pnl_only=True))
        rows = _passes(source, alpha.shape, _returns0(panel), specs)
    book = _book(rows[0], panel.dates)
    return book, (_book(rows[1], panel.dates).sharpe if sub is not None else None)


def _native_passes(
    native: BookRows,
    alpha: FloatArray,
    universe: BoolArray | None,
    panel: Panel,
    settings: SimulationSettings,
    sub: BoolArray | None,
) -> list[_Rows]:
    """``simulate_book``'s two books by the C pass (``book_rows`` in ``kernels/_ckernels.c``): the
    same steps as ``_passes``, row by row, on slices of dates on the kernel threads."""
    how = settings.neutralization
    neutral, codes, n_groups = "none", None, 0
    if how == "MARKET":
        neutral = "market"
    elif how != "NONE":
        field, group = _group_for(how, panel)
        codes = panel.derived(f"codes32:{field}", lambda: _codes32(group, alpha.shape))
        neutral, n_groups = "group", group.n_groups
    alpha = np.ascontiguousarray(alpha, dtype=np.float64)
    mask = None if universe is None else np.ascontiguousarray(universe)
    returns = _returns0(panel)
    books = [_Rows(*(np.zeros(alpha.shape[0]) for _ in range(6))) for _ in range(1 if sub is None else 2)]

    def sums(rows: _Rows) -> tuple[FloatArray, ...]:  # the order book_rows writes them in
        return rows.pnl, rows.gross, rows.traded, rows.longs, rows.shorts, rows.top

    def rows(lo: int, hi: int) -> None:
        cap = settings.truncation
        native(alpha, mask, None, neutral, codes, n_groups, cap, returns, lo, hi, False, sums(books[0]))
        if sub is not None:
            native(alpha, mask, sub, "market", None, 0, 0.0, returns, lo, hi, True, sums(books[1]))

    k.in_slices(rows, alpha.shape[0], _BLOCK)
    for out in books:
        out.pnl[0] = out.traded[0] = 0.0
    return books


def _codes32(group: GroupValue, shape: tuple[int, ...]) -> NDArray[np.int32]:
    """The group codes as the C pass reads them: int32, one row when every date has the same."""
    codes = np.asarray(group.codes)
    if codes.ndim == 2 and codes.shape[0] == 1:
        codes = codes[0]
    if codes.ndim == 2 and codes.shape != shape:
        codes = np.broadcast_to(codes, shape)
    return np.ascontiguousarray(codes, dtype=np.int32)


def _sub_universe(panel: Panel, universe: BoolArray, fraction: float) -> BoolArray | None:
    """The most liquid ``fraction`` of ``universe`` (None when it would hold fewer than 2), kept on
    the panel for each universe array and fraction (the array is held with it, so its ``id`` cannot
    be another array's): the same for every alpha of a market, and 1.3 ms to make at 3000 × 1260."""
    kept: dict[tuple[int, float], tuple[BoolArray, BoolArray | None]] = panel.derived("sub_universes", dict)
    hit = kept.get((id(universe), fraction))
    if hit is not None and hit[0] is universe:
        return hit[1]
    size = round(float(np.mean(np.sum(universe, axis=1))) * fraction)
    sub = None if size < 2 else panel.universe(size) & universe
    kept[(id(universe), fraction)] = (universe, sub)
    return sub
