""" "Follow latest" follows the latest batch: an ``estimate-prompt-cost`` run is listed, never followed."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from brain_agent.storage.sqlite_store import SQLiteStore
from brain_agent.telemetry import events as ev

from .conftest import BASE, WS_BASE, make_app


def test_latest_skips_estimate_runs(db: Path) -> None:
    store = SQLiteStore(db)
    est = store.create_run("estimate", {"model": "mock-alpha-1"})
    store.append_event(est, ev.METADATA_SYNC, {"budget": {"limits": {"batch": 1000}}}, step="pipeline")
    store.close()
    with TestClient(make_app(db), base_url=BASE) as client:
        body = client.get("/api/runs").json()
        listed = [r["run_id"] for r in body["runs"]]
        assert listed[0] == est  # newest in the list ...
        assert body["follow"] == "run_live"  # ... the server names the run to follow
        with client.websocket_connect(f"{WS_BASE}/api/stream/latest?format=reactor") as ws:
            first = json.loads(ws.receive_text())
    assert first["run_id"] == "run_live"  # ... but the HUD follows the newest batch


def test_only_estimates_means_nothing_to_follow(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    store = SQLiteStore(db)
    est = store.create_run("estimate", {})
    store.append_event(est, ev.METADATA_SYNC, {}, step="pipeline")
    store.close()
    with (
        TestClient(make_app(db), base_url=BASE) as client,
        client.websocket_connect(f"{WS_BASE}/api/stream/latest") as ws,
    ):
        assert json.loads(ws.receive_text())["run_id"] is None
