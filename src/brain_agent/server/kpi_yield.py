"""The run's yield for ``GET /api/runs/{run_id}/kpi``: tokens and cost per valid candidate and per
passing alpha (by lane) and the best alpha, computed by ``telemetry.alpha_yield`` and nowhere else.

Which figures, when:

- **a finished run** whose ``cycle_completed`` carries ``yield``: exactly that payload (``source``
  ``cycle_completed``). It is the figure ``run-batch`` printed in its closing table; the runs row's
  ``summary`` is written by the same call with the same dict (``Pipeline.finish_run``), so it is read
  from there rather than by scanning the events;
- **a run still in progress** (or a finished one without a ``yield`` in its summary: an interrupted
  or an older run): ``compute_yield`` over the store's candidates, their chosen simulations
  (``run_queries.chosen_simulations``) and the run's LLM spend per lane (``source`` ``store``), the
  same inputs ``brain-agent runs show`` uses;
- **a past moment** (``?at=``): the closing figures once the run had finished by then, else ``null``
  (the store keeps candidates and simulations as they are now, not as they were).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from brain_agent.server import schemas
from brain_agent.storage import Store
from brain_agent.storage.run_queries import run_yield

CLOSING = "cycle_completed"
STORE = "store"


def closing_yield(summary: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The ``yield`` of a finished run's ``cycle_completed`` payload with ``source`` added, or ``None``
    when the summary has none (or one this server cannot read: it is then computed afresh)."""
    raw = summary.get("yield") if isinstance(summary, Mapping) else None
    if not isinstance(raw, Mapping):
        return None
    doc = {**raw, "source": CLOSING}
    try:
        schemas.YieldView.model_validate(doc)
    except ValidationError:
        return None
    return doc


def store_yield(store: Store, run_id: str) -> dict[str, Any]:
    """``compute_yield`` over the run as the store holds it now (blocking: call it in a thread)."""
    return {**run_yield(store, run_id)[2].to_dict(), "source": STORE}
