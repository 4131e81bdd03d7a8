"""Anthropic Messages API via the official SDK (optional extra: ``pip install 'brain-agent[anthropic]'``).

Usage normalisation: Anthropic's ``input_tokens`` *excludes* cache reads and cache writes, so the
buckets map one to one: ``input_tokens`` → uncached, ``cache_read_input_tokens`` → cached,
``cache_creation_input_tokens`` → cache write. ``output_tokens`` includes thinking; when the server
reports ``output_tokens_details.thinking_tokens`` that part goes to ``reasoning``.

``temperature`` is not sent: current SDKs (2.x) no longer accept it on ``messages.create``.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from brain_agent.errors import ConfigError, ProviderError
from brain_agent.llm.base import LLMRequest, LLMResponse, Usage
from brain_agent.llm.providers.common import NO_KEY, is_local, pick, redact, require_model

EXTRA_HINT = "pip install 'brain-agent[anthropic]'"


def _import_sdk() -> ModuleType:
    try:
        return importlib.import_module("anthropic")
    except ImportError:
        raise ConfigError(
            f"the anthropic provider needs the optional anthropic SDK: {EXTRA_HINT}", key="llm_provider"
        ) from None


def normalise_anthropic_usage(usage: Any) -> Usage:
    """``Usage`` from an Anthropic ``Usage`` object (or a dict of the same shape)."""
    raw: dict[str, Any] = usage.model_dump(exclude_none=True) if hasattr(usage, "model_dump") else dict(usage)
    output = int(raw.get("output_tokens") or 0)
    thinking = int((raw.get("output_tokens_details") or {}).get("thinking_tokens") or 0)
    thinking = min(thinking, output)
    raw["estimated"] = False
    return Usage(
        uncached_input=int(raw.get("input_tokens") or 0),
        cached_input=int(raw.get("cache_read_input_tokens") or 0),
        cache_write=int(raw.get("cache_creation_input_tokens") or 0),
        output=output - thinking,
        reasoning=thinking,
        raw=raw,
    )


class AnthropicProvider:
    """Messages API client; ``stream=True`` streams and reads the final message's usage."""

    name = "anthropic"

    def __init__(
        self,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 60.0,
        stream: bool = False,
        extra_headers: Mapping[str, str] | None = None,
        *,
        max_retries: int = 2,
    ) -> None:
        self._sdk = _import_sdk()
        self.model = require_model(model, self.name)
        self.base_url = pick(base_url, "ANTHROPIC_BASE_URL")
        key = pick(api_key, "ANTHROPIC_API_KEY")
        if key is None:
            if not is_local(self.base_url):
                raise ConfigError(
                    "the anthropic provider needs an API key: set ANTHROPIC_API_KEY", key="api_key"
                )
            key = NO_KEY
        self._secret = key
        self.stream = stream
        self.timeout = timeout
        self._client = self._sdk.Anthropic(
            api_key=key,
            base_url=self.base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=dict(extra_headers) if extra_headers else None,
        )

    def __repr__(self) -> str:
        return f"AnthropicProvider(model={self.model!r}, base_url={self.base_url!r})"

    def close(self) -> None:
        self._client.close()

    def complete(self, request: LLMRequest) -> LLMResponse:
        params: dict[str, Any] = {
            "model": self.model,
            "max_tokens": request.max_tokens,
            "messages": [{"role": "user", "content": request.prompt}],
        }
        if request.system:
            params["system"] = request.system
        sdk = self._sdk
        started = time.perf_counter()
        try:
            if self.stream:
                with self._client.messages.stream(**params) as stream:
                    message = stream.get_final_message()
            else:
                message = self._client.messages.create(**params)
        except sdk.APIStatusError as exc:
            status = int(exc.status_code)
            kind = "auth" if status in (401, 403) else "rate_limit" if status == 429 else "http"
            raise ProviderError(
                f"anthropic: HTTP {status} from {self.base_url or 'api.anthropic.com'}: "
                f"{redact(str(exc.message), self._secret)}",
                provider=self.name,
                status=status,
                kind=kind,
            ) from None
        except sdk.APIConnectionError as exc:
            kind = "timeout" if isinstance(exc, sdk.APITimeoutError) else "connection"
            raise ProviderError(
                f"anthropic: {kind} error talking to {self.base_url or 'api.anthropic.com'}",
                provider=self.name,
                kind=kind,
            ) from None
        except sdk.APIError as exc:
            raise ProviderError(
                f"anthropic: API error: {redact(str(exc.message), self._secret)}",
                provider=self.name,
                kind="api",
            ) from None
        latency = time.perf_counter() - started
        text = "".join(block.text for block in message.content if getattr(block, "type", "") == "text")
        return LLMResponse(
            text=text,
            usage=normalise_anthropic_usage(message.usage),
            latency_s=latency,
            provider=self.name,
            model=self.model,
            response_id=message.id,
        )
