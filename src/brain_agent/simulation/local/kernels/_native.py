"""The C kernels (``_ckernels.c``: the row rank, the book pass, moving sums, means, deviations and ranks, the
linear decay, fields pasteurized, elementwise arithmetic), loaded with ctypes when the install built them.

The extension is optional: without a C compiler at install time, or with ``BRAIN_AGENT_SIM_NATIVE=0``,
``rank()``, ``book()``, ``move()``, ``decay()``, ``mask()`` and ``cells()`` are None and the numpy and
bottleneck versions run (the book's numbers to 1e-12 relative, all others' bit for bit, tested, the
arithmetic's up to which NaN it gives; about 2× the CPU on a batch). ctypes releases the GIL for each
call, so slices of rows or columns run on several threads at once."""

from __future__ import annotations

import ctypes
import os
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from types import MappingProxyType
from typing import Final

import numpy as np
from numpy.typing import NDArray

from brain_agent.simulation.local.types import BoolArray, FloatArray

ENV = "BRAIN_AGENT_SIM_NATIVE"
NEUTRAL = {"none": 0, "market": 1, "group": 2}


def _switched_off() -> bool:
    return os.environ.get(ENV, "1").strip().lower() in {"0", "false", "no", "off"}


def _built() -> Path | None:
    here = Path(__file__).parent
    for suffix in EXTENSION_SUFFIXES:
        path = here / f"_ckernels{suffix}"
        if path.is_file():
            return path
    return None


def _library() -> ctypes.CDLL | None:
    path = _built()
    if _switched_off() or path is None:
        return None
    try:
        return ctypes.CDLL(str(path))
    except OSError:  # built for another platform or interpreter: the numpy versions serve
        return None


def _pointer(a: np.ndarray | None) -> int | None:
    return None if a is None else int(a.ctypes.data)


class NativeRank:
    """``rank_rows`` of ``_ckernels.c``."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        self.fn = lib.rank_rows
        self.fn.restype = ctypes.c_int
        size = ctypes.c_int64
        # x, out, n (columns), lo, hi (rows), scaled
        self.fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, size, size, size, ctypes.c_int]

    def __call__(self, x: FloatArray, out: FloatArray, lo: int, hi: int, scaled: bool) -> None:
        """Rows ``lo:hi`` of C-contiguous float64 ``x`` ranked into ``out`` (same shape)."""
        assert x.flags.c_contiguous and out.flags.c_contiguous and x.dtype == out.dtype == np.float64
        assert x.shape == out.shape and x.ndim == 2 and 0 <= lo <= hi <= x.shape[0]
        if self.fn(x.ctypes.data, out.ctypes.data, x.shape[1], lo, hi, int(scaled)) != 0:
            raise MemoryError(f"rank: no memory for the buffers of a row of {x.shape[1]} values")


class BookRows:
    """``book_rows`` of ``_ckernels.c``: per-date sums of one book over rows ``lo:hi``."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        self.fn = lib.book_rows
        self.fn.restype = ctypes.c_int
        p, size, real = ctypes.c_void_p, ctypes.c_int64, ctypes.c_double
        self.fn.argtypes = [
            *(p, p, p, ctypes.c_int),  # alpha, universe, within, neutralization
            *(p, size, size, real),  # codes, codes' row stride, groups, truncation
            *(p, p, size, size, size, ctypes.c_int),  # returns (float32, float64), n, lo, hi, pnl_only
            *(p, p, p, p, p, p),  # pnl, gross, traded, longs, shorts, top
        ]

    def __call__(
        self,
        alpha: FloatArray,
        universe: BoolArray | None,
        within: BoolArray | None,
        neutral: str,
        codes: NDArray[np.int32] | None,
        n_groups: int,
        truncation: float,
        returns: FloatArray | NDArray[np.float32],
        lo: int,
        hi: int,
        pnl_only: bool,
        out: tuple[FloatArray, ...],
    ) -> None:
        t, n = alpha.shape
        assert alpha.flags.c_contiguous and alpha.dtype == np.float64 and 0 <= lo <= hi <= t
        for mask in (universe, within):
            assert mask is None or (mask.shape == alpha.shape and mask.flags.c_contiguous)
            assert mask is None or mask.dtype == bool
        assert returns.shape == alpha.shape and returns.flags.c_contiguous
        assert returns.dtype in (np.float32, np.float64)
        stride = 0
        if neutral == "group":
            assert codes is not None and codes.dtype == np.int32 and codes.flags.c_contiguous
            assert codes.shape in ((n,), (t, n)) and int(codes.max(initial=-1)) < n_groups
            stride = n if codes.ndim == 2 else 0
        assert len(out) == 6 and all(o.shape == (t,) and o.dtype == np.float64 for o in out)
        single = returns.dtype == np.float32
        status = self.fn(
            alpha.ctypes.data,
            _pointer(universe),
            _pointer(within),
            NEUTRAL[neutral],
            _pointer(codes) if neutral == "group" else None,
            stride,
            n_groups,
            truncation,
            returns.ctypes.data if single else None,
            None if single else returns.ctypes.data,
            n,
            lo,
            hi,
            int(pnl_only),
            *(o.ctypes.data for o in out),
        )
        if status != 0:
            raise MemoryError(f"book: no memory for the buffers of a row of {n} values")


class MoveRows:
    """``move_rows`` of ``_ckernels.c``: bottleneck's ``move_sum`` / ``move_mean`` / ``move_std`` /
    ``move_rank`` (same numbers, bit for bit) down the dates of a row-major matrix's columns
    ``lo:hi``."""

    KINDS: Final = MappingProxyType({"move_sum": 0, "move_mean": 1, "move_std": 2, "move_rank": 3})

    def __init__(self, lib: ctypes.CDLL) -> None:
        self.fn = lib.move_rows
        self.fn.restype = ctypes.c_int
        size = ctypes.c_int64
        # kind, x, out, t, n, window, min_count, lo, hi (columns)
        self.fn.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, *(size,) * 6]

    def __call__(
        self, name: str, x: FloatArray, out: FloatArray, window: int, min_count: int, lo: int, hi: int
    ) -> None:
        """Columns ``lo:hi`` of C-contiguous float64 ``x`` (dates × instruments) into ``out``."""
        assert x.flags.c_contiguous and out.flags.c_contiguous and x.dtype == out.dtype == np.float64
        assert x.shape == out.shape and x.ndim == 2 and 0 <= lo <= hi <= x.shape[1]
        assert 1 <= min_count <= window
        t, n = x.shape
        if self.fn(self.KINDS[name], x.ctypes.data, out.ctypes.data, t, n, window, min_count, lo, hi) != 0:
            raise MemoryError(f"{name}: no memory for the state of its columns")


class DecayRows:
    """``decay_rows`` of ``_ckernels.c``: the linear decay (``decay_linear``'s numbers, bit for bit)
    down the dates of a row-major matrix's columns ``lo:hi``."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        self.fn = lib.decay_rows
        self.fn.restype = ctypes.c_int
        # x, out, t, n, d, min_rows, lo, hi (columns)
        self.fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, *(ctypes.c_int64,) * 6]

    def __call__(self, x: FloatArray, out: FloatArray, d: int, min_rows: int, lo: int, hi: int) -> None:
        assert x.flags.c_contiguous and out.flags.c_contiguous and x.dtype == out.dtype == np.float64
        assert x.shape == out.shape and x.ndim == 2 and 0 <= lo <= hi <= x.shape[1] and d >= 1
        t, n = x.shape
        if self.fn(x.ctypes.data, out.ctypes.data, t, n, d, min_rows, lo, hi) != 0:
            raise MemoryError(f"decay_linear: no memory for the running sums of {d + 1} dates")


class MaskRows:
    """``mask_rows`` of ``_ckernels.c``: a field in double precision, NaN outside a mask."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        self.fn = lib.mask_rows
        self.fn.restype = None
        p, size = ctypes.c_void_p, ctypes.c_int64
        self.fn.argtypes = [p, p, p, p, size, size, size]  # f32, f64, mask, out, n, lo, hi (rows)

    def __call__(
        self, raw: FloatArray | NDArray[np.float32], mask: BoolArray, out: FloatArray, lo: int, hi: int
    ) -> None:
        """Rows ``lo:hi`` of ``raw`` (C-contiguous, single or double) into ``out`` where ``mask``."""
        assert raw.shape == mask.shape == out.shape and raw.ndim == 2 and 0 <= lo <= hi <= raw.shape[0]
        assert raw.flags.c_contiguous and mask.flags.c_contiguous and out.flags.c_contiguous
        assert raw.dtype in (np.float32, np.float64) and mask.dtype == bool and out.dtype == np.float64
        single = raw.dtype == np.float32
        data = raw.ctypes.data
        self.fn(
            data if single else None,
            None if single else data,
            mask.ctypes.data,
            out.ctypes.data,
            raw.shape[1],
            lo,
            hi,
        )


class Cells:
    """The elementwise passes of ``_ckernels.c`` over cells ``lo:hi`` of C-contiguous float64 arrays
    (any shape, read flat): arithmetic with inf made NaN (``arith_cells``), inf made NaN in place
    (``inf_to_nan``) and the largest ``|x|`` (``largest_abs``)."""

    OPS: Final = MappingProxyType({"add": 0, "subtract": 1, "multiply": 2, "divide": 3, "negate": 4})

    def __init__(self, lib: ctypes.CDLL) -> None:
        p, size, real = ctypes.c_void_p, ctypes.c_int64, ctypes.c_double
        self._arith = lib.arith_cells
        self._arith.restype = None
        # op, a, a0, b, b0, out, lo, hi
        self._arith.argtypes = [ctypes.c_int, p, real, p, real, p, size, size]
        self._fix = lib.inf_to_nan
        self._fix.restype = None
        self._fix.argtypes = [p, size, size]
        self._largest = lib.largest_abs
        self._largest.restype = real
        self._largest.argtypes = [p, size, size]

    @staticmethod
    def _flat(x: FloatArray) -> None:
        assert x.flags.c_contiguous and x.dtype == np.float64

    def arith(
        self, op: str, a: FloatArray | float, b: FloatArray | float, out: FloatArray, lo: int, hi: int
    ) -> None:
        """``out[lo:hi] = a op b`` read flat (an array operand has ``out``'s shape; a number is
        broadcast; ``negate`` reads ``a`` only), ±inf made NaN."""
        self._flat(out)
        assert 0 <= lo <= hi <= out.size
        arrays = [x for x in (a, b) if isinstance(x, np.ndarray)]
        assert arrays and all(x.shape == out.shape for x in arrays)
        for x in arrays:
            self._flat(x)
        a_ptr, a0 = (a.ctypes.data, 0.0) if isinstance(a, np.ndarray) else (None, float(a))
        b_ptr, b0 = (b.ctypes.data, 0.0) if isinstance(b, np.ndarray) else (None, float(b))
        assert op != "negate" or a_ptr is not None
        self._arith(self.OPS[op], a_ptr, a0, b_ptr, b0, out.ctypes.data, lo, hi)

    def inf_to_nan(self, x: FloatArray, lo: int, hi: int) -> None:
        self._flat(x)
        assert x.flags.writeable and 0 <= lo <= hi <= x.size
        self._fix(x.ctypes.data, lo, hi)

    def largest_abs(self, x: FloatArray, lo: int, hi: int) -> float:
        self._flat(x)
        assert 0 <= lo <= hi <= x.size
        return float(self._largest(x.ctypes.data, lo, hi))


_lib = _library()
native_rank: NativeRank | None = None if _lib is None else NativeRank(_lib)
"""The C rank, or None when it was not built (or is switched off)."""
native_book: BookRows | None = None if _lib is None else BookRows(_lib)
"""The C book pass, or None when it was not built (or is switched off)."""
native_move: MoveRows | None = None if _lib is None else MoveRows(_lib)
"""The C moving sums, means, deviations and ranks, or None when they were not built (or are switched off)."""
native_decay: DecayRows | None = None if _lib is None else DecayRows(_lib)
"""The C linear decay, or None when it was not built (or is switched off)."""
native_mask: MaskRows | None = None if _lib is None else MaskRows(_lib)
"""The C field pasteurization, or None when it was not built (or is switched off)."""
native_cells: Cells | None = None if _lib is None else Cells(_lib)
"""The C elementwise passes, or None when they were not built (or are switched off)."""
_on = True


def use_native(on: bool) -> bool:
    """Use the C kernels (when built) or numpy's; returns the previous choice. Benchmarks switch to
    compare both in one run."""
    global _on
    before, _on = _on, on
    return before


def rank() -> NativeRank | None:
    return native_rank if _on else None


def book() -> BookRows | None:
    return native_book if _on else None


def move() -> MoveRows | None:
    return native_move if _on else None


def decay() -> DecayRows | None:
    return native_decay if _on else None


def mask() -> MaskRows | None:
    return native_mask if _on else None


def cells() -> Cells | None:
    return native_cells if _on else None


def describe() -> str:
    """Which kernels the local simulator runs, and why (``brain-agent version --verbose``)."""
    if native_rank is not None:
        return f"C (rank, book pass, moving sum/mean/std/rank, decay, fields, arithmetic) from {_built()}"
    if _switched_off():
        return f"numpy (C switched off by {ENV})"
    if _built() is not None:
        return "numpy (the C library is there but did not load)"
    return "numpy (the C kernels were not built at install: no C compiler?)"
