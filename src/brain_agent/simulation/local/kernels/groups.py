"""Group kernels: per (date, group) statistics, and the operators that make groups."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from brain_agent.simulation.local.kernels._shared import ArgumentError, _f, by_rows, finite, quiet
from brain_agent.simulation.local.kernels.cross_section import rank_rows
from brain_agent.simulation.local.kernels.timeseries import ts_delay
from brain_agent.simulation.local.types import BoolArray, FloatArray, GroupValue, IntArray


def _keys(x: FloatArray, g: GroupValue) -> tuple[IntArray, BoolArray, int]:
    t = x.shape[0]
    codes = np.broadcast_to(g.codes, x.shape)
    ok = (codes >= 0) & ~np.isnan(x)
    keys = np.arange(t, dtype=np.int64)[:, None] * g.n_groups + codes
    return np.where(ok, keys, 0), ok, t * g.n_groups


def _gsum(values: FloatArray, keys: IntArray, ok: BoolArray, size: int) -> FloatArray:
    return _f(np.bincount(keys[ok], weights=values[ok], minlength=size))


def group_stats(
    x: FloatArray, g: GroupValue
) -> tuple[FloatArray, FloatArray, FloatArray, IntArray, BoolArray]:
    """Per (date, group): count, mean, population std; plus each cell's key and validity."""
    keys, ok, size = _keys(x, g)
    n = _f(np.bincount(keys[ok], minlength=size))
    s1 = _gsum(x, keys, ok, size)
    s2 = _gsum(x * x, keys, ok, size)
    with quiet():
        mean = s1 / n
        var = np.maximum(s2 / n - mean * mean, 0.0)
    return n, mean, np.sqrt(var), keys, ok


def _spread(per_key: FloatArray, keys: IntArray, ok: BoolArray) -> FloatArray:
    return np.where(ok, per_key[keys], np.nan)


def group_keys(g: GroupValue, shape: tuple[int, ...]) -> IntArray:
    """Flat (date, group) bin of every cell of a ``shape`` panel, ``t · n_groups + code``; cells
    without a group share one extra, last bin. Depends on the groups only, so callers may keep it."""
    codes = np.broadcast_to(g.codes, shape)
    none = shape[0] * g.n_groups
    keys = np.arange(shape[0], dtype=np.int64)[:, None] * g.n_groups + codes
    return np.where(codes >= 0, keys, none).ravel()


def group_neutralize(x: FloatArray, g: GroupValue) -> FloatArray:
    """``x`` minus its (date, group) mean; NaN where ``x`` is NaN or the cell has no group."""
    return group_demean(x, group_keys(g, x.shape), x.shape[0] * g.n_groups + 1)


def group_demean(x: FloatArray, keys: IntArray | NDArray[np.int32], size: int) -> FloatArray:
    """``x`` minus the mean of its bin, ``keys`` being each cell's bin (flat, as ``group_keys``
    makes them, the last of ``size`` bins meaning "no group" → NaN).

    NaN cells add 0 to their bin's sum and count rather than being masked out: the same sums,
    term for term, without copying the valid cells.
    """
    valid = ~np.isnan(x)
    total = np.bincount(keys, weights=np.where(valid, x, 0.0).ravel(), minlength=size)
    count = np.bincount(keys, weights=valid.ravel(), minlength=size)
    with np.errstate(all="ignore"):  # the floating-point state only (per thread); no warning filters
        mean = total / count
    mean[-1] = np.nan
    return _f(x - mean[keys].reshape(x.shape))


def group_zscore(x: FloatArray, g: GroupValue) -> FloatArray:
    _, mean, sd, keys, ok = group_stats(x, g)
    with quiet():
        sd = sd.copy()
        sd[sd == 0] = np.nan
        return finite(np.where(ok, (x - mean[keys]) / sd[keys], np.nan))


def group_mean(x: FloatArray, weight: FloatArray, g: GroupValue) -> FloatArray:
    w = np.broadcast_to(weight, x.shape)
    xm = np.where(np.isnan(w), np.nan, x)
    keys, ok, size = _keys(xm, g)
    num = _gsum(xm * w, keys, ok, size)
    den = _gsum(np.asarray(w, dtype=np.float64), keys, ok, size)
    with quiet():
        per = num / den
    per[den == 0] = np.nan
    codes = np.broadcast_to(g.codes, x.shape)
    all_keys = np.arange(x.shape[0], dtype=np.int64)[:, None] * g.n_groups + np.clip(codes, 0, None)
    return np.where(codes >= 0, per[all_keys], np.nan)


def group_extra(x: FloatArray, weight: FloatArray, g: GroupValue) -> FloatArray:
    return np.where(np.isnan(x), group_mean(x, weight, g), x)


def group_sum(x: FloatArray, g: GroupValue) -> FloatArray:
    keys, ok, size = _keys(x, g)
    return _spread(_gsum(x, keys, ok, size), keys, ok)


def group_count(x: FloatArray, g: GroupValue) -> FloatArray:
    keys, ok, size = _keys(x, g)
    return _spread(_f(np.bincount(keys[ok], minlength=size)), keys, ok)


def group_std_dev(x: FloatArray, g: GroupValue) -> FloatArray:
    _, _, sd, keys, ok = group_stats(x, g)
    return _spread(sd, keys, ok)


def _group_extreme(
    x: FloatArray, g: GroupValue, fn: np.ufunc, start: float
) -> tuple[FloatArray, IntArray, BoolArray]:
    keys, ok, size = _keys(x, g)
    per = np.full(size, start)
    fn.at(per, keys[ok], x[ok])
    return per, keys, ok


def group_max(x: FloatArray, g: GroupValue) -> FloatArray:
    per, keys, ok = _group_extreme(x, g, np.maximum, -np.inf)
    return _spread(per, keys, ok)


def group_min(x: FloatArray, g: GroupValue) -> FloatArray:
    per, keys, ok = _group_extreme(x, g, np.minimum, np.inf)
    return _spread(per, keys, ok)


def group_scale(x: FloatArray, g: GroupValue) -> FloatArray:
    hi = group_max(x, g)
    lo = group_min(x, g)
    with quiet():
        rng = hi - lo
        rng[rng == 0] = np.nan
        return finite((x - lo) / rng)


def group_rank(x: FloatArray, g: GroupValue) -> FloatArray:
    """Rank within each (date, group) in ``[0, 1]``; ties average; a lone member → 0.5."""
    return by_rows(_group_rank, x, g)


def _group_rank(x: FloatArray, g: GroupValue) -> FloatArray:
    keys, ok, size = _keys(x, g)
    codes = np.broadcast_to(g.codes, x.shape)
    n_row = x.shape[1]
    with quiet():
        row_rank = rank_rows(np.where(ok, x, np.nan))
    composite = np.where(ok, codes + (row_rank - 1.0) / (2.0 * n_row), np.nan)
    with quiet():
        r = rank_rows(composite)
    counts = _f(np.bincount(keys[ok], minlength=size)).reshape(x.shape[0], g.n_groups)
    before = np.cumsum(counts, axis=1) - counts  # members in lower codes, per row
    offset = np.take_along_axis(before, np.clip(codes, 0, None), axis=1)
    n_g = np.take_along_axis(counts, np.clip(codes, 0, None), axis=1)
    with quiet():
        out = (r - offset - 1.0) / (n_g - 1.0)
    out[ok & (n_g == 1)] = 0.5
    return np.where(ok, out, np.nan)


def group_backfill(x: FloatArray, g: GroupValue, d: int, std: float = 4.0) -> FloatArray:
    """Fill NaN with the winsorised mean of the group's values over the last ``d`` days."""
    codes = np.broadcast_to(g.codes, x.shape)
    t = x.shape[0]
    size = t * g.n_groups
    lagged = [(ts_delay(x, k), _delay_codes(codes, k)) for k in range(min(d, t))]
    s1 = np.zeros(size)
    s2 = np.zeros(size)
    n = np.zeros(size)
    target = np.arange(t, dtype=np.int64)[:, None] * g.n_groups
    for v, c in lagged:
        ok = (c >= 0) & ~np.isnan(v)
        keys = (target + np.clip(c, 0, None))[ok]
        s1 += np.bincount(keys, weights=v[ok], minlength=size)
        s2 += np.bincount(keys, weights=v[ok] ** 2, minlength=size)
        n += np.bincount(keys, minlength=size)
    with quiet():
        mean = s1 / n
        sd = np.sqrt(np.maximum(s2 / n - mean**2, 0.0))
    lo, hi = mean - std * sd, mean + std * sd
    c1 = np.zeros(size)
    cn = np.zeros(size)
    for v, c in lagged:
        ok = (c >= 0) & ~np.isnan(v)
        keys = (target + np.clip(c, 0, None))[ok]
        clipped = np.clip(v[ok], lo[keys], hi[keys])
        c1 += np.bincount(keys, weights=clipped, minlength=size)
        cn += np.bincount(keys, minlength=size)
    with quiet():
        fill = c1 / cn
    own = target + np.clip(codes, 0, None)
    filled = np.where(codes >= 0, fill[own], np.nan)
    return np.where(np.isnan(x), filled, x)


def _delay_codes(codes: IntArray, k: int) -> IntArray:
    if k == 0:
        return np.asarray(codes)
    out = np.full(codes.shape, -1, dtype=np.int64)
    out[k:] = codes[:-k]
    return out


def densify(g: GroupValue) -> GroupValue:
    used = np.unique(g.codes[g.codes >= 0])
    lookup = np.full(max(g.n_groups, 1), -1, dtype=np.int64)
    lookup[used] = np.arange(len(used))
    codes = np.where(g.codes >= 0, lookup[np.clip(g.codes, 0, None)], -1)
    return GroupValue(codes=codes, n_groups=max(len(used), 1))


def group_cartesian_product(g1: GroupValue, g2: GroupValue) -> GroupValue:
    c1, c2 = np.broadcast_arrays(g1.codes, g2.codes)
    codes = np.where((c1 >= 0) & (c2 >= 0), c1 * g2.n_groups + c2, -1)
    return densify(GroupValue(codes=codes, n_groups=g1.n_groups * g2.n_groups))


MAX_BUCKETS = 10_000
"""Most groups ``bucket(range=...)`` may make (each group is a bin in every group pass)."""


def _numbers(text: str, what: str) -> list[float]:
    try:
        return [float(p) for p in text.replace(" ", "").split(",") if p]
    except ValueError:
        raise ArgumentError(f"{what} must be comma-separated numbers, got {text!r}") from None


def bucket(
    x: FloatArray,
    range_: str | None = None,
    buckets: str | None = None,
    skip_both: bool = False,
    nan_group: bool = False,
) -> GroupValue:
    """Group codes from value ranges: ``range="start,end,step"`` or ``buckets="b1,b2,..."`` boundaries."""
    if (range_ is None) == (buckets is None):
        raise ArgumentError('bucket needs exactly one of range="start,end,step" or buckets="b1,b2,..."')
    if range_ is not None:
        parts = _numbers(range_, "range")
        if len(parts) != 3 or parts[2] <= 0 or parts[1] <= parts[0]:
            raise ArgumentError(
                f'range must be "start,end,step" with end > start and step > 0, got {range_!r}'
            )
        start, end, step = parts
        count = (end - start) / step
        if not math.isfinite(count) or count > MAX_BUCKETS:
            raise ArgumentError(
                f"range {range_!r} makes {count:.3g} buckets; at most {MAX_BUCKETS} are allowed"
            )
        nb = max(round(count), 1)
        with quiet():
            raw = np.floor((x - start) / step)
        outside = (x < start) | (x > end)
        raw = np.clip(raw, 0, nb - 1)
    else:
        edges = sorted(_numbers(buckets or "", "buckets"))
        if not edges:
            raise ArgumentError("buckets needs at least one boundary")
        raw = np.searchsorted(np.asarray(edges), x, side="right").astype(np.float64)
        nb = len(edges) + 1
        outside = (x < edges[0]) | (x >= edges[-1])
    codes = np.where(np.isnan(x), -1, raw).astype(np.int64)
    if skip_both:
        codes[outside] = -1
    n_groups = nb
    if nan_group:
        codes[np.isnan(x)] = nb
        n_groups = nb + 1
    return GroupValue(codes=codes, n_groups=n_groups)


def matrix_to_group(x: FloatArray) -> GroupValue:
    """Use a MATRIX as groups: each distinct finite value becomes one code."""
    ok = np.isfinite(x)
    uniq, inv = np.unique(x[ok], return_inverse=True)
    codes = np.full(x.shape, -1, dtype=np.int64)
    codes[ok] = inv
    return GroupValue(codes=codes, n_groups=max(len(uniq), 1))
