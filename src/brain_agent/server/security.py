"""Security at the edge, as one pure-ASGI middleware for HTTP and WebSocket alike.

- Host check: on a loopback bind, a request whose ``Host`` is not a loopback name is refused (stops
  DNS-rebinding pages from reading the API).
- Token: when the settings carry one, every ``/api/*`` route except ``/api/health`` needs
  ``Authorization: Bearer <token>`` or ``?token=<token>`` (compared in constant time; a browser
  cannot set headers on a WebSocket). A ``token`` query parameter is removed from the request before
  anything else sees it, so the access log and the app never record it.
- WebSocket origin: a browser WebSocket whose ``Origin`` is neither the served host nor in
  ``allowed_origins`` is refused before the handshake completes (HTTP 403).
"""

from __future__ import annotations

import hmac
import json
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from brain_agent.server.settings import LOOPBACK_NAMES, ServerSettings

OPEN_PATHS = frozenset({"/api/health"})


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _host_name(host_header: str) -> str:
    if host_header.startswith("["):
        return host_header[: host_header.find("]") + 1].lower()
    return host_header.rsplit(":", 1)[0].lower() if host_header.count(":") == 1 else host_header.lower()


def _pop_query_tokens(scope: Scope) -> list[str]:
    """Take every ``token`` query parameter out of the request (in place: the server's access log
    reads the same scope) and return their values."""
    raw: bytes = scope.get("query_string", b"")
    if b"token" not in raw:
        return []
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    tokens = [v for k, v in pairs if k == "token"]
    if tokens:
        scope["query_string"] = urlencode([(k, v) for k, v in pairs if k != "token"]).encode("latin-1")
    return tokens


def error_body(code: str, message: str, **details: Any) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "details": details}}).encode()


class SecurityMiddleware:
    def __init__(self, app: ASGIApp, settings: ServerSettings) -> None:
        self.app = app
        self.settings = settings
        self.allowed_origins = {o.rstrip("/").lower() for o in settings.allowed_origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        host = headers.get("host", "")
        if self.settings.check_host and self.settings.loopback and _host_name(host) not in LOOPBACK_NAMES:
            await self._deny(
                scope,
                receive,
                send,
                400,
                "bad_host",
                "this server is bound to loopback: the Host header must be a loopback name",
            )
            return
        path: str = scope.get("path", "")
        query_tokens = _pop_query_tokens(scope)
        needs_token = bool(self.settings.token) and path.startswith("/api/") and path not in OPEN_PATHS
        if needs_token and not self._token_ok(query_tokens, headers):
            message = "missing or wrong token: send 'Authorization: Bearer <token>' or '?token='"
            await self._deny(scope, receive, send, 401, "auth_error", message)
            return
        if scope["type"] == "websocket" and not self._origin_ok(headers.get("origin"), host, scope):
            await self._deny(scope, receive, send, 403, "bad_origin", "cross-origin WebSocket refused")
            return
        await self.app(scope, receive, send)

    def _token_ok(self, query_tokens: list[str], headers: dict[str, str]) -> bool:
        expected = (self.settings.token or "").encode()
        auth = headers.get("authorization", "")
        if auth[:7].lower() == "bearer " and hmac.compare_digest(auth[7:].strip().encode(), expected):
            return True
        return any(hmac.compare_digest(t.encode(), expected) for t in query_tokens)

    def _origin_ok(self, origin: str | None, host: str, scope: Scope) -> bool:
        if origin is None:  # not a browser: nothing to forge
            return True
        origin = origin.rstrip("/").lower()
        if origin in self.allowed_origins:
            return True
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and parts.netloc == host.lower()

    async def _deny(
        self, scope: Scope, receive: Receive, send: Send, status: int, code: str, message: str
    ) -> None:
        if scope["type"] == "websocket":
            await receive()  # websocket.connect
            if "websocket.http.response" not in scope.get("extensions", {}):
                await send({"type": "websocket.close", "code": 1008})  # the server answers HTTP 403
                return
            await send(
                {
                    "type": "websocket.http.response.start",
                    "status": status,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "websocket.http.response.body", "body": error_body(code, message)})
            return
        headers = [(b"content-type", b"application/json")]
        if status == 401:
            headers.append((b"www-authenticate", b"Bearer"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": error_body(code, message)})
