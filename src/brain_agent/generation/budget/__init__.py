"""The budget layer (spec §2–§5): config, token estimation, the reservation ledger, the fallback
ladder, exploit/explore lanes, the expansion reserve, cached + budgeted LLM calls.

Pure policy lives in ``policy``, ``ladder``, ``lanes`` and ``expansion``; ``gate`` joins them with
the ledger (``brain_agent.storage.ledger_store``); ``provider`` wraps any LLM provider.
"""

from brain_agent.generation.budget.clock import Clock, FakeClock, SystemClock, Window, day_window, week_window
from brain_agent.generation.budget.config import (
    BudgetConfig,
    BudgetConfigWarning,
    FallbackSteps,
    budget_schema,
    default_budget_config_path,
    load_budget_config,
    parse_budget_config,
)
from brain_agent.generation.budget.expansion import Expansion, expand, repeated_error
from brain_agent.generation.budget.gate import (
    BudgetGate,
    GateDecision,
    Hold,
    ScopeStatus,
    blocked_error,
    emit_decision,
)
from brain_agent.generation.budget.ladder import LadderOutcome, LadderStep, choose_topk, ladder_sequence
from brain_agent.generation.budget.lanes import FloorProtection, LanePlan, PlannedIdea, plan_lanes
from brain_agent.generation.budget.policy import CallAmount, CallContext, Violation
from brain_agent.generation.budget.prices import ModelPrice, PriceTable, load_price_table
from brain_agent.generation.budget.provider import (
    BudgetedProvider,
    biller_context,
    biller_of,
    gated_provider,
)
from brain_agent.generation.budget.scope import FAILURE_CODES, ScopeKey
from brain_agent.generation.budget.tokens import CalibrationState, Estimate, TokenEstimator, rough_tokens

__all__ = [
    "FAILURE_CODES",
    "BudgetConfig",
    "BudgetConfigWarning",
    "BudgetGate",
    "BudgetedProvider",
    "CalibrationState",
    "CallAmount",
    "CallContext",
    "Clock",
    "Estimate",
    "Expansion",
    "FakeClock",
    "FallbackSteps",
    "FloorProtection",
    "GateDecision",
    "Hold",
    "LadderOutcome",
    "LadderStep",
    "LanePlan",
    "ModelPrice",
    "PlannedIdea",
    "PriceTable",
    "ScopeKey",
    "ScopeStatus",
    "SystemClock",
    "TokenEstimator",
    "Violation",
    "Window",
    "biller_context",
    "biller_of",
    "blocked_error",
    "budget_schema",
    "choose_topk",
    "day_window",
    "default_budget_config_path",
    "emit_decision",
    "expand",
    "gated_provider",
    "ladder_sequence",
    "load_budget_config",
    "load_price_table",
    "parse_budget_config",
    "plan_lanes",
    "repeated_error",
    "rough_tokens",
    "week_window",
]
