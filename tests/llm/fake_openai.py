"""A fake OpenAI-compatible server: ``POST /v1/chat/completions``, plain and streaming.

Reusable: ``with FakeOpenAIServer(reply="...") as server: OpenAI(base_url=server.base_url, ...)``.
Knobs: the reply text, prompt/completion token counts with cached/reasoning details, omitting usage
(like some local servers), and a forced error status (401 echoes the presented key back, as real
servers do in part, so redaction can be tested).
"""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

from .fake_http import FakeHTTPServer


class FakeOpenAIServer(FakeHTTPServer):
    def __init__(
        self,
        reply: str = "```\nrank(close)\n```\nRationale: test.",
        *,
        prompt_tokens: int = 120,
        completion_tokens: int = 40,
        cached_tokens: int | None = None,
        reasoning_tokens: int | None = None,
        omit_usage: bool = False,
        fail_status: int | None = None,
        stream_chunk_chars: int = 7,
    ) -> None:
        super().__init__()
        self.reply = reply
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens
        self.cached_tokens = cached_tokens
        self.reasoning_tokens = reasoning_tokens
        self.omit_usage = omit_usage
        self.fail_status = fail_status
        self.stream_chunk_chars = stream_chunk_chars

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def usage(self) -> dict[str, Any]:
        usage: dict[str, Any] = {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
        }
        if self.cached_tokens is not None:
            usage["prompt_tokens_details"] = {"cached_tokens": self.cached_tokens, "audio_tokens": 0}
        if self.reasoning_tokens is not None:
            usage["completion_tokens_details"] = {"reasoning_tokens": self.reasoning_tokens}
        return usage

    def handle(self, handler: BaseHTTPRequestHandler, path: str, body: Any) -> None:
        if path != "/v1/chat/completions":
            self.send_json(handler, 404, {"error": {"message": f"no route {path}", "type": "not_found"}})
            return
        if self.fail_status is not None:
            self._fail(handler)
            return
        model = body.get("model", "unknown")
        created = int(time.time())
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            self._stream(handler, model, created, include_usage)
            return
        payload: dict[str, Any] = {
            "id": "chatcmpl-fake-1",
            "object": "chat.completion",
            "created": created,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": self.reply},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
        }
        if not self.omit_usage:
            payload["usage"] = self.usage()
        self.send_json(handler, 200, payload)

    def _fail(self, handler: BaseHTTPRequestHandler) -> None:
        status = self.fail_status or 500
        if status == 401:
            presented = handler.headers.get("Authorization", "").removeprefix("Bearer ")
            message = f"Incorrect API key provided: {presented}."
            kind = "invalid_request_error"
        else:
            message, kind = "The server had an error while processing your request.", "server_error"
        self.send_json(handler, status, {"error": {"message": message, "type": kind, "code": None}})

    def _stream(self, handler: BaseHTTPRequestHandler, model: str, created: int, include_usage: bool) -> None:
        def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
            data = {
                "id": "chatcmpl-fake-2",
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
            }
            if include_usage:
                data["usage"] = None
            return f"data: {json.dumps(data)}\n\n"

        events = [chunk({"role": "assistant", "content": ""})]
        step = self.stream_chunk_chars
        events += [chunk({"content": self.reply[i : i + step]}) for i in range(0, len(self.reply), step)]
        events.append(chunk({}, "stop"))
        if include_usage and not self.omit_usage:
            final = {
                "id": "chatcmpl-fake-2",
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [],
                "usage": self.usage(),
            }
            events.append(f"data: {json.dumps(final)}\n\n")
        events.append("data: [DONE]\n\n")
        self.send_sse(handler, events)
