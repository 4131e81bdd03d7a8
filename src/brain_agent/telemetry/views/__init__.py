"""Dashboard views derived from events: one :class:`RunView` reducer per run.

``RunView.apply(event)`` folds one event (in id order) into bounded state; ``RunView.snapshot(now)``
turns that state into the dict documented in ``docs/reactor-contract.md`` (HUD format ``reactor``,
chart format ``series`` / ``gauges`` / ``flags``). Definitions of every figure: ``docs/api.md``.

The package is split by concern; each part owns its state and :class:`RunView` composes them:

- ``budget``: rings and pressure, velocity, the exhaustion forecast, protections;
- ``series``: the chart's time buckets;
- ``radar``: ideas in flight, sectors unique in view, the feed;
- ``calls``: LLM call totals, the cost pulse and the injections;
- ``candidates``: candidate counts and KPIs (coverage, novelty);
- ``simulations``: records, pass / fail / error, latency, the best result;
- ``reducer``: :class:`RunView`, which routes events to the parts and composes their views.

State is bounded by what is in flight, not by the run's length, so a checkpoint
(``telemetry/checkpoint.py``) of a long run stays small.
"""

from brain_agent.telemetry.views.common import (
    FINISHED,
    MAX_SIMULATIONS,
    PROTECTION_WINDOW_S,
    SECTORS,
    SERIES_MAX_POINTS,
    VELOCITY_WINDOW_S,
    Extra,
    Format,
)
from brain_agent.telemetry.views.radar import sector_for, subcategory_name
from brain_agent.telemetry.views.reducer import RunView

__all__ = [
    "FINISHED",
    "MAX_SIMULATIONS",
    "PROTECTION_WINDOW_S",
    "SECTORS",
    "SERIES_MAX_POINTS",
    "VELOCITY_WINDOW_S",
    "Extra",
    "Format",
    "RunView",
    "sector_for",
    "subcategory_name",
]
