"""Spec §5 check 7: the dashboard updates in real time while a real ``run-batch`` runs in another
process — over the WebSocket that follows the newest run, and over REST."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from .conftest import LiveServer

pytestmark = pytest.mark.slow
TOKEN = "test-token-123"
REPO = Path(__file__).resolve().parents[2]


def test_latest_stream_follows_a_run_batch_process(live_server: LiveServer, tmp_path: Path) -> None:
    url = f"{live_server.ws_base}/api/stream/latest?token={TOKEN}"
    with connect(url) as ws:
        first = json.loads(ws.recv(timeout=10))
        assert first["type"] == "snapshot"
        batch = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "brain_agent.cli",
                "run-batch",
                "--generate",
                "6",
                "--seed",
                "4",
                "--config",
                str(REPO / "configs" / "demo_budget.json"),
                "--db",
                str(live_server.db),
                "--pace",
                "0.05",
                "--simulate",
                "local",
                "--json",
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        run_id = None
        names: list[str] = []
        cursors: list[int] = []
        pressures: list[float] = []
        while True:
            message: dict[str, Any] = json.loads(ws.recv(timeout=30))
            if message["type"] == "run":
                run_id = message["run_id"]
                continue
            if message.get("run_id") != run_id or run_id is None:
                continue
            names += [e["name"] for e in message["events"]]
            cursors.append(message["cursor"])
            status = message["status"]
            pressures.append(status["reactor"]["pressure"])
            if status["status"] == "completed" and "cycle_completed" in names:
                break
        out, _ = batch.communicate(timeout=60)
    report = json.loads(out)
    assert run_id == report["run_id"]
    assert cursors == sorted(cursors) and len(cursors) >= 3, "updates arrive while the batch runs"
    expected = {
        "metadata_sync",
        "budget.fallback_applied",
        "llm.call",
        "simulation.submitted",
        "cycle_completed",
    }
    assert expected <= set(names), expected - set(names)
    assert pressures[-1] > pressures[0]
    final = status["reactor"]
    assert final["totals"]["calls"] == sum(t["calls"] for t in report["lanes"].values())
    assert final["totals"]["fallbacks"] == report["fallbacks"]
    with httpx.Client(base_url=live_server.base, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        rest = http.get(f"/api/runs/{run_id}/reactor_status").json()
    assert rest["reactor"]["totals"] == final["totals"]
