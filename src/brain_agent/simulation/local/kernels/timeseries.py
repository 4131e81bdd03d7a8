"""Time-series kernels: one instrument (column) at a time down the dates."""

from __future__ import annotations

import bottleneck as bn
import numpy as np

from brain_agent.simulation.local.kernels import _native
from brain_agent.simulation.local.kernels._shared import (
    ArgumentError,
    _f,
    by_columns,
    cumsum_rows,
    finite,
    in_slices,
    quiet,
)
from brain_agent.simulation.local.types import BoolArray, FloatArray, IntArray


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
    # rows sliced over threads: numpy's subtract releases the GIL (2.3 → 1.6 ms at 3000 × 1260)
    in_slices(
        lambda lo, hi: np.subtract(x[d + lo : d + hi], x[lo:hi], out=out[d + lo : d + hi]), x.shape[0] - d, 64
    )
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
    count = d if min_count is None else min_count
    native = _native.move()
    if native is not None and name in native.KINDS and x.ndim == 2 and 1 <= count <= d and d > 1:
        x = np.ascontiguousarray(x, dtype=np.float64)
        out = np.empty(x.shape)
        in_slices(lambda lo, hi: native(name, x, out, d, count, lo, hi), x.shape[1], _MOVE_COLUMNS)
        return out
    fn = getattr(bn, name)
    with quiet():
        if x.ndim != 2 or x.shape[1] <= 2 * _MOVE_COLUMNS:
            return _f(fn(x, d, min_count=count, axis=0))
        out = np.empty(x.shape)

        def columns(lo: int, hi: int) -> None:
            for j in range(lo, hi, _MOVE_COLUMNS):
                cols = slice(j, min(j + _MOVE_COLUMNS, hi))
                out[:, cols] = fn(x[:, cols], d, min_count=count, axis=0)

        in_slices(columns, x.shape[1], _MOVE_COLUMNS)
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


_DECAY_COLUMNS = 1024
"""Instruments per slice in ``decay_linear``: a dozen temporaries of this width (≈ 10 MB each on
1260 dates), and few enough slices that the row-by-row running sums cost little in calls."""


def decay_linear(x: FloatArray, d: int, *, min_rows: int | None = None) -> FloatArray:
    """Linear decay over ``d`` rows, newest weight ``d``: Σ w·x / Σ w over the non-NaN cells.

    ``min_rows``: rows before ``min_rows - 1`` are NaN (the window has not elapsed); default ``d``.
    """
    if d < 1:
        raise ArgumentError(f"lookback must be a positive integer, got {d}")
    if d == 1:
        return x.copy()
    native = _native.decay()
    if native is not None and x.ndim == 2:  # one pass in C, columns sliced over threads
        x = np.ascontiguousarray(x, dtype=np.float64)
        out = np.empty(x.shape)
        rows = d if min_rows is None else min_rows
        in_slices(lambda lo, hi: native(x, out, d, rows, lo, hi), x.shape[1], _MOVE_COLUMNS)
        return out
    # wide slices: the running sums go row by row (``cumsum_rows``), so fewer, wider slices are faster
    return by_columns(lambda part: _decay_linear(part, d, min_rows), (x,), width=_DECAY_COLUMNS)


def _decay_linear(x: FloatArray, d: int, min_rows: int | None) -> FloatArray:
    t = x.shape[0]
    valid = ~np.isnan(x)
    x0 = np.where(valid, x, 0.0)
    m = valid.astype(np.float64)
    idx = np.arange(1, t + 1, dtype=np.float64)[:, None]

    def windowed(a: FloatArray) -> FloatArray:
        c = cumsum_rows(a)
        out = np.empty(c.shape)
        out[:d] = c[:d]
        np.subtract(c[d:], c[:-d], out=out[d:])
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
