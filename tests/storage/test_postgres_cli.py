"""Every command on a PostgreSQL store, through the CLI as a user runs it, and several OS processes
sharing one PostgreSQL day cap and one event stream."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from brain_agent.storage import open_store
from processes import finish_all

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "docs" / "artifacts" / "step-08" / "ideaspec.example.json"


def _cli(*args: str, env_db: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "BRAIN_AGENT_DB"}
    if env_db is not None:
        env["BRAIN_AGENT_DB"] = env_db
    return subprocess.run(
        [sys.executable, "-m", "brain_agent.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_the_chain_and_a_batch_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    idea, pack, cand = tmp_path / "idea.json", tmp_path / "pack.json", tmp_path / "cand.json"
    r = _cli("run-idea-agent", "--input", str(EXAMPLE), "--output", str(idea), "--db", pg_url)
    assert r.returncode == 0, r.stderr
    r = _cli("build-retrieval-pack", "--idea", str(idea), "--output", str(pack), env_db=pg_url)
    assert r.returncode == 0, r.stderr
    r = _cli(
        "run-alpha-maker",
        "--idea",
        str(idea),
        "--retrieval-pack",
        str(pack),
        "--output",
        str(cand),
        env_db=pg_url,
    )
    assert r.returncode == 0, r.stderr
    r = _cli("run-batch", "--generate", "4", "--simulate", "local", "--json", "--db", pg_url)
    assert r.returncode in (0, 3), r.stderr
    run_id = json.loads(r.stdout)["run_id"]
    status = _cli("budget", "status", "--json", "--db", pg_url)
    assert status.returncode == 0, status.stderr
    day = next(s for s in json.loads(status.stdout)["scopes"] if s["scope"] == "day")
    store = open_store(pg_url)
    billed = sum(
        c["uncached_input"] + c["cached_input"] + c["cache_write"] + c["output"] + c["reasoning"]
        for c in store.llm_calls()
        if not c["cache_hit"] and c["error"] is None
    )
    assert day["spent"] == billed > 0 and day["reserved"] == 0
    runs = _cli("runs", "--json", "--db", pg_url)
    assert runs.returncode == 0, runs.stderr
    assert run_id in runs.stdout
    shown = _cli("runs", "show", run_id, "--json", "--db", pg_url)
    assert shown.returncode == 0, shown.stderr
    exported = _cli("events", "export", "--run", run_id, "--db", pg_url)
    assert exported.returncode == 0, exported.stderr
    names = [json.loads(line)["name"] for line in exported.stdout.splitlines()]
    assert names[0] == "metadata_sync" and names[-1] == "cycle_completed"
    assert {"budget.check_passed", "llm.call", "simulation.completed"} <= set(names)
    assert store.get_run(run_id)["status"] == "completed"
    store.close()


@pytest.mark.parametrize("url", ["mysql://me@db/brain", "postgresq://x/y"])
def test_an_unsupported_url_is_refused_not_made_into_a_folder(url: str, tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "brain_agent.cli", "budget", "status", "--db", url],
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "BRAIN_AGENT_DB"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2, r.stderr
    assert "unsupported database scheme" in r.stderr
    assert list(tmp_path.iterdir()) == []  # no "mysql:" folder with a SQLite file in it


def test_an_unreachable_server_fails_closed() -> None:
    r = _cli(
        "run-batch", "--generate", "2", "--simulate", "none", "--db", "postgresql://bob:pw123@127.0.0.1:1/x"
    )
    assert r.returncode == 6, r.stderr
    assert "cannot reach the PostgreSQL store" in r.stderr and "pw123" not in r.stderr + r.stdout


WRITER = """
import sys
from brain_agent.storage import open_store
store = open_store(sys.argv[1])
for i in range(int(sys.argv[3])):
    store.append_event(sys.argv[2], "test.tick", {"i": i, "writer": sys.argv[4]})
store.close()
"""


@pytest.mark.slow
def test_a_follower_sees_every_event_once_with_concurrent_writers(pg_url: str) -> None:
    """Six processes append events while a follower reads ``id > cursor`` as the hub does: every
    event is delivered exactly once (ids commit in id order, so no late commit is skipped)."""
    store = open_store(pg_url)
    run = store.create_run("batch")
    writers, per = 6, 150
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, pg_url, run, str(per), str(w)], cwd=REPO)
        for w in range(writers)
    ]
    seen: list[int] = []
    done = threading.Event()

    def follow() -> None:
        follower = open_store(pg_url)
        cursor = 0
        while True:
            finished = done.is_set()
            page = follower.events(run, after=cursor, limit=500)
            seen.extend(e.id for e in page)
            if page:
                cursor = page[-1].id
            elif finished:
                break
            else:
                time.sleep(0.002)
        follower.close()

    thread = threading.Thread(target=follow)
    thread.start()
    for p in procs:
        assert p.wait(timeout=120) == 0
    done.set()
    thread.join(timeout=60)
    total = [e.id for e in store.events(run, limit=10_000)]
    assert len(total) == writers * per
    assert sorted(seen) == sorted(total) and len(seen) == len(set(seen))  # each exactly once
    store.close()


def _billed_calls(url: str) -> tuple[int, int, int]:
    """(real calls, distinct request keys, billed tokens) of successful non-cached calls."""
    store = open_store(url)
    calls = [c for c in store.llm_calls() if not c["cache_hit"] and c["error"] is None]
    store.close()
    billed = sum(c["uncached_input"] + c["output"] + c["reasoning"] + c["cached_input"] for c in calls)
    return len(calls), len({c["request_key"] for c in calls}), billed


@pytest.mark.slow
def test_pay_once_on_postgresql(pg_url: str) -> None:
    """Single flight and resume work the same on a server store: four identical batches in four
    processes pay each prompt once; a resumed batch pays nothing for what was answered."""
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "brain_agent.cli",
                "run-batch",
                "--generate",
                "3",
                "--seed",
                "5",
                "--simulate",
                "none",
                "--latency",
                "0.5",
                "--no-deferred",
                "--json",
                "--db",
                pg_url,
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outs = []
    for p, (out, err) in zip(procs, finish_all(procs, timeout=300), strict=True):
        assert p.returncode == 0, err
        outs.append(json.loads(out))
    real, distinct, before = _billed_calls(pg_url)
    assert real == distinct
    run_id = outs[0]["run_id"]
    store = open_store(pg_url)
    with store.transaction() as conn:
        conn.execute("UPDATE runs SET status = 'interrupted' WHERE run_id = ?", (run_id,))
    store.close()
    again = _cli("run-batch", "--resume", run_id, "--simulate", "none", "--json", "--db", pg_url)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["cache_hits"] >= 3
    assert _billed_calls(pg_url)[2] == before


def test_demo_refuses_an_unsupported_store_before_starting(tmp_path: Path) -> None:
    r = _cli(
        "demo", "--dir", str(tmp_path / "d"), "--batches", "1", "--exit-when-done", "--db", "mysql://me@h/x"
    )
    assert r.returncode == 2, r.stderr
    assert "unsupported database scheme" in r.stderr


@pytest.mark.slow
def test_demo_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    from serving import free_port

    r = _cli(
        "demo",
        "--dir",
        str(tmp_path / "d"),
        "--batches",
        "1",
        "--exit-when-done",
        "--ideas",
        "3",
        "--pace",
        "0",
        "--gap",
        "0",
        "--port",
        str(free_port()),
        "--db",
        pg_url,
    )
    assert r.returncode == 0, r.stderr
    store = open_store(pg_url)
    batches = [run for run in store.list_runs() if run["kind"] == "batch"]
    assert len(batches) == 1 and batches[0]["status"] == "completed"
    store.close()
