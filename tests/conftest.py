"""Shared test setup: every test gets its own store file, never the user's."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
KNOWLEDGE = REPO / "data" / "meta" / "index"
sys.path.insert(0, str(Path(__file__).resolve().parent))
import pgserver  # noqa: E402


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pgserver.ThrowawayPostgres]:
    """A throwaway PostgreSQL server for the session. Skipped where PostgreSQL or psycopg is
    missing on a developer machine; required under CI=true."""
    try:
        import psycopg
    except ImportError:
        psycopg = None
    if psycopg is None or not pgserver.available():
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL (initdb/pg_ctl) and psycopg are required under CI=true")
        pytest.skip("PostgreSQL or psycopg is not installed here")
    server = pgserver.ThrowawayPostgres().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: pgserver.ThrowawayPostgres) -> str:
    """A fresh, empty PostgreSQL database for one test."""
    return pg_server.new_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same contract on both backends: a SQLite file path, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "contract.db")
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture(autouse=True)
def _isolated_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "store.db"
    monkeypatch.setenv("BRAIN_AGENT_DB", str(db))
    monkeypatch.delenv("BRAIN_AGENT_TOKEN", raising=False)
    return db
