"""``runs show RUN --plot FILE`` writes through the one output writer: a bad path is exit 2 before
anything is read or written, a full disk is exit 4 with the old page intact and no temp file left."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from .conftest import fill

OLD = "<!DOCTYPE html><p>the previous page, kept whole</p>\n"


@pytest.fixture
def run_id(cli: Any) -> str:
    r = cli("run-batch", "--generate", "3", "--seed", "2", "--json")
    assert r.code == 0, r.err
    return str(json.loads(r.out)["run_id"])


def test_a_folder_is_refused(cli: Any, run_id: str, tmp_path: Path) -> None:
    r = cli("runs", "show", run_id, "--plot", tmp_path)
    assert r.code == 2, r.err
    assert str(tmp_path) in r.flat_err and "plot" in r.err
    assert r.out == "", "the listing was printed although the plot was refused"


def test_a_fifo_is_refused_and_left_alone(cli: Any, run_id: str, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.html"
    os.mkfifo(fifo)
    r = cli("runs", "show", run_id, "--plot", fifo)
    assert r.code == 2 and "FIFO" in r.err
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_path_under_a_plain_file_is_exit_2(cli: Any, run_id: str, tmp_path: Path) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    r = cli("runs", "show", run_id, "--plot", plain / "page.html")
    assert r.code == 2, r.err
    assert "internal error" not in r.err and plain.read_text() == "x"


@pytest.mark.parametrize("tmpfs", ["256k"], indirect=True)
def test_a_full_disk_keeps_the_old_page(cli: Any, run_id: str, tmpfs: Path) -> None:
    target = tmpfs / "run.html"
    target.write_text(OLD)
    fill(tmpfs)
    r = cli("runs", "show", run_id, "--plot", target)
    assert r.code == 4, r.err
    assert str(target) in r.flat_err and "No space left" in r.flat_err
    assert target.read_text() == OLD
    assert [p.name for p in tmpfs.iterdir() if p.name.startswith(".")] == [], "temp file left behind"
