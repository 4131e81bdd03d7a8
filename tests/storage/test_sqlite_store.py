from __future__ import annotations

import sqlite3
import subprocess
import sys
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


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match=str(bad)):
        SQLiteStore(bad)
    assert isinstance(sqlite3.sqlite_version, str)
