"""Build a provider by name: ``mock`` (default), ``openai``, ``ollama``, ``anthropic``."""

from __future__ import annotations

from brain_agent.errors import InputError
from brain_agent.llm.base import LLMProvider

PROVIDER_NAMES: tuple[str, ...] = ("mock", "openai", "ollama", "anthropic")
OLLAMA_BASE_URL = "http://127.0.0.1:11434/v1"


def make_provider(
    name: str,
    *,
    model: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    seed: int = 0,
    latency_s: float = 0.0,
    invalid_share: float = 0.0,
    stream: bool = False,
    timeout: float = 60.0,
) -> LLMProvider:
    """A provider for ``name``. ``seed``, ``latency_s`` and ``invalid_share`` apply to ``mock`` only;
    network providers read missing settings from the environment (see each provider)."""
    key = name.strip().lower()
    if key == "mock":
        from brain_agent.llm.providers.mock import MockProvider

        return MockProvider(
            model=model or "mock-alpha-1", seed=seed, latency_s=latency_s, invalid_share=invalid_share
        )
    if key in ("openai", "ollama"):
        from brain_agent.llm.providers.openai_compat import OpenAIProvider

        if key == "ollama":
            base_url = base_url or OLLAMA_BASE_URL
        return OpenAIProvider(
            model=model, base_url=base_url, api_key=api_key, timeout=timeout, stream=stream, name=key
        )
    if key == "anthropic":
        from brain_agent.llm.providers.anthropic_provider import AnthropicProvider

        return AnthropicProvider(
            model=model, base_url=base_url, api_key=api_key, timeout=timeout, stream=stream
        )
    raise InputError(
        f"unknown LLM provider {name!r}; choose one of: {', '.join(PROVIDER_NAMES)}",
        key="llm_provider",
        value=name,
        choices=list(PROVIDER_NAMES),
    )
