"""Helpers every kernel module shares: the argument error, warning silencing, NaN for ±inf, fields
pasteurized, and evaluation in blocks of columns or rows (same numbers, a fraction of the
temporaries)."""

from __future__ import annotations

import math
import os
import threading
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import numpy as np

from brain_agent.simulation.local.kernels import _native
from brain_agent.simulation.local.types import BoolArray, FloatArray, GroupValue


class ArgumentError(ValueError):
    """A constant argument a kernel cannot use (the evaluator adds the source location)."""


_slice = threading.local()
"""``inside`` is set while a thread computes one slice of ``in_slices``."""


@contextmanager
def quiet() -> Iterator[None]:
    """Silence numpy's floating-point and all-NaN-slice warnings inside a kernel. Within a slice of
    ``in_slices`` only the floating-point part is set here (it is per thread): warning filters are
    process-wide, changing them from several threads at once could leave them changed, and
    ``in_slices`` holds them for all its slices."""
    with np.errstate(all="ignore"):
        if getattr(_slice, "inside", False):
            yield
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            yield


CELL_BLOCK = 1 << 15
"""Cells per slice in the elementwise passes (256 KiB of doubles)."""


def finite(x: FloatArray) -> FloatArray:
    """Replace ±inf by NaN (in place when ``x`` is writable) and return it: one pass in C when it
    was built (cells sliced over threads), else numpy's ``isinf``."""
    native = _native.cells()
    if native is not None and x.dtype == np.float64 and x.flags.c_contiguous and x.flags.writeable:
        in_slices(lambda lo, hi: native.inf_to_nan(x, lo, hi), x.size, CELL_BLOCK)
        return x
    inf = np.isinf(x)
    if inf.any():
        x[inf] = np.nan
    return x


def pasteurize(raw: np.ndarray[Any, Any], mask: BoolArray) -> FloatArray:
    """``raw`` (a field, single or double precision) in double precision, NaN where ``mask`` is False:
    one pass in C when it was built (rows sliced over threads), else numpy's ``where``."""
    native = _native.mask()
    if (
        native is None
        or raw.ndim != 2
        or raw.shape != mask.shape
        or raw.dtype not in (np.float32, np.float64)
    ):
        return np.where(mask, raw, np.float64(np.nan))
    source = np.ascontiguousarray(raw)
    keep = np.ascontiguousarray(mask, dtype=bool)
    out = np.empty(raw.shape)
    in_slices(lambda lo, hi: native(source, keep, out, lo, hi), raw.shape[0], _ROW_BLOCK)
    return out


def _f(x: object) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


_COLUMN_BLOCK = 256
"""Instruments per slice for time-series kernels with many temporaries: they are made for a slice at
a time, so their memory is a twelfth of a full matrix's instead of a dozen matrices."""
_ROW_BLOCK = 128
"""Dates per slice for cross-sectional kernels with many temporaries (rows are independent)."""


def by_columns(
    fn: Callable[..., FloatArray], arrays: tuple[FloatArray, ...], *rest: object, width: int = _COLUMN_BLOCK
) -> FloatArray:
    """``fn(*arrays, *rest)`` computed ``width`` columns at a time. Only for kernels whose columns
    are independent (time series): each column is computed exactly as on the whole array. On one
    thread: these kernels make a dozen temporaries per slice, and slices on several threads at once
    would multiply the memory they were made to save."""
    t, n = arrays[0].shape
    if n <= width or any(a.shape != (t, n) for a in arrays):
        return fn(*arrays, *rest)
    out = np.empty((t, n))
    for j in range(0, n, width):
        out[:, j : j + width] = fn(*(a[:, j : j + width] for a in arrays), *rest)
    return out


def cumsum_rows(a: FloatArray) -> FloatArray:
    """``np.cumsum(a, axis=0)``, the same numbers, 3–5× as fast on a matrix 1000–3000 wide: numpy
    accumulates down each column with a stride of a whole row; adding row to row reads memory in
    order. Worth it from a few hundred columns on (each row costs one call)."""
    out = np.empty(a.shape)
    if a.shape[0] == 0:
        return out
    out[0] = a[0]
    for i in range(1, a.shape[0]):
        np.add(out[i - 1], a[i], out=out[i])
    return out


def by_rows(fn: Callable[..., FloatArray], x: FloatArray, *rest: object) -> FloatArray:
    """``fn(x, *rest)`` computed ``_ROW_BLOCK`` rows at a time (on ``threads()`` threads), for
    kernels whose rows are independent (cross-sectional); ``rest`` may hold groups, sliced alike."""
    t = x.shape[0]
    if t <= _ROW_BLOCK:
        return fn(x, *rest)
    out = np.empty(x.shape)

    def rows(lo: int, hi: int) -> None:
        for a in range(lo, hi, _ROW_BLOCK):
            b = min(a + _ROW_BLOCK, hi)
            part = [
                GroupValue(np.broadcast_to(r.codes, x.shape)[a:b], r.n_groups)
                if isinstance(r, GroupValue)
                else r
                for r in rest
            ]
            out[a:b] = fn(x[a:b], *part)

    in_slices(rows, t, _ROW_BLOCK)
    return out


# -- threads ----------------------------------------------------------------------------------------
# numpy's sorts and ufuncs and bottleneck's moving windows release the GIL, so the slices of one
# matrix can be computed by several threads at once. The backend sets how many: the CPUs up to 4
# (or $BRAIN_AGENT_SIM_THREADS) when it computes in-process, the CPUs divided by the number of
# workers in each worker process (the workers share the cores).

_threads = 1
_pool: ThreadPoolExecutor | None = None
_pool_pid = 0
_pool_size = 0
_pool_lock = threading.Lock()


def set_threads(n: int) -> None:
    """Let kernels use ``n`` threads (1: everything on the calling thread)."""
    global _threads
    _threads = max(1, int(n))


def _executor() -> ThreadPoolExecutor:
    """The process's helper threads, one fewer than ``set_threads`` allows (the calling thread takes
    a slice too); made again after a fork (a child has none of its parent's) or when more are allowed."""
    global _pool, _pool_pid, _pool_size
    want = max(1, _threads - 1)
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid() or _pool_size < want:
            # a smaller pool is dropped, not shut down: another thread may be submitting to it
            _pool = ThreadPoolExecutor(max_workers=want, thread_name_prefix="brain-agent-kernel")
            _pool_pid, _pool_size = os.getpid(), want
        return _pool


def slices(size: int, align: int, parts: int) -> list[tuple[int, int]]:
    """``[0, size)`` cut into at most ``parts`` contiguous slices whose starts are multiples of
    ``align``."""
    step = max(align, math.ceil(math.ceil(size / max(1, parts)) / align) * align)
    return [(a, min(a + step, size)) for a in range(0, size, step)]


def in_slices(fn: Callable[[int, int], object], size: int, align: int) -> None:
    """``fn(a, b)`` over slices covering ``[0, size)`` (starts aligned to ``align``), on
    ``threads()`` threads; each slice's work must touch only its own rows or columns of any output.
    The calling thread takes the first slice; a slice that slices again runs that on its own thread.
    Warnings are silenced for all slices at once (``quiet``). Errors are raised here, after every
    slice has ended."""
    inside = getattr(_slice, "inside", False)
    parts = (
        slices(size, align, _threads) if _threads > 1 and size >= 2 * align and not inside else [(0, size)]
    )
    if len(parts) == 1:
        fn(0, size)
        return
    with quiet():
        pool = _executor()
        futures: list[Future[object]] = [pool.submit(_in_slice, fn, a, b) for a, b in parts[1:]]
        try:
            _in_slice(fn, *parts[0])
        finally:
            errors = [f.exception() for f in futures]
    for error in errors:
        if error is not None:
            raise error


def _in_slice(fn: Callable[[int, int], object], a: int, b: int) -> None:
    _slice.inside = True
    try:
        fn(a, b)
    finally:
        _slice.inside = False
