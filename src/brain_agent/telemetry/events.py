"""Event names: the telemetry contract (spec §3.3). Every event row carries ``run_id``, ``ts``,
``name``, ``step``, ``idea_id``, ``lane`` and a JSON ``payload``; payload keys per event are listed in
``docs/events.md``. Names are stable: renaming one is a breaking change (CHANGELOG)."""

from __future__ import annotations

from typing import Final

# run boundary (agents/pipeline.py)
METADATA_SYNC: Final = "metadata_sync"
CYCLE_COMPLETED: Final = "cycle_completed"
RUN_INTERRUPTED: Final = "run.interrupted"

# chain steps
IDEA_REFINED: Final = "idea.refined"
RETRIEVAL_PACK_BUILT: Final = "retrieval.pack_built"
CANDIDATE_CREATED: Final = "candidate.created"
CANDIDATE_NEEDS_REPAIR: Final = "candidate.needs_repair"

# budget (spec names)
BUDGET_CHECK_PASSED: Final = "budget.check_passed"
BUDGET_CHECK_FAILED: Final = "budget.check_failed"
BUDGET_FALLBACK_APPLIED: Final = "budget.fallback_applied"
BUDGET_EXPLORE_FLOOR_PRESERVED: Final = "budget.explore_floor_preserved"
BUDGET_BLOCKED: Final = "budget.blocked"
# budget (ours)
BUDGET_RESERVED: Final = "budget.reserved"
BUDGET_SETTLED: Final = "budget.settled"
BUDGET_RELEASED: Final = "budget.released"
BUDGET_DEFERRED: Final = "budget.deferred"
BUDGET_EXPANSION_APPLIED: Final = "budget.expansion_applied"
BUDGET_OVERRUN: Final = "budget.overrun"
BUDGET_CALIBRATED: Final = "budget.calibrated"
BUDGET_THRESHOLD_CROSSED: Final = "budget.threshold_crossed"

# LLM calls
LLM_CALL: Final = "llm.call"
LLM_CACHE_HIT: Final = "llm.cache_hit"
LLM_SINGLE_FLIGHT_WAIT: Final = "llm.single_flight_wait"

# KPIs
KPI_BATCH: Final = "kpi.batch"

# simulation (simulation/runner.py)
SIMULATION_SUBMITTED: Final = "simulation.submitted"
SIMULATION_PROGRESS: Final = "simulation.progress"
SIMULATION_COMPLETED: Final = "simulation.completed"
SIMULATION_FAILED: Final = "simulation.failed"

# A protection is an action the budget took: a fallback step, a block, an explore-floor save.
# (``budget.check_failed`` alone is a finding, not an action: a fallback or a block always follows.)
PROTECTION_EVENTS: Final = frozenset(
    {BUDGET_FALLBACK_APPLIED, BUDGET_BLOCKED, BUDGET_EXPLORE_FLOOR_PRESERVED}
)
