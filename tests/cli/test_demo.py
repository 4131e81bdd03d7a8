"""`brain-agent demo` end to end: a real server process, a real batch process, one store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from brain_agent.storage import SQLiteStore
from serving import free_port

REPO = Path(__file__).resolve().parents[2]


def test_demo_runs_a_batch_under_the_server_and_exits(tmp_path: Path) -> None:
    port = free_port()
    work = tmp_path / "demo"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "brain_agent.cli",
            "demo",
            "--exit-when-done",
            "--pace",
            "0",
            "--port",
            str(port),
            "--dir",
            str(work),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"http://127.0.0.1:{port}" in proc.stdout
    store = SQLiteStore(work / "demo.db")
    runs = store.list_runs()
    assert len(runs) == 2 and all(r["status"] == "completed" for r in runs)
    names = {e.name for e in store.events(limit=100_000)}
    shown = {"budget.fallback_applied", "budget.explore_floor_preserved", "budget.blocked"}
    assert shown <= names, f"the demo must show every protection; missing {shown - names}"
    assert {"metadata_sync", "cycle_completed"} <= names
    assert "simulation.submitted" in names
    log = (work / "server.log").read_text()
    assert "Traceback" not in log


def test_demo_refuses_a_used_folder(tmp_path: Path) -> None:
    (tmp_path / "demo.db").write_bytes(b"")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "brain_agent.cli",
            "demo",
            "--dir",
            str(tmp_path),
            "--port",
            str(free_port()),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "fresh folder" in proc.stderr
