from __future__ import annotations

import subprocess
import sys

import pytest

from brain_agent.errors import ConfigError, ProviderError
from brain_agent.llm import LLMRequest
from brain_agent.llm.providers.anthropic_provider import AnthropicProvider

from .fake_anthropic import FakeAnthropicServer, presented_key

SECRET = "sk-ant-test-0a1b2c3d4e5f6789"
REQUEST = LLMRequest(prompt="Write an alpha.", system="You are a quant.", max_tokens=300, temperature=0.5)


def make(server: FakeAnthropicServer, **kwargs: object) -> AnthropicProvider:
    return AnthropicProvider(
        model="claude-fake-1",
        base_url=server.base_url,
        api_key=SECRET,
        max_retries=0,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("stream", [False, True])
def test_messages_usage_maps_to_exclusive_buckets(
    anthropic_server: FakeAnthropicServer, stream: bool
) -> None:
    anthropic_server.input_tokens, anthropic_server.output_tokens = 90, 30
    anthropic_server.cache_read, anthropic_server.cache_write = 400, 50
    provider = make(anthropic_server, stream=stream)
    try:
        response = provider.complete(REQUEST)
    finally:
        provider.close()
    assert response.text == anthropic_server.reply
    usage = response.usage
    assert (usage.uncached_input, usage.cached_input, usage.cache_write) == (90, 400, 50)
    assert (usage.output, usage.reasoning) == (30, 0)
    assert usage.prompt_tokens == 540 and usage.raw["input_tokens"] == 90
    assert (response.provider, response.response_id) == ("anthropic", "msg_fake_1")

    sent = anthropic_server.requests[-1]
    assert sent.path == "/v1/messages"
    assert presented_key(sent.headers) == SECRET
    assert sent.body["system"] == "You are a quant."
    assert sent.body["messages"] == [{"role": "user", "content": "Write an alpha."}]
    assert sent.body["max_tokens"] == 300 and "temperature" not in sent.body
    assert bool(sent.body.get("stream")) is stream


@pytest.mark.parametrize(("status", "kind"), [(401, "auth"), (500, "http")])
def test_errors_are_provider_errors_without_the_key(
    anthropic_server: FakeAnthropicServer, status: int, kind: str
) -> None:
    anthropic_server.fail_status = status
    provider = make(anthropic_server)
    try:
        with pytest.raises(ProviderError) as info:
            provider.complete(REQUEST)
    finally:
        provider.close()
    err = info.value
    assert (err.details["status"], err.details["kind"]) == (status, kind)
    for surface in (str(err), repr(err), repr(err.to_dict()), repr(provider)):
        assert SECRET not in surface
    assert len(anthropic_server.requests) == 1
    if status == 401:
        assert "invalid x-api-key ***" in str(err)  # the server echoed the key; it was cut out


def test_env_fallbacks_and_missing_settings(
    anthropic_server: FakeAnthropicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY"):
        AnthropicProvider(model="claude-fake-2")
    with pytest.raises(ConfigError, match="BRAIN_AGENT_LLM_MODEL"):
        AnthropicProvider(api_key=SECRET)
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", anthropic_server.base_url)
    monkeypatch.setenv("BRAIN_AGENT_LLM_MODEL", "claude-fake-2")
    provider = AnthropicProvider(max_retries=0)
    try:
        provider.complete(REQUEST)
    finally:
        provider.close()
    assert anthropic_server.requests[-1].body["model"] == "claude-fake-2"
    assert presented_key(anthropic_server.requests[-1].headers) == SECRET


MISSING_SDK_CHILD = """
import sys
sys.modules["anthropic"] = None  # what an install without the extra looks like
from brain_agent.errors import ConfigError
from brain_agent.llm import make_provider
try:
    make_provider("anthropic", model="claude-fake-2", api_key="k")
except ConfigError as exc:
    print("ConfigError:", exc)
"""


def test_missing_sdk_is_a_clear_config_error() -> None:
    result = subprocess.run(
        [sys.executable, "-c", MISSING_SDK_CHILD], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "ConfigError:" in result.stdout and "brain-agent[anthropic]" in result.stdout
