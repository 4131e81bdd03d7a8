"""Shared test setup: every test gets its own store file, never the user's."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
KNOWLEDGE = REPO / "data" / "meta" / "index"


@pytest.fixture(autouse=True)
def _isolated_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "store.db"
    monkeypatch.setenv("BRAIN_AGENT_DB", str(db))
    monkeypatch.delenv("BRAIN_AGENT_TOKEN", raising=False)
    return db
