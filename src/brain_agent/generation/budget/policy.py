"""Pure budget policy: (config, ledger state, request) → decision. No I/O.

A call touches these scopes, all reserved together (failure codes: ``ScopeKey.failure_code``):

- request: ``max_prompt_tokens`` / ``max_completion_tokens`` (``BUDGET_REQUEST_PROMPT_TOKENS`` /
  ``BUDGET_REQUEST_COMPLETION_TOKENS``), checked without the ledger;
- ``lane:{batch}:{lane}``: ``lane_ratio × (batch cap − expansion reserve)``
  (``BUDGET_LANE_EXPLOIT_TOKENS`` / ``BUDGET_LANE_EXPLORE_TOKENS``); expansion calls charge
  ``expansion:{batch}`` (``expansion_reserve_tokens``, ``BUDGET_EXPANSION_RESERVE``) instead;
- ``batch:{batch}``: ``max_tokens_per_batch`` (``BUDGET_BATCH_TOKENS``);
- ``day:{date@tz}`` / ``week:{isoweek@tz}``: period token caps (``BUDGET_DAY_TOKENS`` /
  ``BUDGET_WEEK_TOKENS``);
- ``money_day:…`` / ``money_week:…`` in pico-USD: ``max_cost_per_day`` / ``max_cost_per_week``
  (``BUDGET_DAY_COST`` / ``BUDGET_WEEK_COST``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from brain_agent.generation.budget.clock import Window, day_window, week_window
from brain_agent.generation.budget.config import BudgetConfig
from brain_agent.generation.budget.prices import from_pico, to_pico
from brain_agent.generation.budget.scope import ScopeKey
from brain_agent.storage.ledger_store import PICO_USD, TOKENS, Charge, ScopeUsage

REQUEST_PROMPT = "BUDGET_REQUEST_PROMPT_TOKENS"
REQUEST_COMPLETION = "BUDGET_REQUEST_COMPLETION_TOKENS"


@dataclass(frozen=True)
class CallContext:
    """Who is calling: decides the scopes."""

    run_id: str | None
    batch_id: str
    lane: str
    idea_id: str | None = None
    model: str = ""
    purpose: str = "alpha"
    expansion: bool = False
    biller: str = ""
    """Who bills the call: ``provider@endpoint`` (see ``provider.biller_of``); keys its calibration."""
    trusted_usage: bool = False
    """The biller counts exactly as we do (the offline mock): no calibration needed."""

    @property
    def identity(self) -> str:
        """The calibration key: biller and model."""
        return f"{self.biller}/{self.model}" if self.biller else self.model


@dataclass(frozen=True)
class CallAmount:
    prompt_tokens: int
    completion_tokens: int
    cost: Decimal

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Violation:
    """The first cap a request would break."""

    failure_code: str
    scope: str
    """The scope kind (``request``, ``lane``, ``batch``, ``day``, ``money_day`` …)."""
    scope_key: str
    limit: int | Decimal
    observed: int | Decimal

    def describe(self) -> str:
        return f"{self.failure_code}: {self.scope} cap {self.limit}, would reach {self.observed}"


def scope_kind(scope_key: str) -> str:
    return ScopeKey.parse(scope_key).kind


def windows(config: BudgetConfig, at: float) -> tuple[Window, Window]:
    return day_window(at, config.timezone), week_window(at, config.timezone)


def scope_keys(ctx: CallContext, config: BudgetConfig, at: float) -> list[ScopeKey]:
    """Every capped scope a call of ``ctx`` touches, in checking order."""
    day, week = windows(config, at)
    first = ScopeKey.expansion(ctx.batch_id) if ctx.expansion else ScopeKey.lane_of(ctx.batch_id, ctx.lane)
    return [
        first,
        ScopeKey.batch(ctx.batch_id),
        ScopeKey.period("day", day.key),
        ScopeKey.period("week", week.key),
        ScopeKey.period("money_day", day.key),
        ScopeKey.period("money_week", week.key),
    ]


def limit_of(config: BudgetConfig, key: ScopeKey) -> int | None:
    """The cap of a scope in its ledger unit (tokens, or pico-USD for money); None = uncapped."""
    if key.kind == "lane":
        return config.lane_limit(key.lane or "exploit")
    if key.kind == "expansion":
        return config.expansion_reserve_tokens
    if key.kind == "batch":
        return config.max_tokens_per_batch
    if key.kind == "day":
        return config.max_tokens_per_day
    if key.kind == "week":
        return config.max_tokens_per_week
    if key.kind == "money_day":
        return None if config.max_cost_per_day is None else to_pico(config.max_cost_per_day)
    if key.kind == "money_week":
        return None if config.max_cost_per_week is None else to_pico(config.max_cost_per_week)
    raise ValueError(f"no ledger limit for {key}")


def charges(config: BudgetConfig, ctx: CallContext, amount: CallAmount, at: float) -> list[Charge]:
    """Every scope the call touches, in checking order, with its amount and limit."""
    pico = to_pico(amount.cost)
    return [
        Charge(
            str(key),
            pico if key.is_money else amount.tokens,
            limit_of(config, key),
            PICO_USD if key.is_money else TOKENS,
        )
        for key in scope_keys(ctx, config, at)
    ]


def failure_code(scope_key: str) -> str:
    return ScopeKey.parse(scope_key).failure_code


def violation_for(scope_key: str, limit: int, observed: int, unit: str = TOKENS) -> Violation:
    key = ScopeKey.parse(scope_key)
    if unit == PICO_USD:
        return Violation(key.failure_code, key.kind, scope_key, from_pico(limit), from_pico(observed))
    return Violation(key.failure_code, key.kind, scope_key, limit, observed)


def check(
    config: BudgetConfig,
    usage: Mapping[str, ScopeUsage],
    request_charges: Sequence[Charge],
    amount: CallAmount,
) -> Violation | None:
    """None when the request fits every cap given the ledger ``usage``; else the first violation."""
    if amount.prompt_tokens > config.max_prompt_tokens:
        return Violation(
            REQUEST_PROMPT, "request", "request:prompt", config.max_prompt_tokens, amount.prompt_tokens
        )
    if amount.completion_tokens > config.max_completion_tokens:
        return Violation(
            REQUEST_COMPLETION,
            "request",
            "request:completion",
            config.max_completion_tokens,
            amount.completion_tokens,
        )
    for charge in request_charges:
        if charge.limit is None:
            continue
        current = usage.get(charge.scope_key)
        used = current.used if current is not None else 0
        if used + charge.amount > charge.limit:
            return violation_for(charge.scope_key, charge.limit, used + charge.amount, charge.unit)
    return None
