"""The fleet view's cost: one ``/api/live/reactor_status`` computation (``Hub.fleet``, cache off)
with N running runs, on SQLite and on a throwaway PostgreSQL server, side by side.

Each run is a realistic event sequence (``tests/server/eventgen.py``) whose reservations name a shared
day scope, so every computation also reads the shared ledger window. The runs' views are folded once
(as a serving process would have them); what is timed is what each fleet request/stream tick costs:
the ingest check, the runs list, N composed views, the ledger read and the aggregate.

Prints a table and writes ``benchmarks/results/fleet.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from brain_agent.server.hub import Hub
from brain_agent.storage import open_store
from brain_agent.telemetry import events as ev

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT / "tests" / "server"))
sys.path.insert(0, str(ROOT / "tests"))
from eventgen import realistic_run  # noqa: E402

DAY_KEY = "day:2026-12-07@UTC"


def populate(db: str, runs: int, ideas: int) -> None:
    store = open_store(db)
    try:
        for i in range(runs):
            run_id = f"run_{i:03d}"
            realistic_run(store, run_id, ideas=ideas, finish=False)  # type: ignore[arg-type]
            store.append_event(
                run_id,
                ev.BUDGET_RESERVED,
                {"reservation_id": f"r{i}", "tokens": 1000, "cost": "0.001", "scopes": ["batch", DAY_KEY]},
            )
    finally:
        store.close()


async def measure(db: str, iterations: int) -> dict[str, float]:
    hub = Hub(db)
    try:
        await hub.fleet()  # fold every run once, as a serving process has them
        times = []
        for _ in range(iterations):
            hub._fleet = None  # the 0.25 s cache off: time the computation itself
            start = time.perf_counter()
            out = await hub.fleet()
            times.append((time.perf_counter() - start) * 1000)
        assert out["status"] == "running"
        times.sort()
        return {
            "p50_ms": round(statistics.median(times), 3),
            "p95_ms": round(times[int(0.95 * (len(times) - 1))], 3),
            "members": len(out["runs"]),
        }
    finally:
        await hub.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--ideas", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    server: Any = None
    backends = ["sqlite"]
    if not args.sqlite_only:
        import pgserver

        if pgserver.available():
            server = pgserver.ThrowawayPostgres().start()
            backends.append("postgresql")
        else:
            print("PostgreSQL is not installed here: SQLite only")
    rows: list[dict[str, Any]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp:
            for backend in backends:
                for n in args.runs:
                    samples = []
                    for k in range(args.repeat):
                        db = str(Path(tmp) / f"{n}-{k}.db") if backend == "sqlite" else server.new_database()
                        populate(db, n, args.ideas)
                        samples.append(asyncio.run(measure(db, args.iterations)))
                    samples.sort(key=lambda s: s["p50_ms"])
                    mid = samples[len(samples) // 2]
                    rows.append(
                        {
                            "backend": backend,
                            "running_runs": n,
                            "p50_ms": mid["p50_ms"],
                            "p95_ms": mid["p95_ms"],
                            "p50_ms_all": [s["p50_ms"] for s in samples],
                        }
                    )
    finally:
        if server is not None:
            server.stop()
    print(f"\nfleet view (Hub.fleet, cache off), median of {args.repeat} stores x {args.iterations} calls")
    print(f"{'backend':<11} {'runs':>5} {'p50 ms':>8} {'p95 ms':>8}  p50 of each store")
    for r in rows:
        each = r["p50_ms_all"]
        print(f"{r['backend']:<11} {r['running_runs']:>5} {r['p50_ms']:>8} {r['p95_ms']:>8}  {each}")
    result = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_avg_1m": round(os.getloadavg()[0], 2),
        },
        "rows": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "fleet.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
