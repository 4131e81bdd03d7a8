"""Fixtures for the server tests: a store with realistic runs, a TestClient, a real uvicorn process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from brain_agent.server import ServerSettings, create_app
from brain_agent.storage.sqlite_store import SQLiteStore
from serving import serve_process

from .eventgen import realistic_run

HERE = Path(__file__).parent
EVENTGEN = HERE / "eventgen.py"
BASE = "http://127.0.0.1:8765"
WS_BASE = "ws://127.0.0.1:8765"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "store.db"
    store = SQLiteStore(path)
    realistic_run(store, "run_old", ideas=3)
    realistic_run(store, "run_live", ideas=2, finish=False)
    store.close()
    return path


def make_app(db: Path, **kwargs: object) -> FastAPI:
    return create_app(ServerSettings(db=db, **kwargs))  # type: ignore[arg-type]


@pytest.fixture
def app(db: Path) -> FastAPI:
    return make_app(db)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url=BASE) as c:
        yield c


def append_in_subprocess(db: Path, run_id: str, *args: str) -> subprocess.Popen[bytes]:
    """Another OS process appending a realistic event sequence to the same SQLite file."""
    return subprocess.Popen([sys.executable, str(EVENTGEN), str(db), run_id, *args], env=_env())


def _env() -> dict[str, str]:
    env = dict(os.environ)
    root = str(HERE.parents[1])
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return env


class LiveServer:
    def __init__(self, base: str, proc: subprocess.Popen[bytes], db: Path) -> None:
        self.base = base
        self.ws_base = base.replace("http://", "ws://")
        self.proc = proc
        self.db = db


@pytest.fixture
def live_server(db: Path, tmp_path: Path) -> Iterator[LiveServer]:
    """``brain-agent serve`` in its own process on 127.0.0.1 (with a token, to exercise it)."""
    with serve_process(
        db, tmp_path / "serve.log", token="test-token-123", web_dir=tmp_path / "no-hud", env=_env()
    ) as (base, proc):
        yield LiveServer(base, proc, db)
