"""VECTOR field reductions (``vec_*``)."""

from __future__ import annotations

import bottleneck as bn
import numpy as np

from brain_agent.simulation.local.kernels._shared import ArgumentError, _f, quiet
from brain_agent.simulation.local.types import FloatArray


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
