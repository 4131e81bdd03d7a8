"""How long the CLI takes to start, and how long a no-op ``make setup`` takes.

    .venv/bin/python benchmarks/bench_cli.py [--runs 15] [--no-make]

Wall time of fresh processes (the console script, as a user runs it), median and p90 over ``--runs``
runs, next to the floor (``python -c pass``) and, in the same loop, ``--help`` with every command module
imported up front (what the CLI did before commands were loaded lazily). Targets: ``brain-agent --help``
median ≤ 0.5 s; a no-op ``make setup`` ≤ 5 s. Writes benchmarks/results/cli.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
BIN = Path(sys.executable).parent


def _time(argv: list[str], env: dict[str, str], cwd: Path = ROOT) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def _stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_s": round(statistics.median(ordered), 3),
        "p90_s": round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 3),
        "min_s": round(ordered[0], 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--no-make", action="store_true", help="Skip the `make setup` no-op timing.")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    env = {**os.environ, "BRAIN_AGENT_DB": str(tmp / "store.db")}
    cli = str(BIN / "brain-agent")
    cases = {
        "python -c pass (floor)": [sys.executable, "-c", "pass"],
        "brain-agent --help": [cli, "--help"],
        "--help, every module imported (before)": [
            sys.executable,
            "-c",
            "from brain_agent.cli import load_all, run; load_all(); raise SystemExit(run(['--help']))",
        ],
        "brain-agent version": [cli, "version"],
        "brain-agent runs --json": [cli, "runs", "--json"],
        "brain-agent run-batch --help": [cli, "run-batch", "--help"],
    }
    rows: dict[str, dict[str, float]] = {}
    for argv in cases.values():  # warm the OS file cache once
        _time(argv, env)
    for name, argv in cases.items():
        rows[name] = _stats([_time(argv, env) for _ in range(args.runs)])
    if not args.no_make:
        _time(["make", "setup"], env)  # brings the stamps up to date
        rows["make setup (no-op)"] = _stats([_time(["make", "setup"], env) for _ in range(3)])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    print(f"CLI start-up, {args.runs} runs each (load average {load:.1f})" if load is not None else "")
    print(f"{'command':<40} {'median':>8} {'p90':>8} {'min':>8}")
    for name, s in rows.items():
        print(f"{name:<40} {s['median_s']:>8.3f} {s['p90_s']:>8.3f} {s['min_s']:>8.3f}")
    help_ok = rows["brain-agent --help"]["median_s"] <= 0.5
    print(f"target --help median ≤ 0.5 s: {'met' if help_ok else 'NOT met'}")
    if "make setup (no-op)" in rows:
        make_ok = rows["make setup (no-op)"]["median_s"] <= 5.0
        print(f"target no-op make setup ≤ 5 s: {'met' if make_ok else 'NOT met'}")
    RESULTS.mkdir(exist_ok=True)
    out = {"runs": args.runs, "load_average": load, "python": platform.python_version(), "rows": rows}
    (RESULTS / "cli.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"→ {RESULTS / 'cli.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
