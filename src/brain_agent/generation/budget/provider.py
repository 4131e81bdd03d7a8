"""The gated provider: every LLM call of every command goes through :class:`BudgetedProvider`.

One composition, in this order, built by :func:`gated_provider` (the one place that wraps a
provider; ``brain_agent.llm.make_provider`` is called nowhere else in a command's path):

1. **cache** — an identical request (provider, model, rendered prompt, parameters) already answered
   is served from the store at zero tokens (``llm.cache_hit`` with ``tokens_saved``); it is never
   blocked, even when the budget is spent.
2. **single flight** — an identical request already in flight in another process (or thread) is
   not made twice: this caller waits for that answer (``llm.single_flight_wait``) and is served
   from the cache. A claim whose holder died lapses with its lease.
3. **budget** — the prompt is estimated for the biller (calibrated per provider, endpoint and
   model; ``uncalibrated_prompt_factor`` before the first billed call), every scope is reserved in
   one transaction (``max_tokens`` is clamped to the completion cap, the hard output limit), and
   the hold's lease is renewed by the heartbeat thread while the call runs, so a slow call keeps
   its room. The real usage is settled afterwards (an overrun, billed > reserved, is recorded as
   ``budget.overrun``), or the hold released when the call fails.
4. **call log** — every call (success, failure, cache hit) through the store's one write path
   ``record_llm_call``, with its ``reservation_id`` and ``Decimal`` cost, and an ``llm.call`` event.
"""

from __future__ import annotations

import time
from dataclasses import replace
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from brain_agent.generation.budget.gate import BudgetGate, Emit, Hold
from brain_agent.generation.budget.policy import CallContext
from brain_agent.llm.base import LLMProvider, LLMRequest, LLMResponse, Usage
from brain_agent.llm.calllog import call_payload, call_record, request_key
from brain_agent.storage import LLMCallRecord
from brain_agent.storage.heartbeat import Heartbeats
from brain_agent.telemetry import events as ev

FLIGHT_POLL_S = 0.05
TRUSTED_PROVIDERS = frozenset({"mock"})
"""Providers whose usage is our own count (the offline mock): nothing to calibrate."""


def biller(provider_name: str, base_url: str | None) -> str:
    """``name@endpoint`` of whoever bills a provider's calls; the endpoint without credentials,
    query or fragment (never a secret in a calibration key, an event or a log)."""
    if not base_url:
        return provider_name
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{provider_name}@{parts.scheme}://{host}{port}{parts.path.rstrip('/')}"


def biller_of(provider: LLMProvider) -> str:
    base = getattr(provider, "base_url", None)
    return biller(provider.name, base if isinstance(base, str) else None)


def biller_context(ctx: CallContext, provider_name: str, base_url: str | None) -> CallContext:
    """``ctx`` with the biller of a provider that is named, not built (``estimate-prompt-cost``)."""
    return replace(
        ctx, biller=biller(provider_name, base_url), trusted_usage=provider_name in TRUSTED_PROVIDERS
    )


def gated_provider(
    inner: LLMProvider, gate: BudgetGate, ctx: CallContext, emit: Emit | None = None
) -> BudgetedProvider:
    """The one composition every command uses: cache → single flight → budget → call log."""
    ctx = replace(
        ctx,
        model=ctx.model or inner.model,
        biller=ctx.biller or biller_of(inner),
        trusted_usage=ctx.trusted_usage or inner.name in TRUSTED_PROVIDERS,
    )
    return BudgetedProvider(inner, gate, ctx, emit)


class BudgetedProvider:
    def __init__(
        self, inner: LLMProvider, gate: BudgetGate, ctx: CallContext, emit: Emit | None = None
    ) -> None:
        self.inner = inner
        self.gate = gate
        self.ctx = replace(ctx, model=ctx.model or inner.model)
        self.emit = emit
        self.name = inner.name
        self.model = inner.model
        self.last_hold: Hold | None = None
        self.last_call_id: int | None = None
        self.cache_hits = 0
        self.tokens_saved = 0
        self.flight_waits = 0

    def bind(self, **changes: Any) -> BudgetedProvider:
        """The same gated provider for another context (idea, lane, purpose, expansion)."""
        return BudgetedProvider(self.inner, self.gate, replace(self.ctx, **changes), self.emit)

    def _emit(self, name: str, payload: dict[str, Any], step: str) -> None:
        if self.emit is not None:
            self.emit(name, payload, step=step, idea_id=self.ctx.idea_id, lane=self.ctx.lane)

    def complete(self, request: LLMRequest) -> LLMResponse:
        cap = self.gate.config.max_completion_tokens
        if request.max_tokens > cap:
            request = replace(request, max_tokens=cap)
        store = self.gate.store
        key = request_key(self.name, self.model, request)
        cached = store.cached_response(key)
        if cached is not None:
            return self._cache_hit(request, key, cached)
        lease = self.gate.config.lease_seconds
        waited = False
        while not self.gate.ledger.claim_flight(key, now=self.gate.clock.now(), lease_seconds=lease):
            if not waited:
                waited = True
                self.flight_waits += 1
                self._emit(ev.LLM_SINGLE_FLIGHT_WAIT, {"key": key[:16]}, "llm")
            time.sleep(FLIGHT_POLL_S)
            cached = store.cached_response(key)
            if cached is not None:
                return self._cache_hit(request, key, cached)
        keeper = Heartbeats.for_store(store)
        try:
            with keeper.flight(key, lease):
                cached = store.cached_response(key)  # answered between our look and our claim
                if cached is not None:
                    return self._cache_hit(request, key, cached)
                return self._call(request, key, keeper)
        finally:
            self.gate.ledger.finish_flight(key)

    def _call(self, request: LLMRequest, key: str, keeper: Heartbeats) -> LLMResponse:
        store = self.gate.store
        ctx = self.ctx
        prompt_text = (request.system or "") + request.prompt
        self.gate.reload_calibration(ctx)
        estimate = self.gate.estimate(prompt_text, ctx)
        hold = self.gate.reserve(ctx, estimate.tokens, request.max_tokens)
        self.last_hold = hold
        self._emit(
            ev.BUDGET_RESERVED,
            {
                "reservation_id": hold.reservation_id,
                "tokens": hold.amount.tokens,
                "cost": str(hold.amount.cost),
                "scopes": [c.scope_key for c in hold.charges],
                "estimate_factor": round(estimate.factor, 6),
            },
            "budget",
        )
        started = time.perf_counter()
        try:
            with keeper.hold(hold.reservation_id, self.gate.config.lease_seconds):
                response = self.inner.complete(request)
        except BaseException as exc:
            self.gate.release(hold, f"call failed: {type(exc).__name__}")
            self.last_call_id = store.record_llm_call(
                LLMCallRecord(
                    provider=self.name,
                    model=self.model,
                    purpose=request.purpose,
                    run_id=ctx.run_id,
                    idea_id=ctx.idea_id,
                    request_key=key,
                    reservation_id=hold.reservation_id,
                    latency_ms=round((time.perf_counter() - started) * 1000, 3),
                    error=f"{getattr(exc, 'code', type(exc).__name__)}: {exc}",
                )
            )
            self._emit(
                ev.BUDGET_RELEASED, {"reservation_id": hold.reservation_id, "reason": "call failed"}, "budget"
            )
            raise
        usage = response.usage
        cost = self.gate.prices.cost(response.model, usage)
        self.gate.settle(hold, usage, cost)
        overrun = usage.total_tokens - hold.amount.tokens
        if overrun > 0:
            self._emit(
                ev.BUDGET_OVERRUN,
                {
                    "reservation_id": hold.reservation_id,
                    "biller": ctx.identity,
                    "reserved_tokens": hold.amount.tokens,
                    "billed_tokens": usage.total_tokens,
                    "overrun_tokens": overrun,
                },
                "budget",
            )
        before = self.gate.estimator.calibration.get((ctx.identity, self.gate.estimator.method))
        state = self.gate.learn(prompt_text, ctx, usage)
        if state is not None and (before is None or abs(state.factor - before.factor) > 0.01):
            self._emit(
                ev.BUDGET_CALIBRATED,
                {"biller": ctx.identity, "factor": round(state.factor, 4), "samples": state.samples},
                "budget",
            )
        self.last_call_id = store.record_llm_call(
            call_record(
                response,
                request,
                key=key,
                cost=cost,
                run_id=ctx.run_id,
                idea_id=ctx.idea_id,
                reservation_id=hold.reservation_id,
            )
        )
        self._emit(
            ev.BUDGET_SETTLED,
            {
                "reservation_id": hold.reservation_id,
                "prompt_tokens": usage.prompt_tokens,
                "completion_tokens": usage.completion_tokens,
                "total_tokens": usage.total_tokens,
                "cost": str(cost),
                "reserved_tokens": hold.amount.tokens,
                "overrun_tokens": max(0, overrun),
            },
            "budget",
        )
        self._emit(ev.LLM_CALL, call_payload(response, request, cost, self.last_call_id), "llm")
        return response

    def _cache_hit(self, request: LLMRequest, key: str, cached: dict[str, Any]) -> LLMResponse:
        saved = sum(
            int(cached[k]) for k in ("uncached_input", "cached_input", "cache_write", "output", "reasoning")
        )
        self.cache_hits += 1
        self.tokens_saved += saved
        store = self.gate.store
        call_id = store.record_llm_call(
            LLMCallRecord(
                provider=self.name,
                model=self.model,
                purpose=request.purpose,
                cost="0",
                cache_hit=True,
                run_id=self.ctx.run_id,
                idea_id=self.ctx.idea_id,
                request_key=key,
                raw_usage={"tokens_saved": saved, "source_call_id": cached["id"]},
                response_text=cached["response_text"],
            )
        )
        self.last_call_id = call_id
        response = LLMResponse(
            text=str(cached["response_text"]),
            usage=Usage(raw={"cache_hit": True, "tokens_saved": saved}),
            latency_s=0.0,
            provider=self.name,
            model=self.model,
            cache_hit=True,
        )
        self._emit(ev.LLM_CACHE_HIT, {"tokens_saved": saved, "key": key[:16]}, "llm")
        self._emit(ev.LLM_CALL, call_payload(response, request, Decimal(0), call_id), "llm")
        return response
