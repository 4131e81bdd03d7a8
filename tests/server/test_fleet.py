"""The fleet view (issue 10, item 4): ``serve --db postgresql://…`` lists and streams the runs of
several ``run-batch`` OS processes writing to one PostgreSQL store, shows who runs each (host:pid),
aggregates them in ``/api/live/reactor_status`` on the shared ledger windows, and marks dead runs
interrupted when it starts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from brain_agent.storage import open_store
from brain_agent.storage.liveness import holder_id
from serving import serve_process

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


def _batch(db: str, seed: int, pace: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "brain_agent.cli",
            "run-batch",
            "--generate",
            "5",
            "--seed",
            str(seed),
            "--config",
            str(REPO / "configs" / "demo_budget.json"),
            "--db",
            db,
            "--pace",
            pace,
            "--simulate",
            "local",
            "--json",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_serve_on_postgresql_lists_and_streams_runs_of_two_processes(pg_url: str, tmp_path: Path) -> None:
    with serve_process(pg_url, tmp_path / "serve.log") as (base, _proc):  # type: ignore[arg-type]
        ws_base = base.replace("http://", "ws://")
        with connect(f"{ws_base}/api/stream/live") as live:
            first = json.loads(live.recv(timeout=10))
            assert first["type"] == "live" and first["status"]["status"] == "idle"
            batches = [_batch(pg_url, 11, "0.15"), _batch(pg_url, 12, "0.15")]
            pids = {p.pid for p in batches}
            # the fleet stream sees both processes' runs running at once
            seen_together: dict[str, Any] | None = None
            events_by_run: dict[str, int] = {}
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                message = json.loads(live.recv(timeout=30))
                assert message["type"] == "live"
                status = message["status"]
                holders = {r["holder"] for r in status["runs"]}
                both = len(status["runs"]) == 2 and {int(h.rsplit(":", 1)[1]) for h in holders} == pids
                rings = {r["scope"]: r for r in (status.get("reactor") or {}).get("rings", [])}
                if both and "day" in rings and rings["day"]["spent"] > 0:
                    seen_together = status
                    break
            assert seen_together is not None, "the fleet view never showed both runs running and spending"
            run_ids = [r["run_id"] for r in seen_together["runs"]]
            reactor = seen_together["reactor"]
            assert reactor is not None
            assert reactor["velocity"]["tokens_per_s"] == pytest.approx(
                sum(r["tokens_per_s"] for r in seen_together["runs"]), abs=1e-5
            )
            assert reactor["pressure"] >= max(r["pressure"] for r in seen_together["runs"])
            # each run streams its own events over its own stream
            for run_id in run_ids:
                with connect(f"{ws_base}/api/runs/{run_id}/stream") as ws:
                    snap = json.loads(ws.recv(timeout=10))
                    assert snap["type"] == "snapshot" and snap["run_id"] == run_id
                    events_by_run[run_id] = len(snap["events"])
                    assert all(e["run_id"] == run_id for e in snap["events"])
            assert all(n > 0 for n in events_by_run.values()), events_by_run
            reports = []
            for p in batches:
                out, err = p.communicate(timeout=120)
                assert p.returncode == 0, err.decode()
                reports.append(json.loads(out))
        assert sorted(r["run_id"] for r in reports) == sorted(run_ids)
        finals: list[dict[str, Any]] = []
        with httpx.Client(base_url=base) as http:
            listed = {r["run_id"]: r for r in http.get("/api/runs").json()["runs"]}
            for report, proc in zip(reports, batches, strict=True):
                row = listed[report["run_id"]]
                assert row["status"] == "completed"
                assert row["holder"].endswith(f":{proc.pid}")
                detail = http.get(f"/api/runs/{report['run_id']}").json()
                assert detail["holder"] == row["holder"]
                rest = http.get(f"/api/runs/{report['run_id']}/reactor_status").json()
                assert rest["reactor"]["totals"]["calls"] == sum(t["calls"] for t in report["lanes"].values())
                finals.append(rest)
            # the fleet view is recomputed at most every 0.25 s from what the hub has folded: wait for it
            deadline = time.monotonic() + 15
            idle = http.get("/api/live/reactor_status").json()
            while idle["status"] != "idle" and time.monotonic() < deadline:
                time.sleep(0.1)
                idle = http.get("/api/live/reactor_status").json()
        assert idle["status"] == "idle" and idle["runs"] == [] and "reactor" not in idle
        # the fleet's day ring was the shared ledger window: at least both runs' spend so far
        day = {r["scope"]: r for r in reactor["rings"]}["day"]
        store = open_store(pg_url)
        try:
            [day_key] = store.ledger.scope_keys("day:")
            final = store.ledger.usage([day_key], now=time.time())[day_key]
        finally:
            store.close()
        assert 0 < day["spent"] <= final.spent
        assert final.spent == sum(r["reactor"]["totals"]["total_tokens"] for r in finals)


def test_serve_marks_runs_of_dead_processes_interrupted(pg_url: str, tmp_path: Path) -> None:
    """A run whose process was SIGKILLed stays ``running`` in the store; serve marks it
    ``interrupted`` when it starts (the holder is on this host and its pid is gone)."""
    victim = _batch(pg_url, 13, "0.5")
    store = open_store(pg_url)
    try:
        deadline = time.monotonic() + 60
        while not store.list_runs(5) and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(victim.pid, signal.SIGKILL)
        victim.communicate(timeout=10)
        [row] = store.list_runs(5)
        assert row["status"] == "running" and row["holder"] == f"{holder_id().rsplit(':', 1)[0]}:{victim.pid}"
    finally:
        store.close()
    with (
        serve_process(pg_url, tmp_path / "serve.log") as (base, _proc),  # type: ignore[arg-type]
        httpx.Client(base_url=base) as http,
    ):
        [listed] = http.get("/api/runs").json()["runs"]
        assert listed["run_id"] == row["run_id"]
        assert listed["status"] == "interrupted"
        events = http.get(f"/api/runs/{row['run_id']}/events?limit=1000").json()["events"]
        assert events[-1]["name"] == "run.interrupted"
        assert events[-1]["payload"]["holder"] == row["holder"]
        assert http.get("/api/live/reactor_status").json()["status"] == "idle"
