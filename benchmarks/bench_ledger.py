"""The reservation ledger under load: 8 OS processes reserving against one small day cap, and the
cost of a reservation as the window's history grows.

- ``concurrent``: 8 processes each run reserve → settle (≤ reserved) as fast as they can against one
  store; reported: reservations per second (admitted + refused), p50 / p99 / max reserve latency,
  and whether exactly the cap was admitted (spent + held ≤ cap, and the cap used up).
- ``history``: reserve p50 on an empty window and after 2,000 / 20,000 / 100,000 settled calls in
  the same window (a counter row per scope: the cost should not grow).

Prints a table and writes ``benchmarks/results/ledger.json``. ``--backend postgresql://…`` runs the
same on a PostgreSQL server when the store supports it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

sys.path.insert(0, str(ROOT / "tests"))

from brain_agent.storage import open_store  # noqa: E402
from brain_agent.storage.ledger_store import Charge  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
CAP = 12_000_000
"""About 12,000 admitted reservations of ~1,000 tokens: every process stops at its first refusal."""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def worker(db: str, seconds: float, seed: int) -> None:
    """One process: reserve 1,000 tokens against day + week + batch, settle 600, until time is up."""
    import random

    ledger = open_store(db).ledger
    rng = random.Random(seed)
    lat: list[float] = []
    admitted = refused = 0
    end = time.perf_counter() + seconds
    last_admit = time.time()
    n = 0
    while time.perf_counter() < end:
        n += 1
        rid = f"w{seed}-{n}"
        amount = rng.randint(500, 1500)
        charges = [
            Charge("day:bench", amount, CAP),
            Charge("week:bench", amount, None),
            Charge(f"batch:{seed}", amount, None),
        ]
        t0 = time.perf_counter()
        refusal = ledger.reserve(rid, charges, now=time.time(), lease_seconds=60)
        lat.append((time.perf_counter() - t0) * 1000)
        if refusal is not None:
            refused += 1
            break  # the cap is reached: what is left is less than one call
        admitted += 1
        last_admit = time.time()
        actual = {c.scope_key: amount * 3 // 5 for c in charges}
        ledger.settle(rid, actual, now=time.time(), tokens=amount, pico=0)
    print(json.dumps({"admitted": admitted, "refused": refused, "lat": lat, "last_admit": last_admit}))


def concurrent(backend: str, processes: int, seconds: float, new_db: Any) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "ledger.db") if backend == "sqlite" else new_db()
        open_store(db).close()
        procs = [
            subprocess.Popen(
                [sys.executable, __file__, "--worker", db, str(seconds), str(i)],
                stdout=subprocess.PIPE,
                text=True,
            )
            for i in range(processes)
        ]
        started = time.time()
        lat: list[float] = []
        admitted = refused = 0
        last = started
        for p in procs:
            out, _ = p.communicate(timeout=seconds + 120)
            item = json.loads(out.strip().splitlines()[-1])
            lat += item["lat"]
            admitted += item["admitted"]
            refused += item["refused"]
            last = max(last, item["last_admit"])
        store = open_store(db)
        usage = store.ledger.usage(["day:bench"], now=time.time())["day:bench"]
        store.close()
    return {
        "backend": backend,
        "processes": processes,
        "reservations": admitted + refused,
        "per_second": round(admitted / max(last - started, 1e-9)),
        "admitted": admitted,
        "refused": refused,
        "p50_ms": round(statistics.median(lat), 3),
        "p99_ms": round(pct(lat, 0.99), 3),
        "max_ms": round(max(lat), 3),
        "spent_plus_held": usage.spent + usage.reserved,
        "cap": CAP,
        "within_cap": usage.spent + usage.reserved <= CAP,
    }


def history(backend: str, sizes: list[int], new_db: Any, probes: int = 300) -> list[dict[str, Any]]:
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            store = open_store(str(Path(tmp) / "h.db") if backend == "sqlite" else new_db())
            with store.transaction() as conn:  # a window with `size` settled calls, written in bulk
                conn.executemany(
                    "INSERT INTO budget_reservations (reservation_id, state, holder, created_at, "
                    "lease_expires, reserved_tokens) VALUES (?, 'settled', 'bench', 0, 0, 1000)",
                    [(f"h{i}",) for i in range(size)],
                )
                conn.executemany(
                    "INSERT INTO budget_charges (reservation_id, scope_key, unit, state, lease_expires, "
                    "reserved, spent) VALUES (?, ?, 'tokens', 'settled', 0, 1000, 900)",
                    [(f"h{i}", key) for i in range(size) for key in ("day:bench", "week:bench")],
                )
                conn.execute(
                    "INSERT INTO budget_counters (scope_key, spent, held) VALUES ('day:bench', ?, 0), "
                    "('week:bench', ?, 0)",
                    (900 * size, 900 * size),
                )
            ledger = store.ledger
            lat = []
            for i in range(probes):
                t0 = time.perf_counter()
                ledger.reserve(
                    f"p{i}",
                    [Charge("day:bench", 1000, 10**12), Charge("week:bench", 1000, 10**12)],
                    now=time.time(),
                    lease_seconds=60,
                )
                lat.append((time.perf_counter() - t0) * 1000)
                ledger.release(f"p{i}", now=time.time(), reason="bench")
            rows.append(
                {
                    "backend": backend,
                    "settled_in_window": size,
                    "reserve_p50_ms": round(statistics.median(lat), 3),
                }
            )
            store.close()
    base = rows[0]["reserve_p50_ms"]
    for row in rows:
        row["vs_empty"] = round(row["reserve_p50_ms"] / base, 2)
    return rows


def table(title: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n## {title}")
    keys = list(rows[0])
    widths = {k: max(len(k), *(len(str(r[k])) for r in rows)) for k in keys}
    print("  ".join(k.ljust(widths[k]) for k in keys))
    for r in rows:
        print("  ".join(str(r[k]).ljust(widths[k]) for k in keys))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", nargs=3, metavar=("DB", "SECONDS", "SEED"))
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0, help="upper bound per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    if args.worker:
        db, seconds, seed = args.worker
        worker(db, float(seconds), int(seed))
        return
    backends = ["sqlite"]
    server = None
    new_db: Any = None
    if not args.sqlite_only:
        import pgserver

        if pgserver.available():
            server = pgserver.ThrowawayPostgres().start()
            new_db = server.new_database
            backends.append("postgresql")
        else:
            print("PostgreSQL is not installed here: SQLite only")
    try:
        medians, all_runs, hist = [], [], []
        for backend in backends:  # side by side in one run
            runs = sorted(
                (concurrent(backend, args.processes, args.seconds, new_db) for _ in range(args.runs)),
                key=lambda r: r["per_second"],
            )
            all_runs += runs
            medians.append(runs[len(runs) // 2])
            hist_runs = [history(backend, [0, 2_000, 20_000, 100_000], new_db) for _ in range(args.runs)]
            rows = []
            for i, row in enumerate(hist_runs[0]):
                values = sorted(h[i]["reserve_p50_ms"] for h in hist_runs)
                rows.append({**row, "reserve_p50_ms": values[len(values) // 2]})
            for row in rows:
                row["vs_empty"] = round(row["reserve_p50_ms"] / rows[0]["reserve_p50_ms"], 2)
            hist += rows
    finally:
        if server is not None:
            server.stop()
    median = medians
    result = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_avg_1m": round(os.getloadavg()[0], 2),
            "runs": args.runs,
        },
        "concurrent": all_runs,
        "concurrent_median": median,
        "history": hist,
    }
    table(f"{args.processes} processes until the cap (median of {args.runs} runs by throughput)", median)
    table(f"reserve p50 vs settled calls in the window (median of {args.runs} runs)", hist)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "ledger.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
