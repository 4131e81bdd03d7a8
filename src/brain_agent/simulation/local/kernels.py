"""Vectorised operator kernels over ``(T, N)`` panels (dates × instruments), numpy + bottleneck.

Conventions (also in ``docs/simulation.md``):

- time-series operators need a full window: the first ``d - 1`` rows are NaN, and a window with a
  NaN in it gives NaN (bottleneck ``min_count = d``), except where noted (``ts_decay_linear``,
  ``ts_av_diff``, ``ts_backfill``, ``kth_element``, ``ts_count_nans`` skip NaN);
- standard deviations, variances and covariances are population ones (``ddof = 0``);
- cross-sectional operators work on one date (row) at a time and ignore NaN cells;
- ``rank`` maps to ``[0, 1]`` evenly spaced, ties share their average rank, a lone value gets 0.5;
- every kernel silences numpy's warnings for all-NaN slices and divisions by zero, and returns NaN
  for undefined cells (never ±inf).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import bottleneck as bn
import numpy as np

from brain_agent.simulation.local.panel import BoolArray, FloatArray, GroupValue, IntArray


class ArgumentError(ValueError):
    """A constant argument a kernel cannot use (the evaluator adds the source location)."""


@contextmanager
def quiet() -> Iterator[None]:
    """Silence numpy's floating-point and all-NaN-slice warnings inside a kernel."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def finite(x: FloatArray) -> FloatArray:
    """Replace ±inf by NaN (in place when ``x`` is writable) and return it."""
    inf = np.isinf(x)
    if inf.any():
        x[inf] = np.nan
    return x


def _f(x: object) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


# -- time series -------------------------------------------------------------------------------------
def ts_delay(x: FloatArray, d: int) -> FloatArray:
    if d < 0:
        raise ArgumentError(f"delay must be ≥ 0, got {d}")
    out = np.full_like(x, np.nan)
    if d == 0:
        out[:] = x
    elif d < x.shape[0]:
        out[d:] = x[:-d]
    return out


def ts_delta(x: FloatArray, d: int) -> FloatArray:
    if d < 1 or d >= x.shape[0]:
        return x - ts_delay(x, d)
    out = np.empty(x.shape)
    out[:d] = np.nan
    np.subtract(x[d:], x[:-d], out=out[d:])
    return out


_MOVE_COLUMNS = 32
"""Instruments per slice in the moving-window kernels: walking down the dates of a few columns
keeps their cache lines warm (bottleneck moves down axis 0 one column at a time)."""


def _move(name: str, x: FloatArray, d: int, min_count: int | None = None) -> FloatArray:
    t = x.shape[0]
    if d < 1:
        raise ArgumentError(f"lookback must be a positive integer, got {d}")
    if d > t:
        return np.full_like(x, np.nan)
    fn = getattr(bn, name)
    count = d if min_count is None else min_count
    with quiet():
        if x.ndim != 2 or x.shape[1] <= 2 * _MOVE_COLUMNS:
            return _f(fn(x, d, min_count=count, axis=0))
        out = np.empty(x.shape)
        for j in range(0, x.shape[1], _MOVE_COLUMNS):
            cols = slice(j, j + _MOVE_COLUMNS)
            out[:, cols] = fn(x[:, cols], d, min_count=count, axis=0)
        return out


def ts_mean(x: FloatArray, d: int) -> FloatArray:
    return _move("move_mean", x, d)


def ts_sum(x: FloatArray, d: int) -> FloatArray:
    return _move("move_sum", x, d)


def ts_std_dev(x: FloatArray, d: int) -> FloatArray:
    return _move("move_std", x, d)


def ts_min(x: FloatArray, d: int) -> FloatArray:
    return _move("move_min", x, d)


def ts_max(x: FloatArray, d: int) -> FloatArray:
    return _move("move_max", x, d)


def ts_median(x: FloatArray, d: int) -> FloatArray:
    return _move("move_median", x, d)


def ts_rank(x: FloatArray, d: int, constant: float = 0.0) -> FloatArray:
    """Rank of today's value within the last ``d`` values, in ``[0, 1]`` (+ ``constant``)."""
    out = np.where(np.isnan(x), np.nan, 0.5) if d == 1 else (_move("move_rank", x, d) + 1.0) / 2.0
    return out + constant


def ts_zscore(x: FloatArray, d: int) -> FloatArray:
    with quiet():
        sd = ts_std_dev(x, d)
        sd[sd <= 1e-14 * np.abs(ts_mean(x, d)) + 1e-300] = np.nan
        return finite((x - ts_mean(x, d)) / sd)


def ts_scale(x: FloatArray, d: int, constant: float = 0.0) -> FloatArray:
    lo, hi = ts_min(x, d), ts_max(x, d)
    with quiet():
        rng = hi - lo
        rng[rng == 0] = np.nan
        return finite((x - lo) / rng) + constant


def ts_av_diff(x: FloatArray, d: int) -> FloatArray:
    """``x - ts_mean(x, d)`` where the mean skips NaN (the window must have elapsed)."""
    m = _move("move_mean", x, d, min_count=1)
    m[: d - 1] = np.nan
    return x - m


def ts_ir(x: FloatArray, d: int) -> FloatArray:
    with quiet():
        sd = ts_std_dev(x, d)
        sd[sd == 0] = np.nan
        return finite(ts_mean(x, d) / sd)


def ts_max_diff(x: FloatArray, d: int) -> FloatArray:
    return x - ts_max(x, d)


def ts_min_diff(x: FloatArray, d: int) -> FloatArray:
    return x - ts_min(x, d)


def ts_min_max_diff(x: FloatArray, d: int, f: float = 0.5) -> FloatArray:
    return x - f * (ts_min(x, d) + ts_max(x, d))


def ts_min_max_cps(x: FloatArray, d: int, f: float = 2.0) -> FloatArray:
    return ts_min(x, d) + ts_max(x, d) - f * x


def ts_returns(x: FloatArray, d: int, mode: int = 1) -> FloatArray:
    prev = ts_delay(x, d)
    with quiet():
        if mode == 1:
            return finite(x / prev - 1.0)
        if mode == 2:
            return finite(np.log(x / prev))
    raise ArgumentError(f"ts_returns mode must be 1 or 2, got {mode}")


def _joint(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    bad = np.isnan(x) | np.isnan(y)
    xm = np.where(bad, np.nan, x)
    ym = np.where(bad, np.nan, y)
    return xm, ym


_COLUMN_BLOCK = 256
"""Instruments per slice for time-series kernels with many temporaries: they are made for a slice at
a time, so their memory is a twelfth of a full matrix's instead of a dozen matrices."""
_ROW_BLOCK = 128
"""Dates per slice for cross-sectional kernels with many temporaries (rows are independent)."""


def by_columns(fn: Callable[..., FloatArray], arrays: tuple[FloatArray, ...], *rest: object) -> FloatArray:
    """``fn(*arrays, *rest)`` computed ``_COLUMN_BLOCK`` columns at a time. Only for kernels whose
    columns are independent (time series): each column is computed exactly as on the whole array."""
    t, n = arrays[0].shape
    if n <= _COLUMN_BLOCK or any(a.shape != (t, n) for a in arrays):
        return fn(*arrays, *rest)
    out = np.empty((t, n))
    for j in range(0, n, _COLUMN_BLOCK):
        out[:, j : j + _COLUMN_BLOCK] = fn(*(a[:, j : j + _COLUMN_BLOCK] for a in arrays), *rest)
    return out


def by_rows(fn: Callable[..., FloatArray], x: FloatArray, *rest: object) -> FloatArray:
    """``fn(x, *rest)`` computed ``_ROW_BLOCK`` rows at a time, for kernels whose rows are
    independent (cross-sectional); ``rest`` may hold groups, sliced alike."""
    t = x.shape[0]
    if t <= _ROW_BLOCK:
        return fn(x, *rest)
    out = np.empty(x.shape)
    for a in range(0, t, _ROW_BLOCK):
        part = [
            GroupValue(np.broadcast_to(r.codes, x.shape)[a : a + _ROW_BLOCK], r.n_groups)
            if isinstance(r, GroupValue)
            else r
            for r in rest
        ]
        out[a : a + _ROW_BLOCK] = fn(x[a : a + _ROW_BLOCK], *part)
    return out


def ts_covariance(y: FloatArray, x: FloatArray, d: int) -> FloatArray:
    return by_columns(_ts_covariance, (y, x), d)


def _ts_covariance(y: FloatArray, x: FloatArray, d: int) -> FloatArray:
    xm, ym = _joint(x, y)
    return ts_mean(xm * ym, d) - ts_mean(xm, d) * ts_mean(ym, d)


def ts_corr(x: FloatArray, y: FloatArray, d: int) -> FloatArray:
    return by_columns(_ts_corr, (x, y), d)


def _ts_corr(x: FloatArray, y: FloatArray, d: int) -> FloatArray:
    xm, ym = _joint(x, y)
    mx, my = ts_mean(xm, d), ts_mean(ym, d)
    cov = ts_mean(xm * ym, d) - mx * my
    vx = ts_mean(xm * xm, d) - mx * mx
    vy = ts_mean(ym * ym, d) - my * my
    with quiet():
        tiny_x = vx <= 1e-12 * (mx * mx) + 1e-300
        tiny_y = vy <= 1e-12 * (my * my) + 1e-300
        out = cov / np.sqrt(vx * vy)
        out[tiny_x | tiny_y] = np.nan
        return finite(np.clip(out, -1.0, 1.0))


def ts_regression(y: FloatArray, x: FloatArray, d: int, lag: int = 0, rettype: int = 0) -> FloatArray:
    """Rolling OLS of ``y`` on ``x`` (lagged ``lag`` days) over ``d`` days.

    rettype: 0 residual (y − estimate), 1 intercept, 2 slope, 3 estimate, 4 SSE, 5 SST, 6 R².
    """
    if lag < 0:
        raise ArgumentError(f"ts_regression lag must be ≥ 0, got {lag}")
    xl = ts_delay(x, lag) if lag else x
    xm, ym = _joint(xl, y)
    mx, my = ts_mean(xm, d), ts_mean(ym, d)
    with quiet():
        vx = ts_mean(xm * xm, d) - mx * mx
        vx[vx <= 1e-12 * (mx * mx) + 1e-300] = np.nan
        beta = (ts_mean(xm * ym, d) - mx * my) / vx
        alpha = my - beta * mx
        if rettype == 0:
            return finite(ym - (alpha + beta * xm))
        if rettype == 1:
            return finite(alpha)
        if rettype == 2:
            return finite(beta)
        if rettype == 3:
            return finite(alpha + beta * xm)
        vy = ts_mean(ym * ym, d) - my * my
        sst = vy * d
        sse = np.maximum(sst - beta * beta * vx * d, 0.0)
        if rettype == 4:
            return finite(sse)
        if rettype == 5:
            return finite(sst)
        if rettype == 6:
            sst[sst <= 0] = np.nan
            return finite(1.0 - sse / sst)
    raise ArgumentError(f"ts_regression rettype {rettype} is not supported locally (0–6 are)")


def decay_linear(x: FloatArray, d: int, *, min_rows: int | None = None) -> FloatArray:
    """Linear decay over ``d`` rows, newest weight ``d``: Σ w·x / Σ w over the non-NaN cells.

    ``min_rows``: rows before ``min_rows - 1`` are NaN (the window has not elapsed); default ``d``.
    """
    if d < 1:
        raise ArgumentError(f"lookback must be a positive integer, got {d}")
    if d == 1:
        return x.copy()
    return by_columns(lambda part: _decay_linear(part, d, min_rows), (x,))


def _decay_linear(x: FloatArray, d: int, min_rows: int | None) -> FloatArray:
    t = x.shape[0]
    valid = ~np.isnan(x)
    x0 = np.where(valid, x, 0.0)
    m = valid.astype(np.float64)
    idx = np.arange(1, t + 1, dtype=np.float64)[:, None]

    def windowed(a: FloatArray) -> FloatArray:
        c = np.cumsum(a, axis=0)
        out = c.copy()
        out[d:] -= c[:-d]
        return out

    base = idx - d  # the weight of row s in the window ending at row t is s - (t - d), in 1..d
    num = windowed(idx * x0) - base * windowed(x0)
    den = windowed(idx * m) - base * windowed(m)
    with quiet():
        out = num / den
    out[den <= 0.5] = np.nan
    rows = d if min_rows is None else min_rows
    if rows > 1:
        out[: rows - 1] = np.nan
    return out


def ts_decay_linear(x: FloatArray, d: int, dense: bool = False) -> FloatArray:
    return decay_linear(x, d)


def ts_decay_exp_window(x: FloatArray, d: int, factor: float = 1.0) -> FloatArray:
    if not 0.0 < factor <= 1.0:
        raise ArgumentError(f"ts_decay_exp_window factor must be in (0, 1], got {factor}")
    num = np.zeros_like(x)
    den = np.zeros_like(x)
    for k in range(d):
        v = ts_delay(x, k)
        ok = ~np.isnan(v)
        w = factor**k
        num[ok] += w * v[ok]
        den[ok] += w
    with quiet():
        out = num / den
    out[den == 0] = np.nan
    out[: d - 1] = np.nan
    return out


def ts_product(x: FloatArray, d: int) -> FloatArray:
    with quiet():
        absx = np.abs(x)
        zeros = _move("move_sum", (absx == 0).astype(np.float64), d)
        negs = _move("move_sum", (x < 0).astype(np.float64), d)
        logabs = np.log(np.where(absx > 0, absx, 1.0))  # zeros counted separately; NaN stays NaN
        logabs[np.isnan(x)] = np.nan
        logs = _move("move_sum", logabs, d)
        out = np.exp(logs) * np.where(np.fmod(negs, 2.0) == 1.0, -1.0, 1.0)
        out[zeros > 0] = 0.0
        return finite(out)


def ts_arg_max(x: FloatArray, d: int) -> FloatArray:
    """Days since the window's maximum (0 = today)."""
    return _move("move_argmax", x, d)


def ts_arg_min(x: FloatArray, d: int) -> FloatArray:
    return _move("move_argmin", x, d)


def ts_count_nans(x: FloatArray, d: int) -> FloatArray:
    return _move("move_sum", np.isnan(x).astype(np.float64), d)


def _moment_windows(x: FloatArray, d: int) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    m1 = ts_mean(x, d)
    m2 = ts_mean(x * x, d)
    m3 = ts_mean(x * x * x, d)
    m4 = ts_mean(x * x * x * x, d)
    return m1, m2, m3, m4


def ts_moment(x: FloatArray, d: int, k: int = 0) -> FloatArray:
    """k-th central moment over the window (population)."""
    if k < 0 or k > 4:
        raise ArgumentError(f"ts_moment k must be 0..4 locally, got {k}")
    m1, m2, m3, m4 = _moment_windows(x, d)
    if k == 0:
        return np.where(np.isnan(m1), np.nan, 1.0)
    if k == 1:
        return np.where(np.isnan(m1), np.nan, 0.0)
    if k == 2:
        return m2 - m1**2
    if k == 3:
        return m3 - 3 * m1 * m2 + 2 * m1**3
    return m4 - 4 * m1 * m3 + 6 * m1**2 * m2 - 3 * m1**4


def ts_skewness(x: FloatArray, d: int) -> FloatArray:
    with quiet():
        var = ts_moment(x, d, 2)
        var[var <= 0] = np.nan
        return finite(ts_moment(x, d, 3) / var**1.5)


def ts_kurtosis(x: FloatArray, d: int) -> FloatArray:
    """Excess kurtosis (normal = 0), population moments."""
    with quiet():
        var = ts_moment(x, d, 2)
        var[var <= 0] = np.nan
        return finite(ts_moment(x, d, 4) / var**2 - 3.0)


def _ffill_index(valid: BoolArray) -> IntArray:
    t = valid.shape[0]
    rows = np.where(valid, np.arange(t)[:, None], -1)
    return np.maximum.accumulate(rows, axis=0)


def _parse_ignore(ignore: str) -> tuple[bool, list[float]]:
    nan, values = False, []
    for token in ignore.replace(",", " ").split():
        if token.lower() == "nan":
            nan = True
        else:
            try:
                values.append(float(token))
            except ValueError:
                raise ArgumentError(f"ignore must list 'NaN' and numbers, got {ignore!r}") from None
    return nan, values


def kth_element(x: FloatArray, d: int, k: int, ignore: str = "NaN") -> FloatArray:
    """The k-th most recent value (k = 1 is today) within the last ``d`` days, skipping ignored ones."""
    if k < 1:
        raise ArgumentError(f"kth_element k must be ≥ 1, got {k}")
    skip_nan, skip_values = _parse_ignore(ignore)
    out = np.full_like(x, np.nan)
    found = np.zeros(x.shape, dtype=np.int64)
    done = np.zeros(x.shape, dtype=bool)
    for lag in range(min(d, x.shape[0])):
        v = ts_delay(x, lag)
        ok = np.ones(x.shape, dtype=bool)
        if skip_nan:
            ok &= ~np.isnan(v)
        for value in skip_values:
            ok &= v != value
        found += ok
        take = ok & (found == k) & ~done
        out[take] = v[take]
        done |= take
    return out


def ts_backfill(x: FloatArray, lookback: int, k: int = 1) -> FloatArray:
    """Fill NaN with the k-th latest non-NaN value of the last ``lookback`` days."""
    if lookback < 1:
        raise ArgumentError(f"lookback must be a positive integer, got {lookback}")
    if k != 1:
        return np.where(np.isnan(x), kth_element(x, lookback, k, "NaN"), x)
    valid = ~np.isnan(x)
    last = _ffill_index(valid)
    age = np.arange(x.shape[0])[:, None] - last
    ok = (last >= 0) & (age < lookback)
    filled = np.take_along_axis(x, np.clip(last, 0, None), axis=0)
    return np.where(ok, filled, np.nan)


def _last_change(x: FloatArray) -> IntArray:
    t = x.shape[0]
    change = np.ones(x.shape, dtype=bool)
    prev, cur = x[:-1], x[1:]
    same = (prev == cur) | (np.isnan(prev) & np.isnan(cur))
    change[1:] = ~same
    return np.maximum.accumulate(np.where(change, np.arange(t)[:, None], 0), axis=0)


def days_from_last_change(x: FloatArray) -> FloatArray:
    last = _last_change(x)
    out = (np.arange(x.shape[0])[:, None] - last).astype(np.float64)
    return np.where(np.isnan(x), np.nan, out)


def last_diff_value(x: FloatArray, d: int) -> FloatArray:
    """The last value that differs from today's, if it is within the last ``d`` days."""
    last = _last_change(x)
    before = last - 1
    age = np.arange(x.shape[0])[:, None] - before
    ok = (before >= 0) & (age < d) & ~np.isnan(x)
    value = np.take_along_axis(x, np.clip(before, 0, None), axis=0)
    return np.where(ok, value, np.nan)


def ts_step(shape: tuple[int, int]) -> FloatArray:
    """Day counter: 1 on the first date, 2 on the second..."""
    return np.broadcast_to(np.arange(1, shape[0] + 1, dtype=np.float64)[:, None], shape).copy()


def hump(x: FloatArray, hump_: float = 0.01) -> FloatArray:
    """Limit changes: move from yesterday's output toward today's input by at most
    ``hump × Σ|x|`` (today's cross-section), and not at all when the change is below that."""
    out = np.full_like(x, np.nan)
    with quiet():
        limit = hump_ * np.nansum(np.abs(x), axis=1)
    prev = np.full(x.shape[1], np.nan)
    for t in range(x.shape[0]):
        cur = x[t]
        step = cur - prev
        big = np.abs(step) > limit[t]
        new = np.where(big, prev + np.sign(step) * limit[t], prev)
        new = np.where(np.isnan(prev), cur, new)
        new = np.where(np.isnan(cur), np.nan, new)
        out[t] = new
        prev = np.where(np.isnan(new), prev, new)
    return out


def trade_when(trigger: FloatArray, alpha: FloatArray, exit_: FloatArray) -> FloatArray:
    """``exit > 0`` → NaN; else ``trigger > 0`` → alpha; else yesterday's output."""
    shape = np.broadcast_shapes(trigger.shape, alpha.shape, exit_.shape)
    trig = np.broadcast_to(trigger, shape)
    alp = np.broadcast_to(alpha, shape)
    ext = np.broadcast_to(exit_, shape)
    out = np.full(shape, np.nan)
    prev = np.full(shape[1], np.nan)
    for t in range(shape[0]):
        cur = np.where(trig[t] > 0, alp[t], prev)
        cur = np.where(ext[t] > 0, np.nan, cur)
        out[t] = cur
        prev = cur
    return out


# -- cross-sectional (per row) ---------------------------------------------------------------------
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
    positions = np.arange(1.0, n + 1.0)
    within = np.arange(_RANK_BLOCK)[:, None]
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
        ob[within[: ob.shape[0]], order] = positions
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


# -- groups ----------------------------------------------------------------------------------------
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


def group_demean(x: FloatArray, keys: IntArray, size: int) -> FloatArray:
    """``x`` minus the mean of its bin, ``keys`` being each cell's bin (flat, as ``group_keys``
    makes them, the last of ``size`` bins meaning "no group" → NaN).

    NaN cells add 0 to their bin's sum and count rather than being masked out: the same sums,
    term for term, without copying the valid cells.
    """
    valid = ~np.isnan(x)
    total = np.bincount(keys, weights=np.where(valid, x, 0.0).ravel(), minlength=size)
    count = np.bincount(keys, weights=valid.ravel(), minlength=size)
    with quiet():
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


# -- vectors ---------------------------------------------------------------------------------------
def vec_reduce(name: str, v: FloatArray) -> FloatArray:
    with quiet():
        count = _f(np.sum(~np.isnan(v), axis=2))
        if name == "vec_count":
            return count
        if name == "vec_avg":
            out = _f(bn.nanmean(v, axis=2))
        elif name == "vec_sum":
            out = _f(bn.nansum(v, axis=2))
        elif name == "vec_max":
            out = _f(bn.nanmax(v, axis=2))
        elif name == "vec_min":
            out = _f(bn.nanmin(v, axis=2))
        elif name == "vec_stddev":
            out = _f(bn.nanstd(v, axis=2))
        elif name == "vec_range":
            out = _f(bn.nanmax(v, axis=2)) - _f(bn.nanmin(v, axis=2))
        else:  # pragma: no cover - the operator table only routes the names above here
            raise ArgumentError(f"unknown vector reduction {name}")
    out[count == 0] = np.nan
    return out
