"""Start ``brain-agent serve`` as its own OS process for a test and wait until it answers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_process(
    db: Path,
    log_path: Path,
    *,
    token: str | None = None,
    web_dir: Path | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Yields ``(base_url, process)``; the server is stopped on exit. Its output goes to ``log_path``."""
    port = free_port()
    environ = dict(env if env is not None else os.environ)
    if token is not None:
        environ["BRAIN_AGENT_TOKEN"] = token
    args = ["serve", "--port", str(port), "--db", str(db), "--log-level", "warning"]
    if web_dir is not None:
        args += ["--web-dir", str(web_dir)]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "brain_agent.cli", *args],
            cwd=REPO,
            env=environ,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start: {log_path.read_text()}")
                time.sleep(0.05)
            yield base, proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
