"""The sp500-2009-2010 market: how long it takes to build, and one alpha's simulation on it.

    .venv/bin/python benchmarks/bench_real_market.py [--runs 9]

1. Build in this process (read the package's two data files, parse, make the panel), ``--runs`` times.
2. First build in a fresh process (import numpy and the package included: what a CLI call pays).
3. One alpha, ``rank(ts_mean(-ts_delta(close, 5), 3) / ts_std_dev(returns, 20))`` (6 operators), default
   settings, sub-expression cache off, one process, ``--runs`` times (each run a fresh evaluator).
4. ``simulate-candidates --market sp500-2009-2010`` on 2 candidates, wall time of the whole command.

Writes benchmarks/results/real_market.json. Needs ``pip install 'brain-agent[markets]'``.
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

from brain_agent.simulation.backend import SimulationJob, SimulationSettings
from brain_agent.simulation.local import real_market
from brain_agent.simulation.local.backend import LocalBackend
from brain_agent.simulation.local.cache import SubexpressionCache
from brain_agent.simulation.markets import SP500

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
ALPHA = "rank(ts_mean(-ts_delta(close, 5), 3) / ts_std_dev(returns, 20))"


def _stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_s": round(statistics.median(ordered), 4),
        "min_s": round(ordered[0], 4),
        "max_s": round(ordered[-1], 4),
        "runs": len(ordered),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    rows: dict[str, dict[str, float]] = {}

    builds = []
    for _ in range(args.runs):
        start = time.perf_counter()
        prices, sectors, version = real_market._package_data("--market", SP500)
        panel = real_market.build_sp500(prices, sectors, version)
        builds.append(time.perf_counter() - start)
    rows["build, in process"] = _stats(builds)

    code = (
        "import time; t = time.perf_counter()\n"
        "from brain_agent.simulation.local.real_market import market_panel\n"
        "market_panel('sp500-2009-2010'); print(time.perf_counter() - t)\n"
    )
    fresh = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(max(3, args.runs // 2))
    ]
    rows["first build, fresh process (imports included)"] = _stats(fresh)

    sims = []
    for i in range(args.runs):
        backend = LocalBackend(panel=panel, workers=1, cache=SubexpressionCache(0))
        job = SimulationJob(f"b{i}", ALPHA, SimulationSettings())
        start = time.perf_counter()
        (outcome,) = backend.simulate([job])
        sims.append(time.perf_counter() - start)
        assert outcome.status == "COMPLETE", outcome.error
    rows["one 6-operator alpha (uncached)"] = _stats(sims)

    tmp = Path(tempfile.mkdtemp(prefix="bench-market-"))
    source = tmp / "c.json"
    source.write_text(
        json.dumps(
            [
                {"candidate_id": "a", "expression": ALPHA},
                {"candidate_id": "b", "expression": "group_rank(volume / adv20, sector)"},
            ]
        ),
        encoding="utf-8",
    )
    cli = [
        str(Path(sys.executable).parent / "brain-agent"),
        "simulate-candidates",
        "--input",
        str(source),
        "--market",
        SP500,
        "--workers",
        "1",
    ]
    walls = []
    for i in range(max(3, args.runs // 2)):
        argv = [*cli, "--output", str(tmp / f"o{i}.json"), "--db", str(tmp / f"s{i}.db")]
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls.append(time.perf_counter() - start)
    rows["simulate-candidates --market, 2 alphas (wall)"] = _stats(walls)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    print(f"{panel.name}: {panel.shape[1]} instruments × {panel.shape[0]} days (load average {load})")
    print(f"{'what':<48} {'median':>8} {'min':>8} {'max':>8} {'runs':>5}")
    for name, s in rows.items():
        print(f"{name:<48} {s['median_s']:>8.3f} {s['min_s']:>8.3f} {s['max_s']:>8.3f} {s['runs']:>5}")
    RESULTS.mkdir(exist_ok=True)
    out = {
        "panel": panel.name,
        "shape": list(panel.shape),
        "load_average": load,
        "python": platform.python_version(),
        "rows": rows,
    }
    (RESULTS / "real_market.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"→ {RESULTS / 'real_market.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
