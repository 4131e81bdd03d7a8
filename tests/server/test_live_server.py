"""A real ``brain-agent serve`` process on 127.0.0.1: REST, WebSocket with live appends by another
process, resume, token and origin checks over real sockets."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from brain_agent.server import schemas
from brain_agent.storage.sqlite_store import SQLiteStore

from .conftest import LiveServer, append_in_subprocess

pytestmark = pytest.mark.slow
TOKEN = "test-token-123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def recv(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(ws.recv(timeout=10))
    return message


def test_rest_routes(live_server: LiveServer) -> None:
    base = live_server.base
    with httpx.Client(base_url=base, headers=AUTH, timeout=10) as http:
        assert http.get("/api/health").json()["poller"] is True
        assert [r["run_id"] for r in http.get("/api/runs").json()["runs"]] == ["run_live", "run_old"]
        for path in ("", "/budget", "/kpi", "/reactor_status", "/events", "/candidates", "/simulations"):
            response = http.get(f"/api/runs/run_old{path}")
            assert response.status_code == 200, (path, response.text)
        schemas.ReactorStatus.model_validate(http.get("/api/runs/run_old/reactor_status").json())
        assert http.get("/api/runs/nope/kpi").status_code == 404
        assert http.get("/api/runs/run_old/events", params={"limit": 5000}).status_code == 422
        assert "npm run build" in http.get("/").text
        assert http.get("/docs").status_code == 200
    assert httpx.get(f"{base}/api/runs").status_code == 401


def test_websocket_live_updates_and_resume(live_server: LiveServer) -> None:
    SQLiteStore(live_server.db).create_run("batch", run_id="run_ws")
    url = f"{live_server.ws_base}/api/runs/run_ws/stream?token={TOKEN}"
    with connect(url) as ws:
        assert recv(ws)["type"] == "snapshot"
        writer = append_in_subprocess(
            live_server.db, "run_ws", "--ideas", "2", "--no-create", "--delay", "0.005"
        )
        ids: list[int] = []
        while True:
            message = recv(ws)
            ids += [e["id"] for e in message["events"]]
            if message["status"]["status"] == "completed":
                break
        assert writer.wait(timeout=30) == 0
    assert ids == sorted(ids) and len(ids) == 1 + 2 * 9 + 1 + 2
    with connect(f"{url}&after={ids[4]}") as ws:
        assert [e["id"] for e in recv(ws)["events"]] == ids[5:]


def test_websocket_refusals(live_server: LiveServer) -> None:
    url = f"{live_server.ws_base}/api/runs/run_old/stream"
    with pytest.raises(InvalidStatus) as no_token:
        connect(url).close()
    assert no_token.value.response.status_code == 401
    with pytest.raises(InvalidStatus) as cross_origin:
        connect(f"{url}?token={TOKEN}", origin="http://evil.example").close()  # type: ignore[arg-type]
    assert cross_origin.value.response.status_code == 403
    with connect(f"{url}?token={TOKEN}", origin=live_server.base) as ws:  # type: ignore[arg-type]
        assert recv(ws)["type"] == "snapshot"
