"""The one output writer, through the commands that write files (issue 12: outputs, full disk)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from brain_agent.storage import SQLiteStore

from .conftest import EXAMPLE_IDEA, fill

OLD = '{"old": "content, kept whole"}\n'


def _run_with_events(db: Path, n: int = 40) -> str:
    store = SQLiteStore(db)
    run_id = store.create_run("test")
    for i in range(n):
        store.append_event(run_id, "test.event", {"i": i, "pad": "x" * 200})
    store.close()
    return run_id


def test_output_onto_a_symlink_writes_the_file_it_names(cli: Any, tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text(OLD)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    r = cli("budget", "schema", "--output", link)
    assert r.code == 0, r.err
    assert link.is_symlink(), "the symlink was replaced by a file"
    assert json.loads(real.read_text())["title"]


def test_write_json_commands_follow_symlinks_too(cli: Any, tmp_path: Path) -> None:
    real = tmp_path / "refined.json"
    real.write_text(OLD)
    link = tmp_path / "out.json"
    link.symlink_to(real)
    r = cli("run-idea-agent", "--llm-provider", "mock", "--input", EXAMPLE_IDEA, "--output", link)
    assert r.code == 0, r.err
    assert link.is_symlink()
    assert json.loads(real.read_text()) != json.loads(OLD)


def test_output_onto_a_fifo_is_refused_and_left_alone(cli: Any, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    r = cli("run-idea-agent", "--llm-provider", "mock", "--input", EXAMPLE_IDEA, "--output", fifo)
    assert r.code == 2, r.err
    assert str(fifo) in r.flat_err and "FIFO" in r.err
    assert stat.S_ISFIFO(fifo.stat().st_mode)


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_output_onto_a_device_is_refused_and_left_alone(cli: Any, tmp_path: Path) -> None:
    dev = tmp_path / "full"
    os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 7))  # the same device as /dev/full
    for args in (("budget", "schema", "--output", dev), ("events", "export", "--run", "x", "--output", dev)):
        r = cli(*args)
        assert r.code == 2, (args, r.err)
        assert stat.S_ISCHR(dev.stat().st_mode), f"{args} replaced the device"
    r = cli("run-idea-agent", "--llm-provider", "mock", "--input", EXAMPLE_IDEA, "--output", dev)
    assert r.code == 2 and "device" in r.err
    assert stat.S_ISCHR(dev.stat().st_mode)


def test_output_onto_a_folder_or_under_a_file_is_exit_2(cli: Any, tmp_path: Path) -> None:
    r = cli("budget", "schema", "--output", tmp_path)
    assert r.code == 2 and str(tmp_path) in r.flat_err
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    r = cli("budget", "schema", "--output", plain / "below.json")
    assert r.code == 2, r.err
    assert "internal error" not in r.err


def test_symlink_loop_is_exit_2(cli: Any, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.symlink_to(b)
    b.symlink_to(a)
    r = cli("budget", "schema", "--output", a)
    assert r.code == 2, r.err
    assert a.is_symlink() and b.is_symlink()


def test_full_disk_keeps_the_old_schema_file(cli: Any, tmpfs: Path) -> None:
    target = tmpfs / "schema.json"
    target.write_text(OLD)
    fill(tmpfs)
    r = cli("budget", "schema", "--output", target)
    assert r.code == 4, r.err
    assert str(target) in r.flat_err and "No space left" in r.flat_err
    assert target.read_text() == OLD
    assert [p.name for p in tmpfs.iterdir() if p.name.startswith(".")] == [], "temp file left behind"


def test_full_disk_keeps_the_old_events_export(cli: Any, tmpfs: Path, _isolated_store: Path) -> None:
    run_id = _run_with_events(_isolated_store)
    target = tmpfs / "events.jsonl"
    target.write_text(OLD)
    fill(tmpfs)
    r = cli("events", "export", "--run", run_id, "--output", target)
    assert r.code == 4, r.err
    assert target.read_text() == OLD


def test_full_disk_write_json_command_is_exit_4_not_a_bug(cli: Any, tmpfs: Path) -> None:
    target = tmpfs / "refined.json"
    target.write_text(OLD)
    fill(tmpfs)
    r = cli("run-idea-agent", "--llm-provider", "mock", "--input", EXAMPLE_IDEA, "--output", target)
    assert r.code == 4, r.err
    assert "internal error" not in r.err
    assert target.read_text() == OLD


def test_overwrite_keeps_the_existing_mode(cli: Any, tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    target.write_text(OLD)
    target.chmod(0o640)
    assert cli("budget", "schema", "--output", target).code == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_simulate_candidates_refuses_a_bad_output_before_simulating(
    cli: Any, tmp_path: Path, _isolated_store: Path
) -> None:
    candidates = tmp_path / "c.json"
    candidates.write_text(json.dumps([{"candidate_id": "c1", "expression": "rank(-returns)"}]))
    r = cli("simulate-candidates", "--input", candidates, "--output", tmp_path)
    assert r.code == 2 and str(tmp_path) in r.flat_err
    store = SQLiteStore(_isolated_store)
    assert store.list_runs() == [], "a run was started (and simulations spent) before the output was checked"
