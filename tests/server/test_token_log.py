"""A ``?token=`` never reaches the access log (real uvicorn process, log level info)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from serving import REPO, free_port

SECRET = "s3cret-token-value-123"


def test_query_token_is_not_logged(db: Path, tmp_path: Path) -> None:
    port = free_port()
    log_path = tmp_path / "serve.log"
    env = {**os.environ, "BRAIN_AGENT_TOKEN": SECRET}
    args = ["serve", "--port", str(port), "--db", str(db), "--log-level", "info"]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "brain_agent.cli", *args], cwd=REPO, env=env, stdout=log, stderr=log
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.05)
                assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()
            ok = httpx.get(f"{base}/api/runs", params={"token": SECRET, "limit": 5})
            assert ok.status_code == 200
            bad = httpx.get(f"{base}/api/runs", params={"token": SECRET + "x"})
            assert bad.status_code == 401
            header = httpx.get(f"{base}/api/runs", headers={"Authorization": f"Bearer {SECRET}"})
            assert header.status_code == 200
            time.sleep(0.3)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    text = log_path.read_text()
    assert "GET /api/runs?limit=5" in text  # the access log is on, and keeps the other parameters
    assert SECRET not in text
