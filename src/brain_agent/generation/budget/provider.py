"""``BudgetedProvider``: wraps any :class:`LLMProvider` with cache → reserve → call → settle → log.

- An identical request (provider, model, rendered prompt, parameters) already answered is served
  from the store at zero tokens: logged as a cache hit (``llm.cache_hit`` with ``tokens_saved``).
- Otherwise the prompt is estimated, every scope is reserved atomically (``max_tokens`` is clamped
  to the reserved completion cap, the hard output limit), the call runs, and the reservation is
  settled with the provider's real usage, or released if the call fails.
- Every call (success, failure, cache hit) goes through the store's one write path
  ``record_llm_call`` with its ``reservation_id`` and ``Decimal`` cost.
"""

from __future__ import annotations

import time
from dataclasses import replace
from decimal import Decimal
from typing import Any

from brain_agent.generation.budget.gate import BudgetGate, Emit, Hold
from brain_agent.generation.budget.policy import CallContext
from brain_agent.llm.base import LLMProvider, LLMRequest, LLMResponse, Usage
from brain_agent.llm.calllog import call_payload, call_record, request_key
from brain_agent.storage import LLMCallRecord
from brain_agent.telemetry import events as ev


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
        self.cache_hits = 0
        self.tokens_saved = 0

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

        prompt_text = (request.system or "") + request.prompt
        estimate = self.gate.estimator.estimate(prompt_text, self.model)
        hold = self.gate.reserve(self.ctx, estimate.tokens, request.max_tokens)
        self.last_hold = hold
        self._emit(
            ev.BUDGET_RESERVED,
            {
                "reservation_id": hold.reservation_id,
                "tokens": hold.amount.tokens,
                "cost": str(hold.amount.cost),
                "scopes": [c.scope_key for c in hold.charges],
            },
            "budget",
        )
        started = time.perf_counter()
        try:
            response = self.inner.complete(request)
        except BaseException as exc:
            self.gate.release(hold, f"call failed: {type(exc).__name__}")
            store.record_llm_call(
                LLMCallRecord(
                    provider=self.name,
                    model=self.model,
                    purpose=request.purpose,
                    run_id=self.ctx.run_id,
                    idea_id=self.ctx.idea_id,
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
        self.gate.learn(prompt_text, self.model, usage)
        call_id = store.record_llm_call(
            call_record(
                response,
                request,
                key=key,
                cost=cost,
                run_id=self.ctx.run_id,
                idea_id=self.ctx.idea_id,
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
                "overrun_tokens": max(0, usage.total_tokens - hold.amount.tokens),
            },
            "budget",
        )
        self._emit(ev.LLM_CALL, call_payload(response, request, cost, call_id), "llm")
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
