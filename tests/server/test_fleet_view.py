"""The fleet view's aggregate (``telemetry/views/fleet.py``) and its routes on a SQLite store:
shared period rings, the most pressed run's own rings, summed velocity, and dead runs reaped when
the server starts."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from brain_agent.storage.liveness import holder_id
from brain_agent.storage.sqlite_store import SQLiteStore
from brain_agent.telemetry.views.fleet import Member, Shared, fleet_status

from .conftest import BASE, WS_BASE, make_app
from .eventgen import realistic_run


def _ring(scope: str, spent: float, reserved: float, limit: float) -> dict[str, Any]:
    return {
        "scope": scope,
        "spent": spent,
        "reserved": reserved,
        "limit": limit,
        "pressure": round((spent + reserved) / limit, 6),
    }


def _status(run_id: str, rings: list[dict[str, Any]], velocity: float, tte: tuple[float, str] | None) -> Any:
    lane = {"target_share": 0.5, "actual_share": 0.5, "tokens": 100, "ideas": 1}
    return {
        "run_id": run_id,
        "status": "running",
        "flags": {"blocked": False, "over_budget": False, "explore_floor_preserved": False},
        "reactor": {
            "pressure": max(r["pressure"] for r in rings),
            "rings": rings,
            "velocity": {"tokens_per_s": velocity, "window_s": 60},
            "time_to_exhaustion_s": tte[0] if tte else None,
            "exhaustion_scope": tte[1] if tte else None,
            "protection_mode": False,
            "protection": {"window_s": 30, "last_event": None, "at": None, "reason": None},
            "injections": [{"event_id": 1, "ts": 5.0, "tokens": 10, "lane": None, "idea_id": None}],
            "pulse": [],
            "lanes": {"exploit": lane, "explore": lane},
            "radar": {"scanning": [], "feed": [f"{run_id} line"]},
            "simulation": {
                "in_flight": 1,
                "done": 2,
                "passed": 1,
                "failed": 1,
                "errors": 0,
                "latency_s": {"p50": 0.2, "p95": 0.4},
                "best": None,
            },
            "totals": {
                "prompt_tokens": 80,
                "completion_tokens": 20,
                "total_tokens": 100,
                "cost": "0.001",
                "calls": 2,
                "cache_hits": 0,
                "tokens_saved": 0,
                "fallbacks": 1,
                "blocked": 0,
                "deferred": 0,
            },
            "kpi": {"coverage": 1, "coverage_share": 0.1, "novelty": 1.0, "structural_novelty": None},
        },
    }


def test_fleet_aggregates_shared_periods_and_each_runs_own_scopes() -> None:
    a = Member(
        "run_a",
        "h1:10",
        _status(
            "run_a", [_ring("batch", 600, 0, 1000), _ring("day", 5000, 0, 100_000)], 10.0, (40.0, "batch")
        ),
    )
    b = Member(
        "run_b",
        "h2:20",
        _status("run_b", [_ring("batch", 100, 50, 1000), _ring("day", 9000, 0, 50_000)], 30.0, None),
    )
    shared = {"day": Shared(spent=40_000.0, reserved=2_000.0)}
    out = fleet_status([a, b], shared, now=100.0, cursor=77)
    assert out["run_id"] == "live" and out["status"] == "running" and out["cursor"] == 77
    assert [(r["run_id"], r["holder"]) for r in out["runs"]] == [("run_a", "h1:10"), ("run_b", "h2:20")]
    rings = {r["scope"]: r for r in out["reactor"]["rings"]}
    # the day ring is the shared ledger window against the tightest cap any run holds
    assert rings["day"] == {
        "scope": "day",
        "spent": 40_000.0,
        "reserved": 2_000.0,
        "limit": 50_000,
        "pressure": 0.84,
    }
    # a run's own scope: the most pressed run's ring
    assert rings["batch"]["spent"] == 600
    reactor = out["reactor"]
    assert reactor["pressure"] == 0.84 and reactor["core"]["state"] == "warning"
    assert reactor["velocity"]["tokens_per_s"] == 40.0
    # day: 8,000 tokens left at 40 tok/s = 200 s; run_a's own batch forecast (40 s) comes first
    assert (reactor["time_to_exhaustion_s"], reactor["exhaustion_scope"]) == (40.0, "batch")
    assert reactor["totals"]["total_tokens"] == 200 and reactor["totals"]["cost"] == "0.002"
    assert reactor["simulation"]["done"] == 4 and reactor["lanes"]["exploit"]["tokens"] == 200
    assert reactor["radar"]["feed"] == ["run_a line", "run_b line"]


def test_fleet_without_a_ledger_reading_takes_the_run_that_saw_most_of_the_window() -> None:
    a = Member("run_a", None, _status("run_a", [_ring("day", 5000, 0, 100_000)], 0.0, None))
    b = Member("run_b", None, _status("run_b", [_ring("day", 9000, 1000, 100_000)], 0.0, None))
    rings = fleet_status([a, b], {}, now=1.0, cursor=1)["reactor"]["rings"]
    assert rings == [_ring("day", 9000, 1000, 100_000)]


def test_no_running_run_is_idle() -> None:
    out = fleet_status([], {}, now=1.0, cursor=5)
    assert out == {"run_id": "live", "status": "idle", "as_of": 1.0, "cursor": 5, "runs": []}


def test_live_route_shows_the_running_run_with_its_holder(client: TestClient) -> None:
    body = client.get("/api/live/reactor_status").json()
    assert body["status"] == "running"
    assert [r["run_id"] for r in body["runs"]] == ["run_live"]
    assert body["runs"][0]["holder"] == holder_id()
    own = client.get("/api/runs/run_live/reactor_status").json()["reactor"]
    assert body["reactor"]["velocity"] == own["velocity"]
    assert body["reactor"]["totals"] == own["totals"]
    listed = {r["run_id"]: r for r in client.get("/api/runs").json()["runs"]}
    assert listed["run_live"]["holder"] == holder_id()
    assert client.get("/api/runs/run_old").json()["holder"] == holder_id()
    with client.websocket_connect(f"{WS_BASE}/api/stream/live") as ws:
        message = ws.receive_json()
    assert message["type"] == "live" and message["status"]["runs"][0]["run_id"] == "run_live"


def test_server_start_marks_a_dead_processs_run_interrupted(tmp_path: Path) -> None:
    db = tmp_path / "reap.db"
    store = SQLiteStore(db)
    realistic_run(store, "run_dead", ideas=1, finish=False)
    store.close()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    host = holder_id().rsplit(":", 1)[0]
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET holder = ? WHERE run_id = 'run_dead'", (f"{host}:{gone.pid}",))
    with TestClient(make_app(db), base_url=BASE) as client:
        run = client.get("/api/runs/run_dead").json()
        assert run["status"] == "interrupted" and run["holder"] == f"{host}:{gone.pid}"
        events = client.get("/api/runs/run_dead/events?limit=1000").json()["events"]
        assert events[-1]["name"] == "run.interrupted"
        assert client.get("/api/live/reactor_status").json()["status"] == "idle"


def test_a_run_whose_process_dies_while_serving_turns_interrupted(tmp_path: Path) -> None:
    """The server keeps reaping (every ``reap_every_s``): a run whose process dies while it serves
    leaves the fleet view, and its own stream says ``interrupted``."""
    db = tmp_path / "reap_live.db"
    store = SQLiteStore(db)
    realistic_run(store, "run_dies", ideas=1, finish=False)
    store.close()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    host = holder_id().rsplit(":", 1)[0]
    try:
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE runs SET holder = ? WHERE run_id = 'run_dies'", (f"{host}:{child.pid}",))
        with TestClient(make_app(db, reap_every_s=0.05), base_url=BASE) as client:
            assert [r["run_id"] for r in client.get("/api/live/reactor_status").json()["runs"]] == [
                "run_dies"
            ]
            with client.websocket_connect(f"{WS_BASE}/api/runs/run_dies/stream?format=reactor") as ws:
                assert ws.receive_json()["status"]["status"] == "running"
                child.kill()
                child.wait()
                status = "running"
                while status == "running":  # heartbeats come every second; the reap within 50 ms
                    message = ws.receive_json()
                    status = message["status"]["status"]
                    names = [e["name"] for e in message["events"]]
            assert status == "interrupted" and "run.interrupted" in names
            deadline = time.monotonic() + 5  # the fleet view is at most 0.25 s old
            while client.get("/api/live/reactor_status").json()["status"] != "idle":
                assert time.monotonic() < deadline, "the dead run stayed in the fleet view"
                time.sleep(0.05)
    finally:
        child.kill()
        child.wait()
