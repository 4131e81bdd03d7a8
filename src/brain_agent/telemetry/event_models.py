"""Typed events: one pydantic model per event name (payload and version), and the registry that the
one write path (``Store.append_event``, either backend) checks every event against.

**Adding an event** (the one place): add a name to ``telemetry/events.py``, then a class here::

    @event_model
    class BudgetOverrun(EventPayload):
        name: ClassVar[str] = ev.BUDGET_OVERRUN
        version: ClassVar[int] = 1
        reservation_id: str | None = None
        overrun_tokens: int | None = None

then regenerate the published schema and the HUD's types::

    python -m brain_agent.telemetry.event_models docs/event-schema.json
    cd web && npm run gen:events

Rules the check enforces (loudly: it raises, so a test that emits the event fails):

- a name in a product namespace (``budget.``, ``llm.``, ``simulation.``, ``run.`` …, or the bare
  ``metadata_sync`` / ``cycle_completed``) must have a model here (:class:`UnknownEventError`);
- a payload must validate against its model (:class:`EventPayloadError`). Models type the keys
  ``docs/events.md`` lists and allow extra keys, so adding a key is not a breaking change; changing a
  key's type is (bump ``version``).

``BRAIN_AGENT_EVENT_CHECK=warn`` logs instead of raising (an escape hatch for a production run that
must not stop over telemetry); ``off`` skips the check.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.json_schema import models_json_schema

from brain_agent.errors import InputError
from brain_agent.telemetry import events as ev

log = logging.getLogger("brain_agent.telemetry")

NAMESPACES = ("budget.", "llm.", "simulation.", "candidate.", "retrieval.", "idea.", "kpi.", "run.", "alpha.")
BARE_NAMES = frozenset({ev.METADATA_SYNC, ev.CYCLE_COMPLETED})
CHECK_ENV = "BRAIN_AGENT_EVENT_CHECK"

Money = Decimal  # a decimal string on the wire ("0.0031"); numbers are accepted
Lane = Literal["exploit", "explore"]


class UnknownEventError(InputError):
    """An event name in a product namespace without a model in telemetry/event_models.py."""


class EventPayloadError(InputError):
    """A payload that does not match its event's model."""


class EventPayload(BaseModel):
    """Base of every payload model. ``name`` and ``version`` are class-level, not payload keys."""

    model_config = ConfigDict(extra="allow", frozen=True)
    name: ClassVar[str]
    version: ClassVar[int] = 1

    def payload(self) -> dict[str, Any]:
        """The JSON payload as stored (keys left unset are not written)."""
        out: dict[str, Any] = self.model_dump(mode="json", exclude_unset=True)
        return out


MODELS: dict[str, type[EventPayload]] = {}
_M = TypeVar("_M", bound=type[EventPayload])


def event_model(cls: _M) -> _M:
    """Register a payload model under its ``name`` (the decorator for new events)."""
    name = cls.__dict__.get("name")
    if not isinstance(name, str) or not name:
        raise TypeError(f"{cls.__name__}: set `name: ClassVar[str] = ...` to the event name")
    if name in MODELS and MODELS[name] is not cls:
        raise TypeError(f"event {name!r} already has a model ({MODELS[name].__name__})")
    MODELS[name] = cls
    return cls


def is_product_name(name: str) -> bool:
    return name in BARE_NAMES or name.startswith(NAMESPACES)


def check_event(name: str, payload: Any) -> None:
    """Validate one event about to be stored; raise (or log, see ``BRAIN_AGENT_EVENT_CHECK``)."""
    mode = os.environ.get(CHECK_ENV, "raise")
    if mode == "off":
        return
    model = MODELS.get(name)
    problem: InputError | None = None
    if model is None:
        if is_product_name(name):
            problem = UnknownEventError(
                f"event {name!r} has no payload model: add one in src/brain_agent/telemetry/event_models.py "
                "(@event_model class ...(EventPayload)), then regenerate docs/event-schema.json"
            )
    else:
        try:
            model.model_validate(payload if payload is not None else {})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "payload"
            problem = EventPayloadError(
                f"event {name!r} payload key {where!r}: {first['msg']} (got {first.get('input')!r}; "
                f"model {model.__name__} v{model.version} in telemetry/event_models.py)"
            )
    if problem is None:
        return
    if mode == "warn":
        log.warning("%s", problem)
        return
    raise problem


# -- run boundary ---------------------------------------------------------------------------------
@event_model
class MetadataSync(EventPayload):
    """A run starts: the knowledge pack, the budget (limits per scope, lane ratios, baseline), the model."""

    name: ClassVar[str] = ev.METADATA_SYNC
    knowledge_pack: dict[str, Any] | None = None
    budget: dict[str, Any] | None = None
    provider: str | None = None
    model: str | None = None
    batch_size: int | None = None


@event_model
class CycleCompleted(EventPayload):
    """A run ends (``status``: completed / failed / interrupted) with its summary counts."""

    name: ClassVar[str] = ev.CYCLE_COMPLETED
    status: str | None = None
    ideas: int | None = None
    candidates: int | None = None
    valid: int | None = None
    deferred: int | None = None
    blocked: int | None = None
    cache_hits: int | None = None
    tokens: dict[str, Any] | None = None
    cost: Money | None = None
    fallbacks: int | None = None
    coverage: int | float | None = None
    novelty: float | None = None
    duration_s: float | None = None


# -- chain steps ----------------------------------------------------------------------------------
@event_model
class IdeaRefined(EventPayload):
    name: ClassVar[str] = ev.IDEA_REFINED
    title: str | None = None
    subcategories: list[str] | None = None


@event_model
class RetrievalPackBuilt(EventPayload):
    name: ClassVar[str] = ev.RETRIEVAL_PACK_BUILT
    topk: dict[str, Any] | None = None
    subcategories: list[str] | None = None
    subcategory_names: dict[str, str] | None = None


@event_model
class CandidateCreated(EventPayload):
    name: ClassVar[str] = ev.CANDIDATE_CREATED
    candidate_id: str | None = None
    expression: str | None = None
    valid: bool | None = None
    error_code: str | None = None
    fields: list[str] | None = None
    operators: list[str] | None = None
    subcategories: list[str] | None = None
    topk: Any = None


@event_model
class CandidateNeedsRepair(EventPayload):
    name: ClassVar[str] = ev.CANDIDATE_NEEDS_REPAIR
    candidate_id: str | None = None
    error_code: str | None = None
    attempts: int | None = None


# -- budget ---------------------------------------------------------------------------------------
class _Check(EventPayload):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    topk: Any = None
    lane_ratio: dict[str, float] | None = None
    over_budget: bool | None = None
    fallback_count: int | None = None


@event_model
class BudgetCheckPassed(_Check):
    name: ClassVar[str] = ev.BUDGET_CHECK_PASSED


@event_model
class BudgetCheckFailed(_Check):
    """A finding, not an action: a fallback or a block always follows."""

    name: ClassVar[str] = ev.BUDGET_CHECK_FAILED
    scope: str | None = None
    limit: float | None = None
    observed: float | None = None
    failure_code: str | None = None


@event_model
class BudgetFallbackApplied(EventPayload):
    name: ClassVar[str] = ev.BUDGET_FALLBACK_APPLIED
    stage: str | None = None
    from_k: int | None = None
    to_k: int | None = None
    tokens_before: int | None = None
    tokens_after: int | None = None
    fallback_count: int | None = None


@event_model
class BudgetExploreFloorPreserved(EventPayload):
    name: ClassVar[str] = ev.BUDGET_EXPLORE_FLOOR_PRESERVED
    explore_count: int | None = None
    min_explore: int | None = None
    deferred_idea_id: str | None = None
    protected_idea_id: str | None = None


@event_model
class BudgetBlocked(EventPayload):
    name: ClassVar[str] = ev.BUDGET_BLOCKED
    failure_code: str | None = None
    scope: str | None = None
    limit: float | None = None
    observed: float | None = None
    action: str | None = None
    fallback_count: int | None = None


@event_model
class BudgetReserved(EventPayload):
    name: ClassVar[str] = ev.BUDGET_RESERVED
    reservation_id: str | None = None
    tokens: int | None = None
    cost: Money | None = None
    scopes: list[str] | None = None


@event_model
class BudgetSettled(EventPayload):
    name: ClassVar[str] = ev.BUDGET_SETTLED
    reservation_id: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    cost: Money | None = None
    reserved_tokens: int | None = None
    overrun_tokens: int | None = None


@event_model
class BudgetReleased(EventPayload):
    name: ClassVar[str] = ev.BUDGET_RELEASED
    reservation_id: str | None = None
    reason: str | None = None


@event_model
class BudgetDeferred(EventPayload):
    name: ClassVar[str] = ev.BUDGET_DEFERRED
    reason: str | None = None
    failure_code: str | None = None


@event_model
class BudgetExpansionApplied(EventPayload):
    name: ClassVar[str] = ev.BUDGET_EXPANSION_APPLIED
    error_code: str | None = None
    stage: str | None = None
    from_k: int | None = None
    to_k: int | None = None
    tokens: int | None = None
    reserve_left: int | float | None = None


@event_model
class BudgetOverrun(EventPayload):
    """A call billed more than its reservation (already in "spent"; the biller is then recalibrated)."""

    name: ClassVar[str] = ev.BUDGET_OVERRUN
    reservation_id: str | None = None
    biller: str | None = None
    reserved_tokens: int | None = None
    billed_tokens: int | None = None
    overrun_tokens: int | None = None


@event_model
class BudgetCalibrated(EventPayload):
    """A biller's billed/counted prompt ratio changed (first call, or by more than 1 %)."""

    name: ClassVar[str] = ev.BUDGET_CALIBRATED
    biller: str | None = None
    factor: float | None = None
    samples: int | None = None


@event_model
class BudgetThresholdCrossed(EventPayload):
    """A cumulative scope (day, week, money) reached an ``alert_thresholds`` share of its cap; once
    per window and threshold across every process sharing the store."""

    name: ClassVar[str] = ev.BUDGET_THRESHOLD_CROSSED
    scope: str
    scope_key: str
    unit: str
    threshold: float
    share: float
    spent: int | str
    limit: int | str
    window_end: str | None = None


@event_model
class RunInterrupted(EventPayload):
    """A run whose process died was marked ``interrupted`` by another process."""

    name: ClassVar[str] = ev.RUN_INTERRUPTED
    holder: str | None = None
    reason: str | None = None
    detected_by: str | None = None


# -- LLM ------------------------------------------------------------------------------------------
@event_model
class LlmSingleFlightWait(EventPayload):
    """An identical request was in flight elsewhere: this caller waits for its answer (a cache hit)."""

    name: ClassVar[str] = ev.LLM_SINGLE_FLIGHT_WAIT
    key: str | None = None


@event_model
class LlmCall(EventPayload):
    name: ClassVar[str] = ev.LLM_CALL
    provider: str | None = None
    model: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_input: int | None = None
    reasoning: int | None = None
    latency_ms: float | None = None
    cost: Money | None = None
    cache_hit: bool | None = None


@event_model
class LlmCacheHit(EventPayload):
    name: ClassVar[str] = ev.LLM_CACHE_HIT
    tokens_saved: int | None = None
    key: str | None = None


# -- KPIs -----------------------------------------------------------------------------------------
@event_model
class KpiBatch(EventPayload):
    name: ClassVar[str] = ev.KPI_BATCH
    batch_id: str | None = None
    coverage: int | None = None
    coverage_share: float | None = None
    novelty: float | None = None
    structural_novelty: float | None = None
    candidates: int | None = None
    valid: int | None = None
    mean_largest_shared_subtree: float | None = None


# -- simulation -----------------------------------------------------------------------------------
@event_model
class SimulationSubmitted(EventPayload):
    name: ClassVar[str] = ev.SIMULATION_SUBMITTED
    candidate_id: str | None = None
    backend: str | None = None
    expression: str | None = None
    simulation_id: int | str | None = None


@event_model
class SimulationProgress(EventPayload):
    name: ClassVar[str] = ev.SIMULATION_PROGRESS
    candidate_id: str | None = None
    progress: float | None = None


class _Timing(EventPayload):
    queue_s: float | None = None
    run_s: float | None = None
    total_s: float | None = None


@event_model
class SimulationCompleted(_Timing):
    name: ClassVar[str] = ev.SIMULATION_COMPLETED
    candidate_id: str | None = None
    alpha_id: str | None = None
    sharpe: float | None = None
    fitness: float | None = None
    turnover: float | None = None
    returns: float | None = None
    passed: bool | None = None


@event_model
class SimulationFailed(_Timing):
    name: ClassVar[str] = ev.SIMULATION_FAILED
    candidate_id: str | None = None
    error_code: str | None = None
    message: str | None = None
    location: Any = None


# -- the published schema -------------------------------------------------------------------------
def schema_document() -> dict[str, Any]:
    """An OpenAPI 3.1 document with no paths: one schema per payload model, ``EventName`` and
    ``EventPayloads`` (name → payload), and ``x-events`` (name → model, version)."""
    models = [MODELS[n] for n in sorted(MODELS)]
    _, top = models_json_schema(
        [(m, "validation") for m in models], ref_template="#/components/schemas/{model}"
    )
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    names = sorted(MODELS)
    schemas["EventName"] = {"type": "string", "enum": names, "description": "Every event name."}
    schemas["EventPayloads"] = {
        "type": "object",
        "description": "Event name → its payload.",
        "properties": {n: {"$ref": f"#/components/schemas/{MODELS[n].__name__}"} for n in names},
        "required": names,
        "additionalProperties": False,
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "brain-agent event payloads",
            "version": "1",
            "description": "Generated from src/brain_agent/telemetry/event_models.py; see docs/events.md.",
        },
        "paths": {},
        "components": {"schemas": schemas},
        "x-events": {n: {"model": MODELS[n].__name__, "version": MODELS[n].version} for n in names},
    }


def render() -> str:
    return json.dumps(schema_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args:
        Path(args[0]).write_text(render(), encoding="utf-8")
    else:
        sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
