"""Any OpenAI-compatible chat endpoint (OpenAI, Ollama, vLLM, llama.cpp server) via the ``openai`` SDK.

Usage normalisation: OpenAI's ``prompt_tokens`` *includes* ``prompt_tokens_details.cached_tokens``
and ``completion_tokens`` *includes* ``completion_tokens_details.reasoning_tokens``; they are split
into the non-overlapping buckets of ``Usage``. When streaming, usage is asked for with
``stream_options={"include_usage": True}`` and read from the final chunk. A server that reports no
usage at all gets tokenizer counts instead, marked ``raw["estimated"] = True``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

import openai

from brain_agent.errors import ConfigError, ProviderError
from brain_agent.llm.base import LLMRequest, LLMResponse, Usage
from brain_agent.llm.providers.common import NO_KEY, is_local, pick, redact, require_model
from brain_agent.llm.tokenizer import count_tokens, encoding_for_model

# Reasoning models reject ``max_tokens`` and a non-default temperature.
_REASONING_MODEL = re.compile(r"^(o\d|gpt-5)")


def normalise_openai_usage(usage: Any) -> Usage:
    """``Usage`` from an OpenAI ``CompletionUsage`` (or a dict of the same shape)."""
    raw: dict[str, Any] = usage.model_dump(exclude_none=True) if hasattr(usage, "model_dump") else dict(usage)
    prompt = int(raw.get("prompt_tokens") or 0)
    completion = int(raw.get("completion_tokens") or 0)
    cached = int((raw.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
    reasoning = int((raw.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0)
    cached = min(cached, prompt)
    reasoning = min(reasoning, completion)
    raw["estimated"] = False
    return Usage(
        uncached_input=prompt - cached,
        cached_input=cached,
        output=completion - reasoning,
        reasoning=reasoning,
        raw=raw,
    )


class OpenAIProvider:
    """Chat completions against an OpenAI-compatible server. The API key never leaves the client."""

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
        name: str = "openai",
    ) -> None:
        self.name = name
        self.model = require_model(model, name)
        self.base_url = pick(base_url, "OPENAI_BASE_URL")
        key = pick(api_key, "OPENAI_API_KEY")
        if key is None:
            if self.base_url is not None and not is_local(self.base_url):
                raise ConfigError(
                    f"the {name} provider needs an API key for {self.base_url}: set OPENAI_API_KEY",
                    key="api_key",
                )
            if self.base_url is None:
                raise ConfigError(
                    f"the {name} provider needs an API key: set OPENAI_API_KEY (or OPENAI_BASE_URL for a "
                    "local server)",
                    key="api_key",
                )
            key = NO_KEY
        self._secret = key
        self.stream = stream
        self.timeout = timeout
        self._client = openai.OpenAI(
            api_key=key,
            base_url=self.base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=dict(extra_headers) if extra_headers else None,
        )

    def __repr__(self) -> str:
        return f"OpenAIProvider(name={self.name!r}, model={self.model!r}, base_url={self.base_url!r})"

    def close(self) -> None:
        self._client.close()

    def complete(self, request: LLMRequest) -> LLMResponse:
        messages: list[dict[str, str]] = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        messages.append({"role": "user", "content": request.prompt})
        params: dict[str, Any] = {"model": self.model, "messages": messages}
        if _REASONING_MODEL.match(self.model):
            params["max_completion_tokens"] = request.max_tokens
        else:
            params["max_tokens"] = request.max_tokens
            params["temperature"] = request.temperature
        if request.seed is not None:
            params["seed"] = request.seed
        started = time.perf_counter()
        try:
            if self.stream:
                text, usage_obj, response_id = self._streamed(params)
            else:
                completion = self._client.chat.completions.create(**params)
                text = (completion.choices[0].message.content or "") if completion.choices else ""
                usage_obj, response_id = completion.usage, completion.id
        except openai.APIStatusError as exc:
            raise self._status_error(exc) from None
        except openai.APIConnectionError as exc:
            kind = "timeout" if isinstance(exc, openai.APITimeoutError) else "connection"
            where = self.base_url or "api.openai.com"
            raise ProviderError(
                f"{self.name}: {kind} error talking to {where}", provider=self.name, kind=kind
            ) from None
        except openai.APIError as exc:  # e.g. an error event inside a stream
            detail = redact(str(exc.message), self._secret)
            raise ProviderError(f"{self.name}: API error: {detail}", provider=self.name, kind="api") from None
        latency = time.perf_counter() - started
        usage = normalise_openai_usage(usage_obj) if usage_obj is not None else self._estimate(request, text)
        return LLMResponse(
            text=text,
            usage=usage,
            latency_s=latency,
            provider=self.name,
            model=self.model,
            response_id=response_id,
        )

    def _streamed(self, params: dict[str, Any]) -> tuple[str, Any, str | None]:
        parts: list[str] = []
        usage_obj: Any = None
        response_id: str | None = None
        stream = self._client.chat.completions.create(
            **params, stream=True, stream_options={"include_usage": True}
        )
        with stream:
            for chunk in stream:
                response_id = response_id or chunk.id
                for choice in chunk.choices:
                    if choice.delta is not None and choice.delta.content:
                        parts.append(choice.delta.content)
                if chunk.usage is not None:
                    usage_obj = chunk.usage
        return "".join(parts), usage_obj, response_id

    def _estimate(self, request: LLMRequest, text: str) -> Usage:
        encoding, exact = encoding_for_model(self.model)
        prompt_tokens = count_tokens((request.system or "") + request.prompt, encoding)
        return Usage(
            uncached_input=prompt_tokens,
            output=count_tokens(text, encoding),
            raw={"estimated": True, "encoding": encoding, "exact_encoding": exact},
        )

    def _status_error(self, exc: openai.APIStatusError) -> ProviderError:
        status = exc.status_code
        kind = "auth" if status in (401, 403) else "rate_limit" if status == 429 else "http"
        detail = redact(str(exc.message), self._secret)
        return ProviderError(
            f"{self.name}: HTTP {status} from {self.base_url or 'api.openai.com'}: {detail}",
            provider=self.name,
            status=status,
            kind=kind,
        )
