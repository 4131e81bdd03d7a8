"""Cross-sectional kernels: one date (row) at a time across the instruments."""

from __future__ import annotations

import math

import bottleneck as bn
import numpy as np

from brain_agent.simulation.local.kernels import _native
from brain_agent.simulation.local.kernels._shared import ArgumentError, _f, finite, in_slices, quiet
from brain_agent.simulation.local.kernels.timeseries import _joint, ts_rank
from brain_agent.simulation.local.types import BoolArray, FloatArray, IntArray


def _row_count(x: FloatArray) -> FloatArray:
    return _f(np.sum(~np.isnan(x), axis=1, dtype=np.float64))[:, None]


_NOT_SIGN = np.int64(0x7FFF_FFFF_FFFF_FFFF)
_NAN_BASE = np.int64(0x7FF1_0000_0000_0000)
"""Keys of NaN cells start here: above +inf's key (0x7FF0…), below the largest int64."""
_RANK_BLOCK = 32  # rows per block: the block's keys, order and ranks stay in cache


class _RankPlan:
    """What every block of a ``t × n`` rank needs: the column bits, NaN keys, positions."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.shift = max(1, (n - 1).bit_length())
        self.low = np.int64((1 << self.shift) - 1)
        self.high = ~self.low
        self.columns = np.arange(n, dtype=np.int64)
        # NaN cells get a key of their own each (above the column bits), so no two look tied
        self.nan_keys = _NAN_BASE + (self.columns << self.shift)
        self.positions = np.arange(float(n))
        self.within = np.arange(_RANK_BLOCK, dtype=np.int64)[:, None] * n


def _rank_block(xb: FloatArray, out: FloatArray, plan: _RankPlan, scaled: bool) -> tuple[BoolArray, IntArray]:
    """Ranks of the rows of ``xb`` written into ``out`` (same shape); returns the rows to rank
    again (near-ties) and each row's count of non-NaN values.

    Each float becomes an order-preserving int64 key (NaN above +inf); its lowest bits are replaced
    by the column index, so one SIMD integer sort per row gives the order and the columns at once,
    and a row's ranks are the sort positions. Values whose keys agree above those bits are equal or
    nearly so: equal ones share the average of their positions, computed here (exactly what
    bottleneck gives: market data in single precision ties often); a row with two nearly equal
    values is left to be ranked again by bottleneck.
    """
    size = xb.shape[0]
    xc = xb + 0.0  # a copy; -0.0 becomes +0.0, so equal floats get equal keys
    nan = np.isnan(xc)
    bits = xc.view(np.int64)
    keys = np.right_shift(bits, 63)
    keys &= _NOT_SIGN
    keys ^= bits  # negative floats: every bit but the sign flipped, so integer order = float order
    np.copyto(keys, plan.nan_keys, where=nan)
    keys &= plan.high
    keys |= plan.columns
    keys.sort(axis=1)
    order = keys & plan.low
    keys &= plan.high
    same = keys[:, 1:] == keys[:, :-1]  # NaN keys are spaced apart: never the same
    count = plan.n - np.count_nonzero(nan, axis=1)
    positions = np.broadcast_to(plan.positions, (size, plan.n))
    redo = np.zeros(size, dtype=bool)
    rows = np.flatnonzero(np.any(same, axis=1))
    if rows.size:
        held = same[rows]
        ordered = np.take_along_axis(xc[rows], order[rows], axis=1)
        near = np.any(held & (ordered[:, 1:] != ordered[:, :-1]), axis=1)
        redo[rows[near]] = True
        rows, held = rows[~near], held[~near]
        if rows.size:  # exact ties: each run of equal values gets the mean of its positions
            first = np.ones((rows.size, plan.n), dtype=bool)
            first[:, 1:] = ~held
            last = np.ones((rows.size, plan.n), dtype=bool)
            last[:, :-1] = ~held
            start = np.maximum.accumulate(np.where(first, plan.positions, 0.0), axis=1)
            end = np.minimum.accumulate(np.where(last, plan.positions, np.inf)[:, ::-1], axis=1)[:, ::-1]
            positions = positions.copy()
            positions[rows] = (start + end) * 0.5
    if scaled:
        with np.errstate(all="ignore"):  # the floating-point state only (per thread); no warning filters
            values = positions / (count - 1.0)[:, None]
    else:
        values = positions + 1.0
    values[plan.positions >= count[:, None]] = np.nan  # NaN cells sort last
    order += plan.within[:size]  # flat positions: a 1-D scatter is ~3× as fast as a 2-D fancy index
    out.reshape(-1)[order.reshape(-1)] = values.reshape(-1)
    return redo, count


def _ranked(x: FloatArray, scaled: bool) -> FloatArray:
    """Ranks of the rows of ``x``: by the C kernel when it was built, else by numpy (same numbers)."""
    return _ranked_numpy(x, scaled) if _native.rank() is None else _ranked_native(x, scaled)


def _ranked_native(x: FloatArray, scaled: bool) -> FloatArray:
    """``_ranked`` by the C kernel (``_ckernels.c``: a radix sort on 32-bit keys, exact order and
    ties settled on the doubles), on slices of rows on the kernel threads."""
    rank_rows_c = _native.native_rank
    assert rank_rows_c is not None
    x = np.ascontiguousarray(x, dtype=np.float64)
    out = np.empty(x.shape)
    if x.size:
        in_slices(lambda a, b: rank_rows_c(x, out, a, b, scaled), x.shape[0], _RANK_BLOCK)
    return out


def _ranked_numpy(x: FloatArray, scaled: bool) -> FloatArray:
    x = _f(x)
    t, n = x.shape
    plan = _RankPlan(n)
    out = np.empty((t, n))
    redo = np.zeros(t, dtype=bool)
    counts = np.empty(t, dtype=np.int64)

    def block(a: int, b: int) -> None:
        for lo in range(a, b, _RANK_BLOCK):
            hi = min(lo + _RANK_BLOCK, b)
            redo[lo:hi], counts[lo:hi] = _rank_block(x[lo:hi], out[lo:hi], plan, scaled)

    in_slices(block, t, _RANK_BLOCK)
    rows = np.flatnonzero(redo)
    if rows.size:
        with quiet():
            exact = _f(bn.nanrankdata(x[rows], axis=1))
            if scaled:
                exact -= 1.0
                exact /= (counts[rows] - 1.0)[:, None]
        out[rows] = exact
    if scaled:
        lone = np.flatnonzero(counts == 1)
        if lone.size:
            out[lone] = np.where(np.isnan(x[lone]), np.nan, 0.5)
    return out


def rank_rows(x: FloatArray) -> FloatArray:
    """1-based average ranks of each row's non-NaN values (NaN elsewhere): exactly
    ``bottleneck.nanrankdata(x, axis=1)``, several times as fast (the C kernel; else numpy, see
    ``_rank_block``, with rows holding near-ties ranked by bottleneck)."""
    return _ranked(x, scaled=False)


def rank(x: FloatArray, rate: int = 2) -> FloatArray:
    """Cross-sectional rank in ``[0, 1]``: ``(r − 1)/(n − 1)`` for the 1-based average rank ``r``
    of ``n`` values (ties share their average rank; one value → 0.5). Computed block by block with
    the ranks, so the matrix is written once."""
    return _ranked(x, scaled=True)


def zscore(x: FloatArray) -> FloatArray:
    with quiet():
        mean = _f(bn.nanmean(x, axis=1))[:, None]
        sd = _f(bn.nanstd(x, axis=1))[:, None]
        sd[sd == 0] = np.nan
        return finite((x - mean) / sd)


def scale(
    x: FloatArray, scale_: float = 1.0, longscale: float | None = None, shortscale: float | None = None
) -> FloatArray:
    with quiet():
        if longscale is None and shortscale is None:
            gross = _f(bn.nansum(np.abs(x), axis=1))[:, None]
            gross[gross == 0] = np.nan
            return finite(x / gross * scale_)
        ls = 1.0 if longscale is None else longscale
        ss = 1.0 if shortscale is None else shortscale
        pos = np.where(x > 0, x, 0.0)
        neg = np.where(x < 0, -x, 0.0)
        psum = _f(np.sum(pos, axis=1))[:, None]
        nsum = _f(np.sum(neg, axis=1))[:, None]
        psum[psum == 0] = np.inf
        nsum[nsum == 0] = np.inf
        out = pos / psum * ls - neg / nsum * ss
        return np.where(np.isnan(x), np.nan, out)


def normalize(x: FloatArray, use_std: bool = False, limit: float = 0.0) -> FloatArray:
    with quiet():
        out = x - _f(bn.nanmean(x, axis=1))[:, None]
        if use_std:
            sd = _f(bn.nanstd(x, axis=1))[:, None]
            sd[sd == 0] = np.nan
            out = finite(out / sd)
    if limit > 0:
        out = np.clip(out, -limit, limit)
    return out


def winsorize(x: FloatArray, std: float = 4.0) -> FloatArray:
    with quiet():
        mean = _f(bn.nanmean(x, axis=1))[:, None]
        sd = _f(bn.nanstd(x, axis=1))[:, None]
        return np.clip(x, mean - std * sd, mean + std * sd)


def inverse_normal_cdf(p: FloatArray) -> FloatArray:
    """Φ⁻¹(p) for p in (0, 1) (Acklam's rational approximation, |error| < 1.2e-9); NaN elsewhere."""
    a = (
        -3.969683028665376e01,
        2.209460984245205e02,
        -2.759285104469687e02,
        1.383577518672690e02,
        -3.066479806614716e01,
        2.506628277459239e00,
    )
    b = (
        -5.447609879822406e01,
        1.615858368580409e02,
        -1.556989798598866e02,
        6.680131188771972e01,
        -1.328068155288572e01,
    )
    c = (
        -7.784894002430293e-03,
        -3.223964580411365e-01,
        -2.400758277161838e00,
        -2.549732539343734e00,
        4.374664141464968e00,
        2.938163982698783e00,
    )
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
    p = _f(p)
    out = np.full_like(p, np.nan)
    lo, hi = 0.02425, 1 - 0.02425
    with quiet():
        m = (p > 0) & (p < lo)
        q = np.sqrt(-2 * np.log(p[m]))
        out[m] = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
            (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1
        )
        m = (p >= lo) & (p <= hi)
        q = p[m] - 0.5
        r = q * q
        out[m] = (
            (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5])
            * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        )
        m = (p > hi) & (p < 1)
        q = np.sqrt(-2 * np.log(1 - p[m]))
        out[m] = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
            (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1
        )
    return out


def _driver(p: FloatArray, driver: str, sigma: float) -> FloatArray:
    name = driver.lower()
    if name == "gaussian":
        return inverse_normal_cdf(p) * sigma
    if name == "uniform":
        return (2.0 * p - 1.0) * sigma
    if name == "cauchy":
        return np.tan(math.pi * (p - 0.5)) * sigma
    raise ArgumentError(f"driver must be gaussian, uniform or cauchy, got {driver!r}")


def quantile(x: FloatArray, driver: str = "gaussian", sigma: float = 1.0) -> FloatArray:
    """Rank each row, shift ranks into (0, 1) as (r − ½)/n, map through the driver's inverse CDF."""
    with quiet():
        r = rank_rows(x)
        p = (r - 0.5) / _row_count(x)
    return _driver(p, driver, sigma)


def ts_quantile(x: FloatArray, d: int, driver: str = "gaussian") -> FloatArray:
    r = ts_rank(x, d)  # [0, 1]
    p = (r * (d - 1) + 0.5) / d
    return _driver(p, driver, 1.0)


def vector_neut(x: FloatArray, y: FloatArray) -> FloatArray:
    """x minus its projection on y, per row (NaN cells left out of the dot products)."""
    return x - vector_proj(x, y)


def vector_proj(x: FloatArray, y: FloatArray) -> FloatArray:
    xm, ym = _joint(x, y)
    with quiet():
        xy = _f(bn.nansum(xm * ym, axis=1))[:, None]
        yy = _f(bn.nansum(ym * ym, axis=1))[:, None]
        yy[yy == 0] = np.nan
        return finite(xy / yy * ym)
