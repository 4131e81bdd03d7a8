"""Shared helpers for the hardening tests: run a command as a user would, and a small tmpfs."""

from __future__ import annotations

import contextlib
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from brain_agent.cli import run

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_IDEA = REPO / "docs" / "artifacts" / "step-08" / "ideaspec.example.json"


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str

    @property
    def flat_err(self) -> str:
        return " ".join(self.err.split())


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> object:
    """``cli(*args)`` runs brain-agent in this process and returns exit code, stdout and stderr."""

    def call(*args: str) -> Outcome:
        capsys.readouterr()
        code = run([str(a) for a in args])
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return call


def _mount(point: Path, size: str) -> bool:
    point.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return False
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0777", f"ba-{uuid.uuid4().hex[:6]}", str(point)],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


@pytest.fixture
def tmpfs(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    """A small tmpfs mounted inside tmp_path (needs root; skipped otherwise). Size: 256 KiB, or
    ``@pytest.mark.parametrize("tmpfs", ["4m"], indirect=True)``."""
    point = tmp_path / "small-disk"
    size = getattr(request, "param", "256k")
    if not _mount(point, size):
        pytest.skip("cannot mount a tmpfs here (needs root and mount rights) to make a full disk")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], capture_output=True, check=False)


def fill(disk: Path) -> None:
    """Fill ``disk`` to the last byte."""
    with contextlib.suppress(OSError), (disk / "filler").open("wb") as fh:
        while True:
            fh.write(b"\0" * 4096)
            fh.flush()
    with contextlib.suppress(OSError), (disk / "filler-tail").open("wb") as fh:
        while True:
            fh.write(b"\0")
            fh.flush()


def remount_readonly(point: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(point)], check=True, capture_output=True)
