from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from brain_agent.errors import ConfigError, ProviderError
from brain_agent.llm import LLMProvider, LLMRequest, count_tokens
from brain_agent.llm.providers.openai_compat import OpenAIProvider

from .fake_openai import FakeOpenAIServer

SECRET = "sk-test-9f8e7d6c5b4a39281706"
REQUEST = LLMRequest(
    prompt="Write an alpha.", system="You are a quant.", max_tokens=256, temperature=0.2, seed=11
)


@pytest.fixture
def provider(openai_server: FakeOpenAIServer) -> Iterator[OpenAIProvider]:
    p = OpenAIProvider(model="gpt-4o-mini", base_url=openai_server.base_url, api_key=SECRET, max_retries=0)
    yield p
    p.close()


def test_plain_completion_normalises_cached_and_reasoning(
    openai_server: FakeOpenAIServer, provider: OpenAIProvider
) -> None:
    openai_server.prompt_tokens, openai_server.cached_tokens = 120, 30
    openai_server.completion_tokens, openai_server.reasoning_tokens = 40, 10
    response = provider.complete(REQUEST)
    assert isinstance(provider, LLMProvider)
    assert response.text == openai_server.reply
    usage = response.usage
    assert (usage.uncached_input, usage.cached_input, usage.cache_write) == (90, 30, 0)
    assert (usage.output, usage.reasoning) == (30, 10)
    assert (usage.prompt_tokens, usage.completion_tokens) == (120, 40)
    assert usage.raw["prompt_tokens"] == 120 and usage.raw["estimated"] is False
    assert (response.provider, response.model, response.response_id) == (
        "openai",
        "gpt-4o-mini",
        "chatcmpl-fake-1",
    )
    assert response.latency_s > 0

    sent = openai_server.requests[-1]
    assert sent.headers["authorization"] == f"Bearer {SECRET}"
    assert sent.body["messages"] == [
        {"role": "system", "content": "You are a quant."},
        {"role": "user", "content": "Write an alpha."},
    ]
    assert (sent.body["max_tokens"], sent.body["temperature"], sent.body["seed"]) == (256, 0.2, 11)
    assert "stream" not in sent.body


def test_streaming_asks_for_usage_and_accumulates(openai_server: FakeOpenAIServer) -> None:
    openai_server.reply = (
        "```\ngroup_neutralize(rank(-ts_delta(close, 5)), subindustry)\n```\nRationale: reversal."
    )
    openai_server.cached_tokens, openai_server.reasoning_tokens = 100, 0
    p = OpenAIProvider(model="llama3.1", base_url=openai_server.base_url, stream=True, max_retries=0)
    try:
        response = p.complete(LLMRequest(prompt="go"))
    finally:
        p.close()
    sent = openai_server.requests[-1].body
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert response.text == openai_server.reply
    assert (response.usage.uncached_input, response.usage.cached_input) == (20, 100)
    assert (response.usage.output, response.usage.reasoning) == (40, 0)
    assert response.response_id == "chatcmpl-fake-2"


@pytest.mark.parametrize("stream", [False, True])
def test_missing_usage_falls_back_to_tokenizer_counts(openai_server: FakeOpenAIServer, stream: bool) -> None:
    openai_server.omit_usage = True
    p = OpenAIProvider(model="gpt-4o", base_url=openai_server.base_url, stream=stream, max_retries=0)
    try:
        response = p.complete(REQUEST)
    finally:
        p.close()
    assert response.usage.raw["estimated"] is True
    assert response.usage.raw["encoding"] == "o200k_base" and response.usage.raw["exact_encoding"] is True
    assert response.usage.uncached_input == count_tokens("You are a quant.Write an alpha.")
    assert response.usage.output == count_tokens(openai_server.reply)


def test_reasoning_models_get_max_completion_tokens(openai_server: FakeOpenAIServer) -> None:
    p = OpenAIProvider(model="o3-mini", base_url=openai_server.base_url, api_key=SECRET, max_retries=0)
    try:
        p.complete(REQUEST)
    finally:
        p.close()
    sent = openai_server.requests[-1].body
    assert sent["max_completion_tokens"] == 256
    assert "max_tokens" not in sent and "temperature" not in sent


def test_http_500_is_a_provider_error_with_status(
    openai_server: FakeOpenAIServer, provider: OpenAIProvider
) -> None:
    openai_server.fail_status = 500
    with pytest.raises(ProviderError) as info:
        provider.complete(REQUEST)
    assert info.value.details["status"] == 500 and info.value.details["kind"] == "http"
    assert "HTTP 500" in str(info.value)
    assert len(openai_server.requests) == 1  # max_retries=0 honoured


@pytest.mark.parametrize("stream", [False, True])
def test_auth_error_never_contains_the_key(openai_server: FakeOpenAIServer, stream: bool) -> None:
    openai_server.fail_status = 401
    p = OpenAIProvider(
        model="gpt-4o", base_url=openai_server.base_url, api_key=SECRET, stream=stream, max_retries=0
    )
    try:
        with pytest.raises(ProviderError) as info:
            p.complete(REQUEST)
    finally:
        p.close()
    err = info.value
    assert err.details["status"] == 401 and err.details["kind"] == "auth"
    assert "Incorrect API key provided" in str(err)  # the server's message is kept...
    for surface in (str(err), repr(err), repr(err.details), repr(err.to_dict()), repr(p)):
        assert SECRET not in surface  # ...with the key cut out
    assert err.__cause__ is None and err.__suppress_context__


def test_unreachable_server_is_a_connection_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    p = OpenAIProvider(model="gpt-4o", base_url=f"http://127.0.0.1:{port}/v1", api_key=SECRET, max_retries=0)
    try:
        with pytest.raises(ProviderError) as info:
            p.complete(REQUEST)
    finally:
        p.close()
    assert info.value.details["kind"] == "connection"
    assert SECRET not in str(info.value)


def test_environment_fallbacks(openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("BRAIN_AGENT_LLM_MODEL", "gpt-4.1")
    p = OpenAIProvider(max_retries=0, extra_headers={"X-Run-Id": "run-1"})
    try:
        p.complete(REQUEST)
    finally:
        p.close()
    sent = openai_server.requests[-1]
    assert sent.body["model"] == "gpt-4.1"
    assert sent.headers["authorization"] == f"Bearer {SECRET}"
    assert sent.headers["x-run-id"] == "run-1"
    assert SECRET not in repr(p)


def test_local_server_needs_no_key(openai_server: FakeOpenAIServer) -> None:
    p = OpenAIProvider(model="qwen2.5", base_url=openai_server.base_url, max_retries=0)
    try:
        p.complete(REQUEST)
    finally:
        p.close()
    assert openai_server.requests[-1].headers["authorization"] == "Bearer not-needed"


def test_config_errors() -> None:
    with pytest.raises(ConfigError, match="BRAIN_AGENT_LLM_MODEL"):
        OpenAIProvider(base_url="http://127.0.0.1:9/v1")
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        OpenAIProvider(model="gpt-4o")
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        OpenAIProvider(model="gpt-4o", base_url="https://llm.example.com/v1")
