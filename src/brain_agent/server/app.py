"""``create_app(settings)``: the API, the stream and the built HUD from one process."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic.json_schema import models_json_schema
from starlette.exceptions import HTTPException as StarletteHTTPException

from brain_agent import __version__
from brain_agent.errors import BrainAgentError
from brain_agent.server import routes, schemas, stream
from brain_agent.server.hub import Hub
from brain_agent.server.security import SecurityMiddleware
from brain_agent.server.settings import ServerSettings

log = logging.getLogger("brain_agent.server")

_HELP_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>brain-agent</title></head>
<body style="font-family:system-ui;background:#05070d;color:#cde;max-width:44rem;margin:4rem auto">
<h1>brain-agent: the Reactor Core HUD is not built</h1>
<p>Build it once, then reload this page:</p>
<pre>cd web &amp;&amp; npm ci &amp;&amp; npm run build</pre>
<p>or point <code>brain-agent serve --web-dir</code> at a built <code>web/out</code>.</p>
<p>The API is live meanwhile: <a href="/docs" style="color:#7cf">/docs</a>,
<a href="/api/runs" style="color:#7cf">/api/runs</a>.</p></body></html>"""


def _error(status: int, code: str, message: str, **details: Any) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "details": details}}, status_code=status)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("query", "path", "header", "body"):
        return f"{parts[0]} parameter '{'.'.join(parts[1:])}'"
    return ".".join(parts) or "request"


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(BrainAgentError)
    async def _brain_agent_error(request: Request, exc: BrainAgentError) -> JSONResponse:
        body = exc.to_dict()
        return _error(exc.http_status, body["code"], body["message"], **body["details"])

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": ".".join(str(p) for p in e.get("loc", ())[1:]),
                "in": str((e.get("loc") or ["?"])[0]),
                "message": e.get("msg", "invalid"),
            }
            for e in exc.errors()
        ]
        first = exc.errors()[0] if exc.errors() else {}
        message = f"{_field(first.get('loc', ()))}: {first.get('msg', 'invalid')}"
        return _error(422, "bad_input", message, field=errors[0]["field"] if errors else None, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        response = _error(exc.status_code, code, str(exc.detail), path=request.url.path)
        for k, v in (exc.headers or {}).items():
            response.headers[k] = v
        return response

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        incident = uuid.uuid4().hex[:8]
        log.error("internal error %s on %s %s", incident, request.method, request.url.path, exc_info=exc)
        return _error(
            500,
            "internal_error",
            f"internal error {incident}: this is a bug; see the server log",
            incident=incident,
        )


def _publish_stream_models(app: FastAPI) -> None:
    """Add the WebSocket message models to the OpenAPI components (they have no route of their own),
    so docs/openapi.json describes them and the HUD's types are generated from it."""
    base = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = base()
        _, top = models_json_schema(
            [(m, "serialization") for m in schemas.STREAM_MODELS], ref_template="#/components/schemas/{model}"
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, definition in top.get("$defs", {}).items():
            components.setdefault(name, definition)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(settings: ServerSettings) -> FastAPI:
    """The ASGI app. Opens (and migrates) the store now; the poller runs while the app is up."""
    hub = Hub(
        settings.db,
        poll_interval_s=settings.poll_interval_s,
        heartbeat_s=settings.heartbeat_s,
        checkpoint_every=settings.checkpoint_every,
        reap_every_s=settings.reap_every_s,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        hub.start()
        try:
            yield
        finally:
            await hub.stop()

    app = FastAPI(
        title="brain-agent dashboard API",
        version=__version__,
        description="Budget, KPI and reactor views of brain-agent runs, over REST and a WebSocket stream. "
        "See docs/api.md and docs/reactor-contract.md.",
        lifespan=lifespan,
    )
    app.state.hub = hub
    app.state.settings = settings
    _publish_stream_models(app)
    _install_error_handlers(app)
    app.include_router(routes.router)
    app.include_router(stream.router)
    app.add_middleware(SecurityMiddleware, settings=settings)

    web_dir = settings.web_dir
    if web_dir is not None and (web_dir / "index.html").is_file():
        app.mount("/", StaticFiles(directory=web_dir, html=True), name="hud")
    else:

        @app.get("/", include_in_schema=False)
        async def _help() -> HTMLResponse:
            return HTMLResponse(_HELP_PAGE)

    return app
