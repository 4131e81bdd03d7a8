"""`brain-agent demo` end to end: a real server process, a real batch process, one store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from brain_agent.storage import SQLiteStore
from serving import free_port

REPO = Path(__file__).resolve().parents[2]


def _sigint_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_demo_runs_a_batch_under_the_server_and_exits(tmp_path: Path) -> None:
    port = free_port()
    work = tmp_path / "demo"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "brain_agent.cli",
            "demo",
            "--batches",
            "2",
            "--exit-when-done",
            "--pace",
            "0",
            "--gap",
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


def test_demo_keeps_running_batches_until_ctrl_c(tmp_path: Path) -> None:
    """Without --batches the demo goes on (a new demo day every second batch, so later batches still
    produce candidates) until Ctrl-C, which stops it and its server cleanly."""
    port = free_port()
    work = tmp_path / "demo"
    out = (tmp_path / "out.txt").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "brain_agent.cli",
            "demo",
            "--pace",
            "0",
            "--gap",
            "0",
            "--ideas",
            "6",
            "--port",
            str(port),
            "--dir",
            str(work),
        ],
        cwd=REPO,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, as a terminal's Ctrl-C would reach it
        # a terminal's Ctrl-C reaches a foreground program; pytest itself may run in the background
        # (`make test &`, a CI runner), where SIGINT is ignored and the demo would inherit that
        preexec_fn=_sigint_default,
    )
    try:
        deadline = time.monotonic() + 300
        completed: list[dict[str, object]] = []
        while time.monotonic() < deadline and proc.poll() is None:
            if (work / "demo.db").exists():
                watcher = SQLiteStore(work / "demo.db")
                runs = watcher.list_runs()
                watcher.close()
                completed = [r for r in runs if r["status"] == "completed"]
                if len(completed) >= 3:
                    break
            time.sleep(0.5)
        assert proc.poll() is None, "the demo stopped on its own"
        assert len(completed) >= 3
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        out.close()
    text = (tmp_path / "out.txt").read_text()
    assert "batch 3/∞" in text and "demo day 2" in text and "stopping" in text
    store = SQLiteStore(work / "demo.db")
    third = sorted(store.list_runs(), key=lambda r: float(str(r["created_at"])))[2]
    assert store.list_candidates(str(third["run_id"])), "batch 3 (a new demo day) produced candidates"
    store.close()
    assert "Traceback" not in text
