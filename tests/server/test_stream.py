"""The WebSocket stream through TestClient: snapshot, live updates from another process, resume,
following the newest run, refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse
from starlette.websockets import WebSocketDisconnect

from brain_agent.server import schemas
from brain_agent.storage.sqlite_store import SQLiteStore

from .conftest import WS_BASE, append_in_subprocess, make_app

EVENTS_FOR_3_IDEAS = 31  # metadata + 3 ideas x 9 events + 1 fallback + kpi.batch + cycle_completed


def receive(ws: Any) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(ws.receive_text())
    return message


def collect_until(ws: Any, predicate: Any, limit: int = 500) -> list[dict[str, Any]]:
    messages = []
    for _ in range(limit):
        messages.append(receive(ws))
        if predicate(messages[-1]):
            return messages
    raise AssertionError("the stream never reached the expected state")


def test_snapshot_then_live_updates_from_another_process(client: TestClient, db: Path) -> None:
    SQLiteStore(db).create_run("batch", run_id="run_new")
    with client.websocket_connect(f"{WS_BASE}/api/runs/run_new/stream") as ws:
        snapshot = receive(ws)
        assert snapshot["type"] == "snapshot" and snapshot["events"] == [] and snapshot["run_id"] == "run_new"
        assert schemas.ReactorStatus.model_validate(snapshot["status"]).status == "running"
        writer = append_in_subprocess(db, "run_new", "--ideas", "3", "--no-create", "--delay", "0.005")
        updates = collect_until(ws, lambda m: m["status"]["status"] == "completed")
        assert writer.wait(timeout=30) == 0
    assert all(m["type"] == "update" for m in updates)
    ids = [e["id"] for m in updates for e in m["events"]]
    assert len(ids) == EVENTS_FOR_3_IDEAS and ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(e["run_id"] == "run_new" for m in updates for e in m["events"])
    assert len(updates) < EVENTS_FOR_3_IDEAS  # coalesced
    last = schemas.ReactorStatus.model_validate(updates[-1]["status"])
    assert last.cursor == ids[-1] == updates[-1]["cursor"]
    assert last.reactor is not None and last.reactor.totals.calls == 3 and last.reactor.simulation.done == 3


def test_resume_from_a_cursor(client: TestClient) -> None:
    events = client.get("/api/runs/run_old/events").json()["events"]
    middle = events[10]["id"]
    with client.websocket_connect(f"{WS_BASE}/api/runs/run_old/stream?after={middle}") as ws:
        snapshot = receive(ws)
    assert [e["id"] for e in snapshot["events"]] == [e["id"] for e in events[11:]]
    assert snapshot["cursor"] == events[-1]["id"] and snapshot["truncated"] is False


def test_latest_stream_follows_a_new_run(client: TestClient, db: Path) -> None:
    with client.websocket_connect(f"{WS_BASE}/api/stream/latest?format=reactor") as ws:
        first = receive(ws)
        assert first["run_id"] == "run_live" and "series" not in first["status"]
        SQLiteStore(db).create_run("batch", run_id="run_next")
        writer = append_in_subprocess(db, "run_next", "--ideas", "1", "--no-create")
        messages = collect_until(ws, lambda m: m["type"] == "run")
        assert messages[-1] == {"type": "run", "run_id": "run_next"}
        snapshot = receive(ws)
        assert snapshot["type"] == "snapshot" and snapshot["run_id"] == "run_next"
        if snapshot["status"]["status"] != "completed":
            collect_until(ws, lambda m: m["status"]["status"] == "completed")
        assert writer.wait(timeout=30) == 0


def test_latest_stream_with_no_runs_waits(tmp_path: Path) -> None:
    app = make_app(tmp_path / "empty.db")
    with (
        TestClient(app, base_url="http://127.0.0.1") as c,
        c.websocket_connect("ws://127.0.0.1/api/stream/latest") as ws,
    ):
        assert receive(ws) == {
            "type": "snapshot",
            "cursor": 0,
            "run_id": None,
            "truncated": False,
            "status": None,
            "events": [],
        }


def test_unknown_run_gets_an_error_and_close(client: TestClient) -> None:
    with client.websocket_connect(f"{WS_BASE}/api/runs/nope/stream") as ws:
        message = receive(ws)
        assert message["type"] == "error" and message["error"]["code"] == "not_found"
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_text()
    assert info.value.code == 4404


@pytest.mark.parametrize("origin", ["http://evil.example", "http://127.0.0.1:9999", "null"])
def test_cross_origin_websocket_is_refused(client: TestClient, origin: str) -> None:
    url = f"{WS_BASE}/api/runs/run_old/stream"
    with (
        pytest.raises(WebSocketDenialResponse) as info,
        client.websocket_connect(url, headers={"origin": origin}),
    ):
        pass  # pragma: no cover
    assert info.value.status_code == 403
    assert json.loads(info.value.content)["error"]["code"] == "bad_origin"


def test_same_origin_and_allow_listed_origins_are_accepted(db: Path) -> None:
    app = make_app(db, allowed_origins=("http://localhost:3000",))
    with TestClient(app, base_url="http://127.0.0.1:8765") as c:
        for origin in ("http://127.0.0.1:8765", "http://localhost:3000"):
            with c.websocket_connect(f"{WS_BASE}/api/runs/run_old/stream", headers={"origin": origin}) as ws:
                assert receive(ws)["type"] == "snapshot"
