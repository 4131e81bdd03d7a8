"""Cross-sectional kernels: one date (row) at a time across the instruments."""

from __future__ import annotations

import math

import bottleneck as bn
import numpy as np

from brain_agent.simulation.local.kernels._shared import ArgumentError, _f, finite, quiet
from brain_agent.simulation.local.kernels.timeseries import _joint, ts_rank
from brain_agent.simulation.local.types import FloatArray


def _row_count(x: FloatArray) -> FloatArray:
    return _f(np.sum(~np.isnan(x), axis=1, dtype=np.float64))[:, None]


_NOT_SIGN = np.int64(0x7FFF_FFFF_FFFF_FFFF)
_RANK_BLOCK = 32  # rows per block: the block's keys, order and ranks stay in cache


def rank_rows(x: FloatArray) -> FloatArray:
    """1-based average ranks of each row's non-NaN values (NaN elsewhere): exactly
    ``bottleneck.nanrankdata(x, axis=1)``, two to three times as fast on rows without ties.

    Each float becomes an order-preserving int64 key (NaN → largest); its lowest bits are replaced
    by the column index, so one SIMD integer sort per row gives the order and the columns at once,
    and a row's ranks are the sort positions. Keys that lose their order in those low bits are
    (nearly) equal values: such a row, like any row with a tie, is ranked again by bottleneck,
    which averages ties. After a first block in which most rows tie (a discrete signal), the rest
    goes to bottleneck directly.
    """
    x = _f(x)
    t, n = x.shape
    shift = max(1, (n - 1).bit_length())
    low = np.int64((1 << shift) - 1)
    nan_key = _NOT_SIGN >> shift
    columns = np.arange(n, dtype=np.int64)
    positions = np.tile(np.arange(1.0, n + 1.0), _RANK_BLOCK)
    within = np.arange(_RANK_BLOCK, dtype=np.int64)[:, None] * n  # each row's offset in the flat block
    out = np.empty((t, n))
    tied = np.zeros(t, dtype=bool)
    done = t
    for a in range(0, t, _RANK_BLOCK):
        xb = x[a : a + _RANK_BLOCK] + 0.0  # a copy; -0.0 becomes +0.0, so equal floats get equal keys
        nan = np.isnan(xb)
        bits = xb.view(np.int64)
        keys = np.right_shift(bits, 63)
        keys &= _NOT_SIGN
        keys ^= bits  # negative floats: every bit but the sign flipped, so integer order = float order
        np.copyto(keys, _NOT_SIGN, where=nan)
        keys >>= shift
        keys <<= shift
        keys |= columns
        keys.sort(axis=1)
        order = keys & low
        keys >>= shift
        block_tied = np.any((keys[:, 1:] == keys[:, :-1]) & (keys[:, 1:] != nan_key), axis=1)
        tied[a : a + _RANK_BLOCK] = block_tied
        ob = out[a : a + _RANK_BLOCK]
        size = ob.shape[0]
        order += within[:size]  # flat positions: a 1-D scatter is ~3× as fast as a 2-D fancy index
        ob.reshape(-1)[order.reshape(-1)] = positions[: size * n]
        np.copyto(ob, np.nan, where=nan)
        if a == 0 and 2 * int(np.count_nonzero(block_tied)) > block_tied.size:
            done = _RANK_BLOCK
            break
    with quiet():
        if done < t:
            out[done:] = _f(bn.nanrankdata(x[done:], axis=1))
        rows = np.flatnonzero(tied)
        if rows.size:
            out[rows] = _f(bn.nanrankdata(x[rows], axis=1))
    return out


def rank(x: FloatArray, rate: int = 2) -> FloatArray:
    """Cross-sectional rank in ``[0, 1]``; ties share the average rank; one value → 0.5."""
    out = rank_rows(x)
    n = _row_count(x)
    with quiet():
        out -= 1.0
        out /= n - 1.0
    lone = np.flatnonzero(n == 1)
    if lone.size:
        out[lone] = np.where(np.isnan(x[lone]), np.nan, 0.5)
    return out


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
