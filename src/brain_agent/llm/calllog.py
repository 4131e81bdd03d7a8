"""The one call-log record and ``llm.call`` payload builders, used by the gated provider
(``generation/budget/provider.py``), which is the only wrapper that reaches a provider."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

from brain_agent.llm.base import LLMRequest, LLMResponse
from brain_agent.storage import LLMCallRecord


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
