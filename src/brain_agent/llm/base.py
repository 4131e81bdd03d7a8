"""The LLM provider seam: a request, a normalised usage record, a response, a protocol.

Usage buckets do not overlap: ``uncached_input + cached_input + cache_write`` is the prompt,
``output + reasoning`` is the completion. Providers keep their raw usage object in ``raw``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Usage:
    uncached_input: int = 0
    cached_input: int = 0
    cache_write: int = 0
    output: int = 0
    reasoning: int = 0
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def prompt_tokens(self) -> int:
        return self.uncached_input + self.cached_input + self.cache_write

    @property
    def completion_tokens(self) -> int:
        return self.output + self.reasoning

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_dict(self) -> dict[str, int]:
        return {
            "uncached_input": self.uncached_input,
            "cached_input": self.cached_input,
            "cache_write": self.cache_write,
            "output": self.output,
            "reasoning": self.reasoning,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }


@dataclass(frozen=True)
class LLMRequest:
    prompt: str
    system: str | None = None
    max_tokens: int = 1024
    temperature: float = 0.7
    seed: int | None = None
    purpose: str = "alpha"
    """What the call is for (``idea``, ``alpha``); lets a fake model answer in the right shape."""

    def cache_key_parts(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "system": self.system,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "seed": self.seed,
            "purpose": self.purpose,
        }


@dataclass(frozen=True)
class LLMResponse:
    text: str
    usage: Usage
    latency_s: float
    provider: str
    model: str
    response_id: str | None = None
    cache_hit: bool = False


@runtime_checkable
class LLMProvider(Protocol):
    """Anything that turns a request into a response. Wrappers (budget, cache, log) are providers too."""

    name: str
    model: str

    def complete(self, request: LLMRequest) -> LLMResponse: ...
