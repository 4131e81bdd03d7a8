"""A fake Anthropic Messages server: ``POST /v1/messages``, plain and streaming (SSE events)."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any

from .fake_http import FakeHTTPServer


def presented_key(headers: dict[str, str]) -> str:
    """The credential a client sent: ``x-api-key`` (SDK 0.x/1.x) or ``Authorization: Bearer`` (2.x)."""
    return headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer ")


class FakeAnthropicServer(FakeHTTPServer):
    def __init__(
        self,
        reply: str = "```\nrank(close)\n```\nRationale: test.",
        *,
        input_tokens: int = 90,
        output_tokens: int = 30,
        cache_read_input_tokens: int = 0,
        cache_creation_input_tokens: int = 0,
        fail_status: int | None = None,
    ) -> None:
        super().__init__()
        self.reply = reply
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens
        self.cache_read = cache_read_input_tokens
        self.cache_write = cache_creation_input_tokens
        self.fail_status = fail_status

    @property
    def base_url(self) -> str:
        return self.url

    def _usage(self, output_tokens: int) -> dict[str, Any]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": output_tokens,
            "cache_read_input_tokens": self.cache_read,
            "cache_creation_input_tokens": self.cache_write,
        }

    def _message(self, model: str, content: list[dict[str, Any]], output_tokens: int) -> dict[str, Any]:
        return {
            "id": "msg_fake_1",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": "end_turn" if content else None,
            "stop_sequence": None,
            "usage": self._usage(output_tokens),
        }

    def handle(self, handler: BaseHTTPRequestHandler, path: str, body: Any) -> None:
        if path != "/v1/messages":
            self.send_json(
                handler, 404, {"type": "error", "error": {"type": "not_found_error", "message": path}}
            )
            return
        if self.fail_status is not None:
            if self.fail_status == 401:
                key = presented_key({k.lower(): v for k, v in handler.headers.items()})
                error = {"type": "authentication_error", "message": f"invalid x-api-key {key}"}
            else:
                error = {"type": "api_error", "message": "Internal server error"}
            self.send_json(handler, self.fail_status, {"type": "error", "error": error})
            return
        model = body.get("model", "unknown")
        if not body.get("stream"):
            content = [{"type": "text", "text": self.reply}]
            self.send_json(handler, 200, self._message(model, content, self.output_tokens))
            return

        def event(kind: str, data: dict[str, Any]) -> str:
            return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n"

        half = len(self.reply) // 2
        events = [
            event("message_start", {"message": self._message(model, [], 1)}),
            event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
            event("ping", {}),
            *(
                event("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": part}})
                for part in (self.reply[:half], self.reply[half:])
            ),
            event("content_block_stop", {"index": 0}),
            event(
                "message_delta",
                {
                    "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                    "usage": {"output_tokens": self.output_tokens},
                },
            ),
            event("message_stop", {}),
        ]
        self.send_sse(handler, events)
