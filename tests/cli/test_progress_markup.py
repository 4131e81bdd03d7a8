"""The progress bars of ``run-batch`` and ``simulate-candidates`` print ids, lanes and outcomes as they
are: ``[exploit]`` or a candidate id holding ``[bold]…[/]`` is never read as rich markup. The bars only
draw on a terminal, so the commands run as real processes with ``FORCE_COLOR`` (rich then renders as
on a terminal); the escape codes are stripped before reading."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _run_on_a_terminal(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FORCE_COLOR": "1", "COLUMNS": "240", "TERM": "xterm"}
    return subprocess.run(
        [sys.executable, "-m", "brain_agent.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def _screen(text: str) -> list[str]:
    return [line.strip() for line in ANSI.sub("", text).replace("\r", "\n").splitlines() if line.strip()]


def test_simulate_progress_prints_a_candidate_id_with_markup_as_is(tmp_path: Path) -> None:
    cid = "c[bold]1[/]\\"
    candidates = tmp_path / "c.json"
    candidates.write_text(json.dumps([{"candidate_id": cid, "expression": "rank(-returns)"}]))
    done = _run_on_a_terminal(
        "simulate-candidates", "--input", str(candidates), "--output", str(tmp_path / "o")
    )
    assert done.returncode == 0, done.stderr
    lines = _screen(done.stderr)
    assert any(f"simulate local: {cid} complete" in line and "1/1" in line for line in lines), lines


def test_run_batch_progress_keeps_the_lane_in_brackets() -> None:
    done = _run_on_a_terminal("run-batch", "--generate", "3", "--seed", "5", "--simulate", "none")
    assert done.returncode == 0, done.stderr
    lines = _screen(done.stderr)
    final = [line for line in lines if "3/3" in line]
    assert final, lines
    assert re.search(r"idea-\S+ \[(exploit|explore)\] \S+", final[-1]), final[-1]
