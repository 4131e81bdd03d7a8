"""The value types of the local simulator: arrays, groups and vectors over (dates, instruments).

Kept apart from ``panel`` so the kernels can use them without importing the panel (which uses the
kernels): no import cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
Kind = Literal["MATRIX", "GROUP", "VECTOR"]


@dataclass(frozen=True)
class GroupValue:
    """Group codes per cell (``-1`` = no group) and how many codes there can be."""

    codes: IntArray
    n_groups: int


@dataclass(frozen=True)
class VectorValue:
    """A VECTOR field: ``(T, N, K)`` values; NaN marks an absent value."""

    data: FloatArray


StoredArray = NDArray[np.float32]
"""A MATRIX field kept in single precision (a market's data); computations read it as double."""
FieldValue = FloatArray | StoredArray | GroupValue | VectorValue
FieldSource = Callable[[str], FieldValue | None]
