"""``LoggedProvider``: wraps any provider and records every call — success or failure — through the
store's one write path (``Store.record_llm_call``) and as an ``llm.call`` event."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from brain_agent.errors import BrainAgentError
from brain_agent.llm.base import LLMProvider, LLMRequest, LLMResponse, Usage
from brain_agent.storage import LLMCallRecord, Store
from brain_agent.telemetry import events as ev

CostFn = Callable[[str, Usage], Decimal]


def request_key(provider: str, model: str, request: LLMRequest) -> str:
    """Identity of a request for caching: provider, model, rendered prompt and parameters."""
    doc = json.dumps({"provider": provider, "model": model, **request.cache_key_parts()}, sort_keys=True)
    return hashlib.sha256(doc.encode("utf-8")).hexdigest()


def call_record(
    response: LLMResponse,
    request: LLMRequest,
    *,
    key: str,
    cost: Decimal,
    run_id: str | None,
    idea_id: str | None,
    reservation_id: str | None = None,
) -> LLMCallRecord:
    """The call-log row of a successful call (the store's one write path takes it)."""
    usage = response.usage
    return LLMCallRecord(
        provider=response.provider,
        model=response.model,
        purpose=request.purpose,
        uncached_input=usage.uncached_input,
        cached_input=usage.cached_input,
        cache_write=usage.cache_write,
        output=usage.output,
        reasoning=usage.reasoning,
        latency_ms=round(response.latency_s * 1000, 3),
        cost=str(cost),
        cache_hit=response.cache_hit,
        run_id=run_id,
        idea_id=idea_id,
        request_key=key,
        reservation_id=reservation_id,
        raw_usage=usage.raw,
        response_text=response.text,
    )


def call_payload(response: LLMResponse, request: LLMRequest, cost: Decimal, call_id: int) -> dict[str, Any]:
    """The ``llm.call`` event payload (docs/events.md)."""
    usage = response.usage
    return {
        "provider": response.provider,
        "model": response.model,
        "purpose": request.purpose,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "cached_input": usage.cached_input,
        "reasoning": usage.reasoning,
        "latency_ms": round(response.latency_s * 1000, 3),
        "cost": str(cost),
        "cache_hit": response.cache_hit,
        "call_id": call_id,
    }


class LoggedProvider:
    def __init__(
        self,
        inner: LLMProvider,
        store: Store,
        *,
        run_id: str | None = None,
        idea_id: str | None = None,
        lane: str | None = None,
        cost_fn: CostFn | None = None,
    ) -> None:
        self.inner = inner
        self.store = store
        self.run_id = run_id
        self.idea_id = idea_id
        self.lane = lane
        self.cost_fn = cost_fn
        self.name = inner.name
        self.model = inner.model
        self.last_call_id: int | None = None

    def complete(self, request: LLMRequest) -> LLMResponse:
        key = request_key(self.name, self.model, request)
        try:
            response = self.inner.complete(request)
        except BrainAgentError as exc:
            self.last_call_id = self.store.record_llm_call(
                LLMCallRecord(
                    provider=self.name,
                    model=self.model,
                    purpose=request.purpose,
                    run_id=self.run_id,
                    idea_id=self.idea_id,
                    request_key=key,
                    error=f"{exc.code}: {exc.message}",
                )
            )
            raise
        cost = (
            Decimal(0)
            if response.cache_hit or self.cost_fn is None
            else self.cost_fn(response.model, response.usage)
        )
        self.last_call_id = self.store.record_llm_call(
            call_record(response, request, key=key, cost=cost, run_id=self.run_id, idea_id=self.idea_id)
        )
        if self.run_id is not None:
            self.store.append_event(
                self.run_id,
                ev.LLM_CALL,
                call_payload(response, request, cost, self.last_call_id),
                step="llm",
                idea_id=self.idea_id,
                lane=self.lane,
            )
        return response
