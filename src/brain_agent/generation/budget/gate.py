"""The gate: estimate → check every scope → ladder → reserve → (call) → settle / release.

:class:`BudgetGate` joins the pure parts (``policy``, ``ladder``) with the ledger
(``storage.ledger_store``). ``plan`` is the "would it fit?" test on a ledger snapshot; ``reserve``
is the atomic "hit" that re-checks every cap inside one ``BEGIN IMMEDIATE`` transaction, so a
plan that raced with another process is refused there, never overspent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from brain_agent.errors import BudgetBlockedError
from brain_agent.generation.budget import policy
from brain_agent.generation.budget.clock import Clock, SystemClock, utc_iso
from brain_agent.generation.budget.config import BudgetConfig
from brain_agent.generation.budget.ladder import LadderOutcome, choose_topk
from brain_agent.generation.budget.policy import CallAmount, CallContext, Violation
from brain_agent.generation.budget.prices import PriceTable, from_pico, to_pico
from brain_agent.generation.budget.tokens import CalibrationState, Estimate, TokenEstimator
from brain_agent.llm.base import Usage
from brain_agent.retrieval import TopK
from brain_agent.storage import Store
from brain_agent.storage.ledger_store import PICO_USD, Charge
from brain_agent.telemetry import events as ev

Emit = Callable[..., Any]
"""``emit(name, payload, *, step, idea_id=None, lane=None)``; e.g. ``RunContext.emit``."""


@dataclass(frozen=True)
class Hold:
    reservation_id: str
    ctx: CallContext
    amount: CallAmount
    charges: tuple[Charge, ...]
    created_at: float


@dataclass(frozen=True)
class GateDecision:
    outcome: LadderOutcome[Violation]
    prompt: str | None
    """The rendered prompt of the chosen configuration (None when blocked)."""
    estimate: Estimate | None
    amount: CallAmount | None
    ctx: CallContext

    @property
    def blocked(self) -> bool:
        return self.outcome.chosen is None

    @property
    def violation(self) -> Violation | None:
        return self.outcome.last_violation if self.blocked else None


@dataclass(frozen=True)
class ScopeStatus:
    scope: str
    scope_key: str
    unit: str
    limit: int | Decimal | None
    spent: int | Decimal
    reserved: int | Decimal
    remaining: int | Decimal | None
    window_end: str | None

    def to_dict(self) -> dict[str, Any]:
        def fmt(v: int | Decimal | None) -> int | str | None:
            return str(v) if isinstance(v, Decimal) else v

        return {
            "scope": self.scope,
            "scope_key": self.scope_key,
            "unit": self.unit,
            "limit": fmt(self.limit),
            "spent": fmt(self.spent),
            "reserved": fmt(self.reserved),
            "remaining": fmt(self.remaining),
            "window_end": self.window_end,
        }


@dataclass
class BudgetGate:
    config: BudgetConfig
    store: Store
    prices: PriceTable
    estimator: TokenEstimator = field(default_factory=TokenEstimator)
    clock: Clock = field(default_factory=SystemClock)

    def __post_init__(self) -> None:
        self.ledger = self.store.ledger

    @classmethod
    def open(
        cls, config: BudgetConfig, store: Store, prices: PriceTable, clock: Clock | None = None
    ) -> BudgetGate:
        """A gate whose estimator starts from the calibration persisted in the store."""
        calibration = {
            (model, method): CalibrationState(model, method, samples, mean)
            for model, method, samples, mean in store.ledger.load_calibration()
        }
        estimator = TokenEstimator(config.estimator, calibration, config.prompt_safety_margin)
        return cls(config, store, prices, estimator, clock or SystemClock())

    # -- amounts -------------------------------------------------------------------------------
    def estimate(self, prompt_text: str, ctx: CallContext) -> Estimate:
        """The prompt tokens to reserve for ``prompt_text`` on ``ctx``'s biller (calibrated)."""
        return self.estimator.estimate(
            prompt_text,
            ctx.model,
            identity=ctx.identity,
            trusted=ctx.trusted_usage,
            uncalibrated_factor=self.config.uncalibrated_prompt_factor,
        )

    def reload_calibration(self, ctx: CallContext) -> None:
        """Pick up a calibration another process saved since this gate opened (cheap: one row)."""
        key = (ctx.identity, self.estimator.method)
        if key in self.estimator.calibration and self.estimator.calibration[key].samples:
            return
        for model, method, samples, mean in self.ledger.load_calibration():
            if (model, method) == key:
                self.estimator.calibration[key] = CalibrationState(model, method, samples, mean)

    def amount(
        self, ctx: CallContext, prompt_tokens: int, completion_tokens: int | None = None
    ) -> CallAmount:
        completion = self.config.max_completion_tokens if completion_tokens is None else completion_tokens
        return CallAmount(
            prompt_tokens, completion, self.prices.estimate(ctx.model, prompt_tokens, completion)
        )

    # -- test: plan with the ladder ------------------------------------------------------------
    def plan(
        self, ctx: CallContext, start: TopK, render: Callable[[TopK], str], *, shrink: bool = True
    ) -> GateDecision:
        """Pick the largest Top-K (in the mandated order) whose request fits every scope now.
        ``render`` gives the full prompt text (system + user) of a configuration; ``shrink=False``
        tests ``start`` alone (expansion calls)."""
        now = self.clock.now()
        probe = policy.charges(self.config, ctx, self.amount(ctx, 0), now)
        usage = self.ledger.usage([c.scope_key for c in probe], now=now)
        rendered: dict[TopK, tuple[str, Estimate]] = {}

        def measure(topk: TopK) -> int:
            if topk not in rendered:
                text = render(topk)
                rendered[topk] = (text, self.estimate(text, ctx))
            return rendered[topk][1].tokens

        def violation(tokens: int) -> Violation | None:
            amount = self.amount(ctx, tokens)
            return policy.check(self.config, usage, policy.charges(self.config, ctx, amount, now), amount)

        steps = self.config.fallback_topk_steps if shrink else None
        outcome = choose_topk(start, steps, measure, violation)
        if outcome.chosen is None:
            return GateDecision(outcome, None, None, None, ctx)
        text, estimate = rendered[outcome.chosen]
        return GateDecision(outcome, text, estimate, self.amount(ctx, estimate.tokens), ctx)

    # -- hit: reserve, settle, release -----------------------------------------------------------
    def reserve(self, ctx: CallContext, prompt_tokens: int, completion_tokens: int | None = None) -> Hold:
        """Hold every scope at once or raise :class:`BudgetBlockedError` naming the cap."""
        amount = self.amount(ctx, prompt_tokens, completion_tokens)
        violation = policy.check(self.config, {}, [], amount)  # per-request caps
        now = self.clock.now()
        charges = policy.charges(self.config, ctx, amount, now)
        if violation is None:
            reservation_id = f"res_{uuid.uuid4().hex}"
            refusal = self.ledger.reserve(
                reservation_id,
                charges,
                now=now,
                lease_seconds=self.config.lease_seconds,
                run_id=ctx.run_id,
                batch_id=ctx.batch_id,
                idea_id=ctx.idea_id,
                lane=ctx.lane,
                model=ctx.model,
                purpose=ctx.purpose,
            )
            if refusal is None:
                return Hold(reservation_id, ctx, amount, tuple(charges), now)
            unit = next(c.unit for c in charges if c.scope_key == refusal.scope_key)
            violation = policy.violation_for(refusal.scope_key, refusal.limit, refusal.observed, unit)
        raise blocked_error(violation)

    def settle(self, hold: Hold, usage: Usage, cost: Decimal) -> bool:
        tokens = usage.total_tokens
        pico = to_pico(cost)
        actual = {c.scope_key: (pico if c.unit == PICO_USD else tokens) for c in hold.charges}
        return self.ledger.settle(hold.reservation_id, actual, now=self.clock.now(), tokens=tokens, pico=pico)

    def release(self, hold: Hold, reason: str) -> bool:
        return self.ledger.release(hold.reservation_id, now=self.clock.now(), reason=reason)

    def learn(self, prompt_text: str, ctx: CallContext, usage: Usage) -> CalibrationState | None:
        """Fold a billed prompt count into the biller's calibration and persist it; returns the new
        state (None when there is nothing to learn: a trusted biller or no billed count)."""
        if ctx.trusted_usage or usage.raw.get("estimated") or usage.prompt_tokens <= 0:
            return None
        state = self.estimator.observe(prompt_text, ctx.model, usage.prompt_tokens, identity=ctx.identity)
        if state is not None:
            self.ledger.save_calibration(
                state.model, state.method, state.samples, state.mean_log_ratio, now=self.clock.now()
            )
        return state

    # -- status -------------------------------------------------------------------------------
    def overruns(self) -> dict[str, dict[str, int]]:
        """Calls billed above their reservation in the current day and week windows."""
        day, week = policy.windows(self.config, self.clock.now())
        out = {}
        for name, window in (("day", day), ("week", week)):
            calls, tokens = self.ledger.overruns(since=window.start, until=window.end)
            out[name] = {"calls": calls, "tokens": tokens}
        return out

    def status(self, batch_id: str | None = None) -> list[ScopeStatus]:
        """Per scope: limit, spent, reserved, remaining, window end (period scopes: the current window)."""
        now = self.clock.now()
        day, week = policy.windows(self.config, now)
        cfg = self.config
        rows: list[tuple[str, int | None, str, str | None]] = [
            (f"day:{day.key}", cfg.max_tokens_per_day, "tokens", utc_iso(day.end)),
            (f"week:{week.key}", cfg.max_tokens_per_week, "tokens", utc_iso(week.end)),
            (f"money_day:{day.key}", _pico_or_none(cfg.max_cost_per_day), PICO_USD, utc_iso(day.end)),
            (f"money_week:{week.key}", _pico_or_none(cfg.max_cost_per_week), PICO_USD, utc_iso(week.end)),
        ]
        if batch_id is not None:
            rows = [
                (f"batch:{batch_id}", cfg.max_tokens_per_batch, "tokens", None),
                (f"lane:{batch_id}:exploit", cfg.lane_limit("exploit"), "tokens", None),
                (f"lane:{batch_id}:explore", cfg.lane_limit("explore"), "tokens", None),
                (f"expansion:{batch_id}", cfg.expansion_reserve_tokens, "tokens", None),
                *rows,
            ]
        usage = self.ledger.usage([r[0] for r in rows], now=now)
        out = []
        for key, limit, unit, end in rows:
            u = usage[key]
            if unit == PICO_USD:
                lim = None if limit is None else from_pico(limit)
                spent, reserved = from_pico(u.spent), from_pico(u.reserved)
                remaining = None if lim is None else max(Decimal(0), lim - spent - reserved)
                out.append(
                    ScopeStatus(policy.scope_kind(key), key, "usd", lim, spent, reserved, remaining, end)
                )
            else:
                rem = None if limit is None else max(0, limit - u.spent - u.reserved)
                out.append(
                    ScopeStatus(policy.scope_kind(key), key, "tokens", limit, u.spent, u.reserved, rem, end)
                )
        return out


def _pico_or_none(value: Decimal | None) -> int | None:
    return None if value is None else to_pico(value)


def blocked_error(violation: Violation) -> BudgetBlockedError:
    return BudgetBlockedError(
        f"budget blocked: {violation.scope} cap {violation.limit} would be exceeded "
        f"(observed {violation.observed}) [{violation.failure_code}]",
        failure_code=violation.failure_code,
        scope=violation.scope,
        limit=float(violation.limit),
        observed=float(violation.observed),
        scope_key=violation.scope_key,
    )


def emit_decision(
    emit: Emit, decision: GateDecision, config: BudgetConfig, *, action: str | None = None
) -> None:
    """The spec's budget events for one gate decision: ``check_passed`` (unchanged), or
    ``check_failed`` → ``fallback_applied`` per step → ``check_passed`` / ``blocked``."""
    ctx, outcome = decision.ctx, decision.outcome
    kw: dict[str, Any] = {"step": "budget", "idea_id": ctx.idea_id, "lane": ctx.lane}
    completion = config.max_completion_tokens
    first = outcome.first_violation
    if first is not None:
        start_tokens = outcome.steps[0].tokens_before if outcome.steps else outcome.tokens
        emit(
            ev.BUDGET_CHECK_FAILED,
            {
                "prompt_tokens": start_tokens,
                "completion_tokens": completion,
                "topk": None,
                "lane_ratio": config.lane_ratio(),
                "over_budget": True,
                "fallback_count": 0,
                "scope": first.scope,
                "limit": _num(first.limit),
                "observed": _num(first.observed),
                "failure_code": first.failure_code,
            },
            **kw,
        )
    for i, step in enumerate(outcome.steps, start=1):
        emit(
            ev.BUDGET_FALLBACK_APPLIED,
            {
                "stage": step.stage,
                "from_k": step.from_k,
                "to_k": step.to_k,
                "tokens_before": step.tokens_before,
                "tokens_after": step.tokens_after,
                "fallback_count": i,
            },
            **kw,
        )
    if outcome.chosen is not None:
        emit(
            ev.BUDGET_CHECK_PASSED,
            {
                "prompt_tokens": outcome.tokens,
                "completion_tokens": completion,
                "topk": outcome.chosen.to_dict(),
                "lane_ratio": config.lane_ratio(),
                "over_budget": False,
                "fallback_count": len(outcome.steps),
            },
            **kw,
        )
    else:
        last = outcome.last_violation
        assert last is not None
        emit(ev.BUDGET_BLOCKED, blocked_payload(last, action or config.on_blocked, len(outcome.steps)), **kw)


def blocked_payload(violation: Violation, action: str, fallback_count: int = 0) -> dict[str, Any]:
    return {
        "failure_code": violation.failure_code,
        "scope": violation.scope,
        "limit": _num(violation.limit),
        "observed": _num(violation.observed),
        "action": action,
        "fallback_count": fallback_count,
    }


def _num(value: int | Decimal) -> int | str:
    return str(value) if isinstance(value, Decimal) else value
