"""Pure budget policy: (config, ledger state, request) → decision. No I/O.

A call touches these scopes, all reserved together (failure codes in ``FAILURE_CODES``):

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
from brain_agent.storage.ledger_store import PICO_USD, TOKENS, Charge, ScopeUsage

REQUEST_PROMPT = "BUDGET_REQUEST_PROMPT_TOKENS"
REQUEST_COMPLETION = "BUDGET_REQUEST_COMPLETION_TOKENS"
_CODES = {
    "lane:exploit": "BUDGET_LANE_EXPLOIT_TOKENS",
    "lane:explore": "BUDGET_LANE_EXPLORE_TOKENS",
    "expansion": "BUDGET_EXPANSION_RESERVE",
    "batch": "BUDGET_BATCH_TOKENS",
    "day": "BUDGET_DAY_TOKENS",
    "week": "BUDGET_WEEK_TOKENS",
    "money_day": "BUDGET_DAY_COST",
    "money_week": "BUDGET_WEEK_COST",
}
FAILURE_CODES: tuple[str, ...] = (REQUEST_PROMPT, REQUEST_COMPLETION, *_CODES.values())


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
    return scope_key.split(":", 1)[0]


def windows(config: BudgetConfig, at: float) -> tuple[Window, Window]:
    return day_window(at, config.timezone), week_window(at, config.timezone)


def charges(config: BudgetConfig, ctx: CallContext, amount: CallAmount, at: float) -> list[Charge]:
    """Every scope the call touches, in checking order, with its amount and limit."""
    day, week = windows(config, at)
    out: list[Charge] = []
    if ctx.expansion:
        out.append(Charge(f"expansion:{ctx.batch_id}", amount.tokens, config.expansion_reserve_tokens))
    else:
        out.append(Charge(f"lane:{ctx.batch_id}:{ctx.lane}", amount.tokens, config.lane_limit(ctx.lane)))
    out.append(Charge(f"batch:{ctx.batch_id}", amount.tokens, config.max_tokens_per_batch))
    out.append(Charge(f"day:{day.key}", amount.tokens, config.max_tokens_per_day))
    out.append(Charge(f"week:{week.key}", amount.tokens, config.max_tokens_per_week))
    pico = to_pico(amount.cost)
    day_cap = None if config.max_cost_per_day is None else to_pico(config.max_cost_per_day)
    week_cap = None if config.max_cost_per_week is None else to_pico(config.max_cost_per_week)
    out.append(Charge(f"money_day:{day.key}", pico, day_cap, PICO_USD))
    out.append(Charge(f"money_week:{week.key}", pico, week_cap, PICO_USD))
    return out


def failure_code(scope_key: str) -> str:
    kind = scope_kind(scope_key)
    if kind == "lane":
        kind = f"lane:{scope_key.rsplit(':', 1)[-1]}"
    return _CODES.get(kind, "BUDGET_" + kind.upper())


def violation_for(scope_key: str, limit: int, observed: int, unit: str = TOKENS) -> Violation:
    if unit == PICO_USD:
        return Violation(
            failure_code(scope_key), scope_kind(scope_key), scope_key, from_pico(limit), from_pico(observed)
        )
    return Violation(failure_code(scope_key), scope_kind(scope_key), scope_key, limit, observed)


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
