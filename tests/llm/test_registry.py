from __future__ import annotations

import pytest

from brain_agent.errors import InputError
from brain_agent.llm import PROVIDER_NAMES, LLMProvider, LLMRequest, MockProvider, make_provider
from brain_agent.llm.providers.anthropic_provider import AnthropicProvider
from brain_agent.llm.providers.openai_compat import OpenAIProvider

from .fake_anthropic import FakeAnthropicServer
from .fake_openai import FakeOpenAIServer


def test_mock_by_name_carries_its_options() -> None:
    provider = make_provider("mock", seed=5, invalid_share=0.25, latency_s=0.0)
    assert isinstance(provider, MockProvider) and isinstance(provider, LLMProvider)
    assert (provider.model, provider.seed, provider.invalid_share) == ("mock-alpha-1", 5, 0.25)
    assert make_provider("MOCK", model="m2").model == "m2"


def test_ollama_defaults_to_the_local_ollama_url() -> None:
    provider = make_provider("ollama", model="qwen2.5:7b")
    assert isinstance(provider, OpenAIProvider)
    assert (provider.name, provider.base_url) == ("ollama", "http://127.0.0.1:11434/v1")
    provider.close()


def test_openai_and_anthropic_by_name_reach_their_servers(
    openai_server: FakeOpenAIServer, anthropic_server: FakeAnthropicServer
) -> None:
    openai_provider = make_provider("openai", model="gpt-4o", base_url=openai_server.base_url, stream=True)
    anthropic_provider = make_provider("anthropic", model="claude-fake-2", base_url=anthropic_server.base_url)
    assert isinstance(openai_provider, OpenAIProvider) and isinstance(anthropic_provider, AnthropicProvider)
    try:
        assert openai_provider.complete(LLMRequest(prompt="hi")).text == openai_server.reply
        assert anthropic_provider.complete(LLMRequest(prompt="hi")).text == anthropic_server.reply
    finally:
        openai_provider.close()
        anthropic_provider.close()


def test_unknown_name_names_the_value_and_the_choices() -> None:
    with pytest.raises(InputError) as info:
        make_provider("gemini")
    message = str(info.value)
    assert "'gemini'" in message and all(name in message for name in PROVIDER_NAMES)
    assert info.value.details["choices"] == list(PROVIDER_NAMES)
