from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from brain_agent.errors import NotFoundError, StoreError
from brain_agent.storage import LLMCallRecord, SQLiteStore

WRITER = """
import sys
from brain_agent.storage import SQLiteStore
store = SQLiteStore(sys.argv[1])
for i in range(int(sys.argv[3])):
    store.append_event(sys.argv[2], "test.tick", {"i": i, "writer": sys.argv[4]})
"""


def test_migrations_are_named_and_applied_once(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    store = SQLiteStore(db)
    names = [r[0] for r in store.conn.execute("SELECT name FROM schema_migrations ORDER BY name")]
    assert names[0] == "0001_core"
    assert SQLiteStore(db).migrate() == []
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_events_page_by_cursor(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    run = store.create_run("test")
    other = store.create_run("test")
    ids = [store.append_event(run, "e", {"n": n}, step="x", lane="explore") for n in range(5)]
    store.append_event(other, "e", {})
    page = store.events(run, after=ids[1], limit=2)
    assert [e.payload["n"] for e in page] == [2, 3]
    assert page[0].lane == "explore" and page[0].run_id == run
    assert store.last_event_id(run) == ids[-1]


def test_runs_and_not_found(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    a = store.create_run("batch", {"x": 1})
    b = store.create_run("batch")
    store.finish_run(a, "completed", {"tokens": 10})
    assert [r["run_id"] for r in store.list_runs()] == [b, a]
    assert store.get_run(a)["summary"] == {"tokens": 10}
    with pytest.raises(NotFoundError, match="nope"):
        store.get_run("nope")


def test_llm_call_log_and_cache_lookup(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    failed = LLMCallRecord(provider="p", model="m", purpose="alpha", request_key="k", error="boom")
    store.record_llm_call(failed)
    assert store.cached_response("k") is None
    store.record_llm_call(
        LLMCallRecord(
            provider="p", model="m", purpose="alpha", request_key="k", output=5, response_text="rank(x)"
        )
    )
    hit = store.cached_response("k")
    assert hit is not None and hit["response_text"] == "rank(x)" and hit["output"] == 5


def test_concurrent_writers_in_separate_processes(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    store = SQLiteStore(db)
    run = store.create_run("test")
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(db), run, "150", str(w)]) for w in range(4)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    events = store.events(run, limit=10_000)
    assert len(events) == 600
    assert [e.id for e in events] == sorted(e.id for e in events)
    for w in range(4):
        assert [e.payload["i"] for e in events if e.payload["writer"] == str(w)] == list(range(150))


OPENER = """
import sys, time
from brain_agent.storage import SQLiteStore
print("ready", flush=True)
started = time.monotonic()
SQLiteStore(sys.argv[1]).list_runs()
print(round(time.monotonic() - started, 2))
"""


def test_a_fresh_store_opens_while_another_process_writes_to_the_file(tmp_path: Path) -> None:
    """Several processes opening one new store at once (CI's first failure of its kind): turning the
    file to WAL needs an exclusive lock; while another process holds the write lock, SQLite says
    "database is locked" at once instead of waiting. The opener must wait, as for any other write."""
    db = tmp_path / "fresh.db"
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # the write lock on a file still in rollback-journal mode
    try:
        opener = subprocess.Popen(
            [sys.executable, "-c", OPENER, str(db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert opener.stdout is not None and opener.stdout.readline().strip() == "ready"  # imports done
        time.sleep(1.0)
        assert opener.poll() is None, "the opener gave up instead of waiting"
        holder.execute("COMMIT")
    finally:
        holder.close()
    out, err = opener.communicate(timeout=60)
    assert opener.returncode == 0, err
    assert float(out) >= 0.5, "the store opened while the other process still held the lock"
    check = sqlite3.connect(db)
    assert check.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    check.close()


def test_opening_a_store_again_keeps_the_process_locks(tmp_path: Path) -> None:
    """Opening the store a second time in a process (a command that opens it twice, a test polling
    it) must not drop the POSIX locks its open connections hold: closing any descriptor of a file
    drops them all, after which another process's last close takes the exclusive lock, folds the
    write-ahead log in and deletes it under our connections (a store then reads as "malformed")."""
    db = tmp_path / "s.db"
    first = SQLiteStore(db)
    run = first.create_run("test")
    wal = Path(f"{db}-wal")
    assert wal.exists()
    second = SQLiteStore(db)
    closer = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
        "c.execute('SELECT 1 FROM runs').fetchall(); c.close()"
    )
    subprocess.run([sys.executable, "-c", closer, str(db)], check=True, timeout=60)
    assert wal.exists(), "another process deleted the write-ahead log while this one had the store open"
    first.append_event(run, "test.tick", {"i": 1})
    assert [e.payload["i"] for e in second.events(run)] == [1]
    first.close()
    second.close()


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match=str(bad)):
        SQLiteStore(bad)
    assert isinstance(sqlite3.sqlite_version, str)
