"""Helpers every kernel module shares: the argument error, warning silencing, NaN for ±inf,
and evaluation in blocks of columns or rows (same numbers, a fraction of the temporaries)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np

from brain_agent.simulation.local.types import FloatArray, GroupValue


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
