"""LLM calls: token and cost totals, the cost pulse (with spikes) and the prompt injections."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from brain_agent.storage import Event
from brain_agent.telemetry.views.common import MAX_INJECTIONS, MAX_PULSE, SPIKE_FACTOR, integer, money


class Calls:
    def __init__(self) -> None:
        self.prompt = 0
        self.completion = 0
        self.calls = 0
        self.cache_hits = 0  # llm.cache_hit events
        self.cache_hit_calls = 0  # llm.call events flagged cache_hit
        self.tokens_saved = 0
        self.cost = Decimal(0)
        self.injections: deque[dict[str, Any]] = deque(maxlen=MAX_INJECTIONS)
        self.pulse: deque[dict[str, Any]] = deque(maxlen=MAX_PULSE)
        self._recent_costs: deque[Decimal] = deque(maxlen=10)

    @property
    def tokens(self) -> int:
        return self.prompt + self.completion

    def on_call(self, e: Event, p: Mapping[str, Any]) -> tuple[int, Decimal]:
        """Count one ``llm.call``; returns (tokens, cost)."""
        prompt, completion = integer(p.get("prompt_tokens")), integer(p.get("completion_tokens"))
        cost = money(p.get("cost"))
        self.prompt += prompt
        self.completion += completion
        self.calls += 1
        self.cost += cost
        if p.get("cache_hit") is True:
            self.cache_hit_calls += 1
        elif prompt > 0:
            self.injections.append(
                {"event_id": e.id, "ts": e.ts, "tokens": prompt, "lane": e.lane, "idea_id": e.idea_id}
            )
        recent = self._recent_costs
        spike = len(recent) >= 3 and cost > sum(recent, Decimal(0)) / len(recent) * Decimal(str(SPIKE_FACTOR))
        recent.append(cost)
        self.pulse.append(
            {"event_id": e.id, "ts": e.ts, "cost": str(cost), "tokens": prompt + completion, "spike": spike}
        )
        return prompt + completion, cost

    def on_cache_hit(self, p: Mapping[str, Any]) -> None:
        self.cache_hits += 1
        self.tokens_saved += integer(p.get("tokens_saved"))
