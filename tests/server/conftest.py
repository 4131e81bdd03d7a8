"""Fixtures for the server tests: a store with realistic runs, a TestClient, a real uvicorn process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from brain_agent.server import ServerSettings, create_app
from brain_agent.storage.sqlite_store import SQLiteStore

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    def __init__(self, base: str, proc: subprocess.Popen[bytes], db: Path) -> None:
        self.base = base
        self.ws_base = base.replace("http://", "ws://")
        self.proc = proc
        self.db = db


@pytest.fixture
def live_server(db: Path, tmp_path: Path) -> Iterator[LiveServer]:
    """``brain-agent serve`` in its own process on 127.0.0.1 (with a token, to exercise it)."""
    port = free_port()
    env = _env()
    env["BRAIN_AGENT_TOKEN"] = "test-token-123"
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "brain_agent.cli",
            "serve",
            "--port",
            str(port),
            "--db",
            str(db),
            "--web-dir",
            str(tmp_path / "no-hud"),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"server did not start: {(tmp_path / 'serve.log').read_text()}")
        time.sleep(0.05)
    try:
        yield LiveServer(base, proc, db)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
