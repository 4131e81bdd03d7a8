"""Elementwise arithmetic in one pass: ``add``, ``subtract``, ``multiply``, ``divide`` and ``reverse``
(negation) of full matrices, with ±inf made NaN as every elementwise operator does, and the largest
``|x|`` of a matrix. The C passes (``_ckernels.c``) are the same IEEE operations as numpy's, so the
same numbers bit for bit, in one pass over memory instead of three, with the cells sliced over the
kernel threads. Only which NaN comes out may differ (its sign bit, when both operands are NaN: the
compiler may swap the operands of ``+`` and ``*``, and numpy's own choice depends on its SIMD path);
NaN is NaN to every later step. Operands they do not take (other dtypes or shapes, non-contiguous
arrays, the C kernels not built) get ``None`` here, and the caller's numpy version runs."""

from __future__ import annotations

import numpy as np

from brain_agent.simulation.local.kernels import _native
from brain_agent.simulation.local.kernels._shared import CELL_BLOCK, in_slices
from brain_agent.simulation.local.types import FloatArray

_LARGEST_INT = 2**53
"""Integer operands beyond this are left to numpy (``float()`` would round or overflow)."""


def _plain(x: object, shape: tuple[int, ...]) -> bool:
    """An operand the C pass takes as numpy would: a float64 array of ``shape`` or a number that
    converts to double exactly (numpy promotes a long double or a huge integer differently)."""
    if isinstance(x, np.ndarray):
        return x.dtype == np.float64 and x.flags.c_contiguous and x.ndim > 0 and x.shape == shape
    if isinstance(x, bool | np.bool_):
        return False
    if isinstance(x, int | np.integer):
        return abs(int(x)) <= _LARGEST_INT
    return isinstance(x, float | np.float32 | np.float16)  # np.float64 is a float


def arithmetic(op: str, a: object, b: object = None) -> FloatArray | None:
    """``a op b`` (``op``: add, subtract, multiply, divide; or ``negate`` of ``a``) with ±inf made NaN,
    or None when the C pass does not take these operands: it needs at least one array, every array
    float64, C-contiguous and of one shape, and every other operand a plain number."""
    native = _native.cells()
    operands = (a,) if op == "negate" else (a, b)
    arrays = [x for x in operands if isinstance(x, np.ndarray)]
    if native is None or not arrays:
        return None
    shape = arrays[0].shape
    if not all(_plain(x, shape) for x in operands):
        return None
    left = a if isinstance(a, np.ndarray) else float(a)  # type: ignore[arg-type]
    right = b if isinstance(b, np.ndarray) else (0.0 if b is None else float(b))  # type: ignore[arg-type]
    out = np.empty(shape)
    in_slices(lambda lo, hi: native.arith(op, left, right, out, lo, hi), out.size, CELL_BLOCK)
    return out


def largest_abs(x: FloatArray) -> float:
    """The largest ``|x|``, NaN ignored (0.0 when every cell is NaN; inf when a cell is ±inf)."""
    native = _native.cells()
    if native is None or x.dtype != np.float64 or not x.flags.c_contiguous:
        flat = x.reshape(-1)  # no |x| temporary
        top = max(float(np.fmax.reduce(flat, initial=-np.inf)), -float(np.fmin.reduce(flat, initial=np.inf)))
        return max(top, 0.0)
    parts: dict[int, float] = {}

    def part(lo: int, hi: int) -> None:
        parts[lo] = native.largest_abs(x, lo, hi)

    in_slices(part, x.size, CELL_BLOCK)
    return max(parts.values(), default=0.0)
