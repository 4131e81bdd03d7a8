"""The ledger under real OS processes: ≥ 8 processes hammer one store file with a small daily cap;
a process killed with SIGKILL while holding reservations loses nothing it acknowledged."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from brain_agent.generation.budget import FakeClock, day_window, week_window
from brain_agent.storage import SQLiteStore, open_store
from brain_agent.storage.ledger_store import LedgerStore
from processes import finish_all

from .conftest import PRICES

WORKER = Path(__file__).with_name("ledger_worker.py")
SRC = Path(__file__).resolve().parents[2] / "src"


def _spawn(db: Path, mode: str, worker: int, calls: int, config: dict[str, object]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            str(WORKER),
            str(db),
            mode,
            str(worker),
            str(calls),
            json.dumps(config),
            str(PRICES),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC)},
    )


@pytest.mark.slow
def test_eight_processes_never_pass_the_daily_cap(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    cap = 40_000
    config = {
        "max_tokens_per_day": cap,
        "max_tokens_per_batch": 1_000_000,
        "expansion_reserve_tokens": 0,
        "max_cost_per_day": None,
        "max_cost_per_week": None,
    }
    ledger = LedgerStore(SQLiteStore(db))
    procs = [_spawn(db, "hammer", w, 60, config) for w in range(8)]
    day_key = f"day:{day_window(time.time(), 'UTC').key}"
    samples = 0
    while any(p.poll() is None for p in procs):  # watch from a ninth process while they run
        used = ledger.usage([day_key], now=time.time())[day_key]
        assert used.spent + used.reserved <= cap, used
        samples += 1
    acknowledged = 0
    refused = 0
    for p, (out, err) in zip(procs, finish_all(procs, timeout=60), strict=True):
        assert p.returncode == 0, err
        for line in out.splitlines():
            item = json.loads(line)
            acknowledged += item.get("tokens", 0)
            refused += item.get("refused", 0)
    final = ledger.usage([day_key], now=time.time())[day_key]
    assert final.reserved == 0
    assert final.spent == acknowledged  # nothing lost, nothing double-counted
    assert final.spent <= cap
    assert refused > 0  # the cap really was contended
    assert cap - final.spent < 2_500  # and it was used up, not starved by phantom holds
    assert samples > 0


@pytest.mark.slow
def test_sigkill_while_holding(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    lease = 5.0
    config = {
        "lease_seconds": lease,
        "max_tokens_per_day": 8_000,
        "max_cost_per_day": None,
        "max_cost_per_week": None,
    }
    proc = _spawn(db, "hold", 1, 0, config)
    assert proc.stdout is not None
    acknowledged: list[str] = []
    held: list[str] = []
    for line in proc.stdout:
        if line.strip() == "READY":
            break
        item = json.loads(line)
        acknowledged += [item["settled"]] if "settled" in item else []
        held = item.get("held", held)
    assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
    os.kill(proc.pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, err

    ledger = LedgerStore(SQLiteStore(db))
    now = time.time()
    day_key = f"day:{day_window(now, 'UTC').key}"
    week_key = f"week:{week_window(now, 'UTC').key}"
    before = ledger.usage([day_key], now=now)[day_key]
    assert (before.spent, before.reserved) == (2400, 4500)  # the dead process still pins its holds ...
    after_lease = FakeClock(now + lease + 1)
    usage = ledger.usage([day_key, week_key], now=after_lease.now())
    assert (usage[day_key].spent, usage[day_key].reserved) == (2400, 0)  # ... until its lease lapses
    assert ledger.expire(now=after_lease.now()) == 3
    assert {r.reservation_id for r in ledger.reservations(state="expired")} == set(held)
    assert {r.reservation_id for r in ledger.reservations(state="settled")} == set(acknowledged)
    from brain_agent.storage.ledger_store import Charge

    assert (
        ledger.reserve("fresh", [Charge(day_key, 5600, 8000)], now=after_lease.now(), lease_seconds=60)
        is None
    )


@pytest.mark.slow
def test_postgresql_eight_processes_and_a_sigkill_never_pass_the_cap(pg_url: str) -> None:
    """≥ 8 OS processes with their own connections hammer a small day cap on a real PostgreSQL
    server while a ninth holds three reservations and is SIGKILLed. Read from the database
    directly: spent + live holds never pass the cap, everything acknowledged is booked once, and the
    dead process's holds come back after their lease."""
    import psycopg

    cap, lease = 40_000, 5.0
    config = {
        "max_tokens_per_day": cap,
        "max_tokens_per_batch": 1_000_000,
        "expansion_reserve_tokens": 0,
        "max_cost_per_day": None,
        "max_cost_per_week": None,
        "lease_seconds": lease,
    }
    holder = _spawn(pg_url, "hold", 99, 0, config)  # type: ignore[arg-type]
    assert holder.stdout is not None
    for line in holder.stdout:
        if line.strip() == "READY":
            break
    procs = [_spawn(pg_url, "hammer", w, 60, config) for w in range(8)]  # type: ignore[arg-type]
    os.kill(holder.pid, signal.SIGKILL)
    holder.communicate(timeout=30)
    day_key = f"day:{day_window(time.time(), 'UTC').key}"

    def direct() -> tuple[int, int]:
        with psycopg.connect(pg_url) as conn:
            row = conn.execute(
                "SELECT COALESCE(SUM(CASE WHEN state = 'settled' THEN spent ELSE 0 END), 0), "
                "COALESCE(SUM(CASE WHEN state = 'held' AND lease_expires > %s THEN reserved ELSE 0 END), 0) "
                "FROM budget_charges WHERE scope_key = %s",
                (time.time(), day_key),
            ).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])

    samples = 0
    while any(p.poll() is None for p in procs):
        spent, held = direct()
        assert spent + held <= cap, (spent, held)
        samples += 1
        time.sleep(0.05)
    acknowledged = 2 * 1200  # the killed process settled two calls before it held three
    for p, (out, err) in zip(procs, finish_all(procs, timeout=60), strict=True):
        assert p.returncode == 0, err
        acknowledged += sum(json.loads(line).get("tokens", 0) for line in out.splitlines())
    time.sleep(max(0.0, lease + 0.5))
    spent, held = direct()
    assert held == 0 and spent == acknowledged and spent <= cap
    assert samples > 0
    ledger = LedgerStore(open_store(pg_url))
    usage = ledger.usage([day_key], now=time.time())[day_key]
    assert (usage.spent, usage.reserved) == (spent, 0)  # the counters agree with the charge rows
    ledger.store.close()
