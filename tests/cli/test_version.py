"""``brain-agent version``: the bare version by default; ``--verbose`` says which kernels the local
simulator runs (a real process each time: the choice is made when the kernels module loads)."""

from __future__ import annotations

import os
import subprocess
import sys

from brain_agent import __version__
from brain_agent.simulation.local.kernels._native import ENV, native_rank


def _version(*args: str, **env: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "brain_agent.cli", "version", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env, "COLUMNS": "300"},
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_version_alone_prints_only_the_version() -> None:
    assert _version() == f"{__version__}\n"


def test_verbose_says_which_simulator_kernels_run() -> None:
    lines = _version("--verbose").splitlines()
    assert lines[0] == __version__
    assert lines[1].startswith("python ") and ", numpy " in lines[1]
    kernels = lines[2]
    if native_rank is not None:  # this install built them (required under CI: tests/simulation)
        expected = "C (rank, book pass, moving sum/mean/std/rank, decay, fields, arithmetic)"
        assert kernels.startswith(f"local simulator kernels: {expected}"), kernels
        assert "from" in kernels and "_ckernels" in kernels
    else:
        assert kernels.startswith("local simulator kernels: numpy (the C kernels were not built"), kernels
    off = _version("-v", **{ENV: "0"}).splitlines()[2]
    assert off == f"local simulator kernels: numpy (C switched off by {ENV})"
