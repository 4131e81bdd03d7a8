"""Store files that are not what they should be (issue 12: database problems exit 1)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from brain_agent.storage import SQLiteStore

from .conftest import remount_readonly


def _real_store(path: Path) -> str:
    store = SQLiteStore(path)
    run_id = store.create_run("test")
    for i in range(200):
        store.append_event(run_id, "test.event", {"i": i, "pad": "p" * 300})
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return run_id


def _refused(r: Any, db: Path) -> None:
    assert r.code == 2, r.err
    assert str(db) in r.flat_err
    assert "internal error" not in r.err and "Traceback" not in r.err


def test_a_file_that_is_not_sqlite(cli: Any, tmp_path: Path) -> None:
    db = tmp_path / "notes.txt"
    db.write_text("these are my notes, not a database\n" * 20)
    r = cli("events", "export", "--run", "x", "--db", db)
    _refused(r, db)
    assert db.read_text().startswith("these are my notes"), "the user's file was changed"


def test_a_truncated_store(cli: Any, tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    run_id = _real_store(db)
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 3])
    r = cli("events", "export", "--run", run_id, "--db", db)
    _refused(r, db)


def test_a_store_cut_inside_its_header(cli: Any, tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    _real_store(db)
    db.write_bytes(db.read_bytes()[:50])
    _refused(cli("events", "export", "--run", "x", "--db", db), db)


def test_another_applications_sqlite(cli: Any, tmp_path: Path) -> None:
    db = tmp_path / "other.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE contacts (name TEXT, phone TEXT)")
    conn.execute("INSERT INTO contacts VALUES ('a', '1')")
    conn.commit()
    conn.close()
    r = cli("events", "export", "--run", "x", "--db", db)
    _refused(r, db)
    assert "another application" in r.err
    conn = sqlite3.connect(db)
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    conn.close()
    assert tables == {"contacts"}, "our tables were added to someone else's database"


def test_a_store_from_a_newer_version(cli: Any, tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    _real_store(db)
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO schema_migrations VALUES ('9999_from_the_future', ?)", (time.time(),))
    conn.commit()
    conn.close()
    r = cli("events", "export", "--run", "x", "--db", db)
    _refused(r, db)
    assert "9999_from_the_future" in r.err


def test_a_folder_as_the_store(cli: Any, tmp_path: Path) -> None:
    _refused(cli("events", "export", "--run", "x", "--db", tmp_path), tmp_path)


def test_the_store_folder_under_a_file(cli: Any, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.write_text("x")
    db = plain / "store.db"
    _refused(cli("events", "export", "--run", "x", "--db", db), db)


@pytest.mark.parametrize("tmpfs", ["8m"], indirect=True)
def test_a_read_only_store_can_be_read_but_not_written(cli: Any, tmpfs: Path, tmp_path: Path) -> None:
    db = tmpfs / "store.db"
    run_id = _real_store(db)
    remount_readonly(tmpfs)
    out = tmp_path / "events.jsonl"
    r = cli("events", "export", "--run", run_id, "--db", db, "--output", out)
    assert r.code == 0, r.err
    assert len(out.read_text().splitlines()) == 200
    r = cli(
        "run-idea-agent",
        "--llm-provider",
        "mock",
        "--input",
        _idea(),
        "--output",
        tmp_path / "o.json",
        "--db",
        db,
    )
    _refused(r, db)
    assert "read-only" in r.err


def _idea() -> Path:
    from .conftest import EXAMPLE_IDEA

    return EXAMPLE_IDEA


@pytest.mark.parametrize("size", [1, 17, 99])
def test_stub_headers(cli: Any, tmp_path: Path, size: int) -> None:
    db = tmp_path / "store.db"
    db.write_bytes(b"SQLite format 3\x00\x10\x00"[:size].ljust(size, b"\x00"))
    _refused(cli("events", "export", "--run", "x", "--db", db), db)


@pytest.mark.parametrize("tmpfs", ["8m"], indirect=True)
def test_reading_commands_on_a_read_only_store(cli: Any, tmpfs: Path) -> None:
    db = tmpfs / "store.db"
    _real_store(db)
    remount_readonly(tmpfs)
    r = cli("budget", "status", "--db", db, "--json")
    assert r.code == 0, r.err
    assert "scopes" in r.out


@pytest.mark.parametrize("tmpfs", ["2m"], indirect=True)
def test_a_full_disk_under_the_store_is_exit_4(cli: Any, tmpfs: Path, tmp_path: Path) -> None:
    from .conftest import fill

    db = tmpfs / "store.db"
    SQLiteStore(db).close()
    fill(tmpfs)
    r = cli(
        "run-idea-agent",
        "--llm-provider",
        "mock",
        "--input",
        _idea(),
        "--output",
        tmp_path / "o.json",
        "--db",
        db,
    )
    assert r.code == 4, r.err
    assert "internal error" not in r.err
    assert str(db) in r.flat_err


@pytest.mark.parametrize("tmpfs", ["8m"], indirect=True)
def test_the_dashboard_api_reads_a_read_only_store(tmpfs: Path) -> None:
    from fastapi.testclient import TestClient

    from brain_agent.server import ServerSettings, create_app

    db = tmpfs / "store.db"
    run_id = _real_store(db)
    remount_readonly(tmpfs)
    settings = ServerSettings(
        db=db, host="127.0.0.1", port=0, token=None, allowed_origins=(), web_dir=tmpfs / "no-hud"
    )
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        assert [r["run_id"] for r in client.get("/api/runs").json()["runs"]] == [run_id]
        events = client.get(f"/api/runs/{run_id}/events").json()["events"]
        assert len(events) >= 100
        assert client.get(f"/api/runs/{run_id}/budget").status_code == 200
