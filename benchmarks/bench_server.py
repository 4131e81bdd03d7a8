"""Dashboard server speed: ``python benchmarks/bench_server.py [--events 1000000] [--clients 50]``.

1. reactor_status latency on a run with N events (target p95 <= 20 ms), after the one-time fold.
2. first look: the first reactor_status after a server (re)start, once with no checkpoints (the fold
   that writes them) and then on several fresh servers that start from the stored checkpoints
   (target <= 1 s); replay ``?at=`` at random events of the run (target p95 <= 200 ms).
3. 20,000 requests for unknown run ids: the server's resident memory before and after.
4. append-to-push latency with C WebSocket clients on a real uvicorn, events appended by another
   process (target p95 <= 100 ms). Latency = receive time - the event's ``ts`` (same host clock).
5. events/s ingested by the server's poller while it serves those clients.
Prints a table and writes JSON to benchmarks/results/bench_server.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

from brain_agent.storage.checkpoint_store import CheckpointStore
from brain_agent.storage.sqlite_store import SQLiteStore

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "server"))
from eventgen import idea_events, metadata  # noqa: E402

WRITER = """
import sys, time
from brain_agent.storage.sqlite_store import SQLiteStore
db, run_id, n, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
store = SQLiteStore(db)
t0 = time.perf_counter()
for i in range(n):
    if rate > 0:
        delay = t0 + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    store.append_event(run_id, "llm.call", {"prompt_tokens": 100, "completion_tokens": 10, "cost": "0.001"},
                       step="llm", lane="exploit", idea_id="i%d" % (i % 7))
"""


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def build_big_run(db: Path, n_events: int) -> str:
    store = SQLiteStore(db)
    run_id = store.create_run("bench", run_id="run_big")
    t = time.time() - n_events * 0.01
    with store.transaction():
        metadata(store, run_id, ts=t)
    written, idea = 1, 0
    while written < n_events:
        with store.transaction():  # one transaction per 500 ideas, through the public append path
            for _ in range(500):
                written += len(
                    idea_events(store, run_id, idea, fallback=idea % 7 == 1, ts=t + written * 0.01)
                )
                idea += 1
                if written >= n_events:
                    break
    store.close()
    return run_id


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "brain_agent.cli", "serve", "--port", str(port), "--db", str(db),
         "--web-dir", str(db.parent / "no-hud"), "--log-level", "warning"],
    )  # fmt: skip
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("server did not start")


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def first_look(db: Path, run_id: str, restarts: int, seeks: int) -> dict[str, Any]:
    """First reactor_status per fresh server (from checkpoints) and ``?at=`` latency."""
    import random

    firsts: list[float] = []
    at_ms: list[float] = []
    rng = random.Random(7)
    store = SQLiteStore(db)
    lo, hi = store.events(run_id, limit=1)[0].id, store.last_event_id(run_id)
    rows, size = CheckpointStore(store).size(run_id)
    store.close()
    for i in range(restarts):
        port = free_port()
        proc = start_server(db, port)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as http:
                t = time.perf_counter()
                assert http.get(f"/api/runs/{run_id}/reactor_status").status_code == 200
                firsts.append(time.perf_counter() - t)
                if i == 0:
                    for _ in range(seeks):
                        at = rng.randint(lo, hi)
                        t = time.perf_counter()
                        r = http.get(f"/api/runs/{run_id}/reactor_status", params={"at": at})
                        at_ms.append((time.perf_counter() - t) * 1000)
                        assert r.status_code == 200 and r.json()["at"] == at
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    return {
        "checkpoints": rows,
        "checkpoint_bytes": size,
        "first_status_s": {"median": round(statistics.median(firsts), 3), "max": round(max(firsts), 3),
                           "runs": [round(x, 3) for x in firsts]},
        "at_ms": {"p50": round(pct(at_ms, 0.5), 1), "p95": round(pct(at_ms, 0.95), 1),
                  "max": round(max(at_ms), 1), "n": len(at_ms)},
    }  # fmt: skip


def unknown_ids(base: str, pid: int, n: int) -> dict[str, Any]:
    """n requests for run ids that do not exist: resident memory must not grow with n."""
    before = rss_kb(pid)
    with httpx.Client(base_url=base, timeout=60) as http:
        for i in range(n // 10):  # warm-up: allocator pools, route caches
            http.get(f"/api/runs/warm{i}/reactor_status")
        warm = rss_kb(pid)
        for i in range(n):
            assert http.get(f"/api/runs/missing{i}/reactor_status").status_code == 404
        health = http.get("/api/health").json()
    after = rss_kb(pid)
    return {"requests": n, "rss_kb_start": before, "rss_kb_after_warmup": warm, "rss_kb_after": after,
            "growth_kb": after - warm, "runs_cached": health["runs_cached"]}  # fmt: skip


def bench_status(base: str, run_id: str, requests: int) -> dict[str, Any]:
    with httpx.Client(base_url=base, timeout=600) as http:
        t0 = time.perf_counter()
        first = http.get(f"/api/runs/{run_id}/reactor_status")
        fold_s = time.perf_counter() - t0
        assert first.status_code == 200, first.text
        lat: dict[str, list[float]] = {"both": [], "reactor": []}
        for fmt in lat:
            for _ in range(requests):
                t = time.perf_counter()
                r = http.get(f"/api/runs/{run_id}/reactor_status", params={"format": fmt})
                lat[fmt].append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200
    return {
        "events": first.json()["cursor"],
        "first_request_fold_s": round(fold_s, 2),
        "bytes": len(first.content),
        **{f"{fmt}_ms": {"p50": round(pct(v, 0.5), 2), "p95": round(pct(v, 0.95), 2),
                         "mean": round(statistics.mean(v), 2)} for fmt, v in lat.items()},
    }  # fmt: skip


async def bench_push(ws_base: str, db: Path, clients: int, n_events: int, rate: float) -> dict[str, Any]:
    store = SQLiteStore(db)
    run_id = store.create_run("bench", run_id=f"run_live_{int(rate)}")
    store.append_event(run_id, "metadata_sync", {"budget": {"limits": {"batch": 10**9}}})
    latencies: list[float] = []
    received = [0] * clients
    cursors = [0] * clients
    stop = asyncio.Event()

    async def client(i: int) -> None:
        async with websockets.connect(f"{ws_base}/api/runs/{run_id}/stream", max_size=None) as ws:
            await ws.recv()  # snapshot
            ready.release()
            while not stop.is_set():
                try:
                    raw = await asyncio.wait_for(ws.recv(), 0.5)
                except TimeoutError:
                    continue
                now = time.time()
                message = json.loads(raw)
                cursors[i] = message["cursor"]
                for e in message["events"]:
                    latencies.append((now - e["ts"]) * 1000)
                    received[i] += 1

    ready = asyncio.Semaphore(0)
    tasks = [asyncio.create_task(client(i)) for i in range(clients)]
    for _ in range(clients):
        await ready.acquire()
    t0 = time.perf_counter()
    writer = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WRITER, str(db), run_id, str(n_events), str(rate), env=dict(os.environ)
    )
    await writer.wait()
    write_s = time.perf_counter() - t0
    last_id = store.last_event_id(run_id)
    deadline = time.monotonic() + 60
    while min(cursors) < last_id and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    ingest_s = time.perf_counter() - t0
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "clients": clients, "events": n_events, "target_rate_per_s": rate or "max",
        "writer_events_per_s": round(n_events / write_s),
        "delivered_events_per_s_per_client": round(n_events / ingest_s),
        "all_caught_up": min(cursors) >= last_id,
        "events_in_messages_min": min(received),
        "push_ms": {"p50": round(pct(latencies, 0.5), 1), "p95": round(pct(latencies, 0.95), 1),
                    "p99": round(pct(latencies, 0.99), 1), "max": round(max(latencies), 1)},
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--restarts", type=int, default=5, help="fresh servers for the first-look median")
    parser.add_argument("--seeks", type=int, default=100, help="?at= requests at random events")
    parser.add_argument("--unknown", type=int, default=20_000, help="requests for unknown run ids")
    parser.add_argument("--skip-push", action="store_true", help="skip the WebSocket push benchmarks")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "bench_server.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-server-") as tmp:
        db = Path(tmp) / "bench.db"
        t0 = time.perf_counter()
        run_id = build_big_run(db, args.events)
        build_s = time.perf_counter() - t0
        port = free_port()
        proc = start_server(db, port)
        try:
            status = bench_status(f"http://127.0.0.1:{port}", run_id, args.requests)
            unknown = unknown_ids(f"http://127.0.0.1:{port}", proc.pid, args.unknown)
            ws_base = f"ws://127.0.0.1:{port}"
            steady = flood = None
            if not args.skip_push:
                steady = asyncio.run(bench_push(ws_base, db, args.clients, 2000, 200.0))
                flood = asyncio.run(bench_push(ws_base, db, args.clients, 20_000, 0.0))
        finally:
            proc.terminate()
            proc.wait(timeout=20)
        look = first_look(db, run_id, args.restarts, args.seeks)
    result = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "build_store_s": round(build_s, 1),
        "reactor_status": status,
        "first_look": look,
        "unknown_run_ids": unknown,
        "push_steady": steady,
        "push_flood": flood,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    rows = [
        (
            f"reactor_status p95, run of {status['events']} events (target <= 20 ms)",
            f"{status['both_ms']['p95']} ms",
        ),
        ("  p50 / format=reactor p95", f"{status['both_ms']['p50']} ms / {status['reactor_ms']['p95']} ms"),
        ("  first request, no checkpoints yet (folds, writes them)", f"{status['first_request_fold_s']} s"),
        (f"first reactor_status, fresh server, median of {len(look['first_status_s']['runs'])} (<= 1 s)",
         f"{look['first_status_s']['median']} s (max {look['first_status_s']['max']} s)"),
        (f"?at= random event, p95 of {look['at_ms']['n']} (target <= 200 ms)",
         f"{look['at_ms']['p95']} ms (p50 {look['at_ms']['p50']} ms)"),
        ("  checkpoints stored", f"{look['checkpoints']} rows, {look['checkpoint_bytes'] / 1e6:.1f} MB"),
        (f"{unknown['requests']} unknown run ids: RSS growth after warm-up",
         f"{unknown['growth_kb']} kB (runs cached {unknown['runs_cached']})"),
    ]  # fmt: skip
    if steady and flood:
        rows += [
            (f"append->push p95, {steady['clients']} clients, 200 ev/s (target <= 100 ms)",
             f"{steady['push_ms']['p95']} ms"),
            ("  p50 / p99", f"{steady['push_ms']['p50']} / {steady['push_ms']['p99']} ms"),
            (f"ingest while serving {flood['clients']} clients (writer flat out)",
             f"{flood['delivered_events_per_s_per_client']} ev/s"),
            ("  writer rate / push p95 under flood",
             f"{flood['writer_events_per_s']} ev/s / {flood['push_ms']['p95']} ms"),
        ]  # fmt: skip
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print(f"-> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
