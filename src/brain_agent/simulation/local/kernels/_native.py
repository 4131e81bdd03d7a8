"""The C row rank (``_rank.c``), loaded with ctypes when the install built it.

The extension is optional: without a C compiler at install time, or with
``BRAIN_AGENT_SIM_NATIVE=0``, ``native_rank`` is None and ``cross_section`` ranks with numpy (the
same numbers, about half the speed). ctypes releases the GIL for the call, so the row slices of one
matrix rank on several threads at once.
"""

from __future__ import annotations

import ctypes
import os
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from typing import Protocol

import numpy as np

from brain_agent.simulation.local.types import FloatArray

ENV = "BRAIN_AGENT_SIM_NATIVE"


class NativeRank(Protocol):
    def __call__(self, x: FloatArray, out: FloatArray, lo: int, hi: int, scaled: bool) -> None: ...


def _library() -> ctypes.CDLL | None:
    if os.environ.get(ENV, "1").strip().lower() in {"0", "false", "no", "off"}:
        return None
    here = Path(__file__).parent
    for suffix in EXTENSION_SUFFIXES:
        path = here / f"_rank{suffix}"
        if path.is_file():
            try:
                return ctypes.CDLL(str(path))
            except OSError:  # built for another platform or interpreter: the numpy version serves
                return None
    return None


def _load() -> NativeRank | None:
    lib = _library()
    if lib is None:
        return None
    fn = lib.rank_rows
    fn.restype = ctypes.c_int
    size = ctypes.c_int64
    # x, out, n (columns), lo, hi (rows), scaled
    fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, size, size, size, ctypes.c_int]

    def rank_rows(x: FloatArray, out: FloatArray, lo: int, hi: int, scaled: bool) -> None:
        """Rows ``lo:hi`` of C-contiguous float64 ``x`` ranked into ``out`` (same shape)."""
        assert x.flags.c_contiguous and out.flags.c_contiguous and x.dtype == out.dtype == np.float64
        assert x.shape == out.shape and x.ndim == 2 and 0 <= lo <= hi <= x.shape[0]
        if fn(x.ctypes.data, out.ctypes.data, x.shape[1], lo, hi, int(scaled)) != 0:
            raise MemoryError(f"rank: no memory for the buffers of a row of {x.shape[1]} values")

    return rank_rows


native_rank: NativeRank | None = _load()
"""The C rank, or None when it was not built (or is switched off)."""
