"""Command: serve (the dashboard API, the WebSocket stream and the built HUD from one process)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from brain_agent.cli.app import DbOption, app, err_console, resolve_db
from brain_agent.errors import InputError, shorten
from brain_agent.server.settings import ENV_TOKEN
from brain_agent.settings import repo_root

LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


def default_web_dir() -> Path:
    """``./web/out`` when it exists, else the checkout's ``web/out``."""
    local = Path("web/out")
    return local if local.is_dir() else repo_root() / "web" / "out"


@app.command("serve")
def serve_command(
    host: Annotated[
        str, typer.Option(help="Bind address. Anything but loopback requires a token.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=0, max=65535)] = 8765,
    db: DbOption = None,
    token: Annotated[
        str | None,
        typer.Option(envvar=ENV_TOKEN, help=f"API token (or ${ENV_TOKEN}); required off loopback."),
    ] = None,
    allow_origin: Annotated[
        list[str] | None, typer.Option(help="Extra allowed WebSocket origin (repeatable).")
    ] = None,
    web_dir: Annotated[Path | None, typer.Option(help="The built HUD (default: web/out).")] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the dashboard API (OpenAPI at /docs), the WebSocket stream and the Reactor Core HUD."""
    if log_level.lower() not in LOG_LEVELS:
        raise InputError(
            f"--log-level must be one of {', '.join(LOG_LEVELS)}, got {shorten(log_level)}", key="log_level"
        )
    import uvicorn

    from brain_agent.server import ServerSettings, create_app

    settings = ServerSettings(
        db=resolve_db(db),
        host=host,
        port=port,
        token=token or None,
        allowed_origins=tuple(allow_origin or ()),
        web_dir=web_dir or default_web_dir(),
    )
    application = create_app(settings)
    shown = f"[{host}]" if ":" in host else host
    err_console.print(f"brain-agent serving {settings.db} on http://{shown}:{port}/  (API docs: /docs)")
    uvicorn.run(
        application,
        host=host,
        port=port,
        log_level=log_level,
        ws_max_size=1 << 20,
        ws_per_message_deflate=False,
    )  # deflate costs more CPU than it saves on a local link, per client and per message
