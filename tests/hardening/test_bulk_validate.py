"""validate-expression --file streams (issue 12: resources): flat memory, plain JSON out, and bad files
refused before any output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from brain_agent.expression import check
from brain_agent.knowledge import load_knowledge_pack

from .conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
from bench_validate_bulk import make_file


def test_bulk_json_matches_the_checker(cli: Any, tmp_path: Path) -> None:
    file = tmp_path / "exprs.txt"
    make_file(file, 600)
    r = cli("validate-expression", "--file", file, "--json")
    results = json.loads(r.out)
    pack = load_knowledge_pack(REPO / "data" / "meta" / "index")
    lines = [
        (n, line.strip())
        for n, line in enumerate(file.read_text().splitlines(), 1)
        if line.strip() and not line.startswith("#")
    ]
    assert len(results) == len(lines) == 600
    for (n, text), got in zip(lines, results, strict=True):
        assert got["where"] == f"{file}:{n}" and got["expression"] == text
        assert got["ok"] == check(text, pack).ok
    assert r.code == (0 if all(x["ok"] for x in results) else 2)


def test_bulk_text_output_is_plain(cli: Any, tmp_path: Path) -> None:
    file = tmp_path / "exprs.txt"
    file.write_text("rank(close)\n# a comment\n\nts_meen(close, 5)\nrank([/b]close)\n")
    r = cli("validate-expression", "--file", file)
    assert r.code == 2
    assert r.out.splitlines()[0] == f"ok   {file}:1: rank(close)"
    assert f"FAIL {file}:4: ts_meen(close, 5)" in r.out
    assert "[/b]" in r.out


def test_an_empty_file_is_an_empty_list(cli: Any, tmp_path: Path) -> None:
    file = tmp_path / "empty.txt"
    file.write_text("# nothing\n")
    r = cli("validate-expression", "--file", file, "--json")
    assert r.code == 0 and json.loads(r.out) == []


def test_a_non_utf8_file_is_refused_before_any_output(cli: Any, tmp_path: Path) -> None:
    file = tmp_path / "latin1.txt"
    file.write_bytes(b"rank(close)\nrank(close)\nrank(caf\xe9)\n")
    r = cli("validate-expression", "--file", file, "--json")
    assert r.code == 2 and r.out == ""
    assert f"{file}:3" in r.flat_err and "UTF-8" in r.err


def test_a_folder_or_missing_file_is_exit_2(cli: Any, tmp_path: Path) -> None:
    for path in (tmp_path, tmp_path / "missing.txt"):
        r = cli("validate-expression", "--file", path, "--json")
        assert r.code == 2 and r.out == "" and str(path) in r.flat_err


# Runs the command from a small intermediate process and reports its child's peak RSS: measured from
# pytest directly, the figure would include pytest's own memory (the child's high-water mark starts
# from the parent's image at fork).
_MEASURE = (
    "import resource, subprocess, sys; "
    "code = subprocess.call(sys.argv[2:], stdout=open(sys.argv[1], 'wb'), stderr=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)"
)


def test_twenty_thousand_expressions_stay_under_150_mib(tmp_path: Path) -> None:
    """Peak RSS of the real command (a child process) on 20,000 expressions with --json."""
    file, out = tmp_path / "exprs.txt", tmp_path / "out.json"
    make_file(file, 20_000)
    cli = [sys.executable, "-m", "brain_agent.cli", "validate-expression", "--file", str(file), "--json"]
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(out), *cli], capture_output=True, text=True, cwd=REPO, check=True
    )
    peak_kib, code = (int(x) for x in done.stdout.split())
    assert code == 2
    assert len(json.loads(out.read_text())) == 20_000
    assert peak_kib * 1024 < 150 * 2**20, f"peak RSS {peak_kib / 1024:.0f} MiB"
