"""Number options: every float option of the CLI is parsed here, so ``inf``, ``nan`` and values past a
limit are refused alike (exit 2, naming the option, the limit and the value).

Click's own ``min``/``max`` let ``inf`` through where there is no upper bound (``--pace inf`` slept
until an ``OverflowError``) and say "less than or equal to 3600" for ``nan``; a parser from
:func:`bounded` says what the option takes instead::

    Invalid value for '--latency': inf is not allowed: give a finite number of seconds from 0 to 3600
"""

from __future__ import annotations

import math
from collections.abc import Callable

import typer

from brain_agent.errors import shorten


def _fmt(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"


def describe(low: float, high: float | None, unit: str) -> str:
    """What the option takes, e.g. ``a finite number of seconds from 0 to 3600``."""
    what = f"a finite number of {unit}" if unit else "a finite number"
    if high is None:
        return f"{what}, at least {_fmt(low)}"
    return f"{what} from {_fmt(low)} to {_fmt(high)}"


def bounded(low: float, high: float | None = None, unit: str = "") -> Callable[[str | float], float]:
    """A Typer ``parser`` accepting finite numbers in ``[low, high]`` (no upper limit when ``high`` is
    ``None``); anything else is a ``BadParameter`` that Click prefixes with the option's name."""
    span = describe(low, high, unit)

    def parse(raw: str | float) -> float:
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise typer.BadParameter(f"{shorten(raw)} is not a number: give {span}") from None
        if not math.isfinite(value) or value < low or (high is not None and value > high):
            raise typer.BadParameter(f"{shorten(raw)} is not allowed: give {span}")
        return value

    return parse
