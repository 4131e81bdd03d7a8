"""Bulk validation through the CLI: ``validate-expression --file F --json`` on 20,000 expressions.

    .venv/bin/python benchmarks/bench_validate_bulk.py [--count 20000] [--repeats 3]

Writes a file of ``--count`` expressions (typical alphas of one to three terms, about six operator
calls and 140 characters a line; a fifth of them with an error), runs the real command as a child
process ``--repeats`` times with stdout to a file, and reports the median wall time, CPU time (the
steadier number on a shared machine) and the child's peak RSS. Targets
(issue 12): ≤ 4 s and ≤ 150 MiB. Writes ``benchmarks/results/validate_bulk.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "benchmarks" / "results" / "validate_bulk.json"
PARTS = [
    "rank(ts_delta(close, 5)) * -1",
    "ts_mean(volume, 20) / adv20",
    "group_neutralize(rank(ts_zscore(returns, 60)), industry)",
    'group_neutralize(rank(close / vwap), bucket(rank(cap), range="0.1,1,0.1"))',
    "ts_decay_linear(rank(ts_corr(close, volume, 20)), 10)",
    "winsorize(ts_zscore(cap, 120), std=4)",
    "trade_when(volume >= ts_mean(volume, 5), rank(-returns), abs(returns) > 0.1)",
    "ts_rank(ts_std_dev(returns, 20), 60)",
    "sign(close - open) * abs(returns)",
    "ts_meen(close, 5)",  # an unknown operator: some lines fail
    "rank(closee)",  # an unknown field
    "ts_mean(close, 2.5)",  # a bad lookback
]


def make_file(path: Path, count: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(count):
            if i % 500 == 0:
                fh.write(f"# block {i // 500}\n")
            terms = [rng.choice(PARTS[:9]) for _ in range(rng.randint(1, 3))]
            if rng.random() < 0.2:
                terms[rng.randrange(len(terms))] = rng.choice(PARTS[9:])
            fh.write(" + ".join(terms) + "\n")
    return path.stat().st_size


def run_once(expr_file: Path, out_file: Path) -> tuple[float, int, int, float]:
    """Wall seconds, peak RSS in bytes, exit code and CPU seconds (user + system) of one child run."""
    cli = [sys.executable, "-m", "brain_agent.cli", "validate-expression", "--file", str(expr_file), "--json"]
    start = time.perf_counter()
    with out_file.open("wb") as out:
        child = subprocess.Popen(cli, stdout=out, stderr=subprocess.PIPE, cwd=ROOT)
        _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss * 1024, child.returncode, usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        expr_file, out_file = Path(tmp) / "expressions.txt", Path(tmp) / "out.json"
        size = make_file(expr_file, args.count)
        runs = [run_once(expr_file, out_file) for _ in range(args.repeats)]
        results = json.loads(out_file.read_text(encoding="utf-8"))
    walls = [r[0] for r in runs]
    rss = [r[1] for r in runs]
    codes = {r[2] for r in runs}
    cpu = [r[3] for r in runs]
    ok = sum(1 for r in results if r["ok"])
    row = {
        "expressions": args.count,
        "file_bytes": size,
        "valid": ok,
        "exit_codes": sorted(codes),
        "wall_s_median": round(statistics.median(walls), 3),
        "wall_s_all": [round(w, 3) for w in walls],
        "cpu_s_median": round(statistics.median(cpu), 3),
        "cpu_s_all": [round(c, 3) for c in cpu],
        "peak_rss_mib_median": round(statistics.median(rss) / 2**20, 1),
        "peak_rss_mib_all": [round(r / 2**20, 1) for r in rss],
        "target": {"wall_s": 4.0, "peak_rss_mib": 150},
        "python": platform.python_version(),
    }
    head = f"{'expressions':<12}{'file MB':>8}{'valid':>7}{'wall s':>8}{'CPU s':>7}{'peak RSS MiB':>14}"
    print(head + "  (medians)")
    print(
        f"{args.count:<12}{size / 1e6:>8.1f}{ok:>7}{row['wall_s_median']:>8}{row['cpu_s_median']:>7}"
        f"{row['peak_rss_mib_median']:>14}  (target ≤ 4 s, ≤ 150 MiB)"
    )
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(row, indent=2) + "\n", encoding="utf-8")
    return 0 if len(results) == args.count and codes == {2} else 1


if __name__ == "__main__":
    raise SystemExit(main())
