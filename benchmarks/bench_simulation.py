"""Local simulation speed: one typical 6-operator alpha on a 3000 × 1260 synthetic market, numpy +
bottleneck vs a straightforward pandas implementation of the same semantics (same numbers).

Run:  .venv/bin/python benchmarks/bench_simulation.py [--instruments 3000] [--days 1260] [--repeat 5]
Prints a table and writes benchmarks/results/bench_simulation.json. Targets: ≤ 1 s per simulation,
≥ 5× faster than pandas. Medians are quoted.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import resource
import statistics
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from brain_agent.simulation.backend import SimulationJob, SimulationSettings
from brain_agent.simulation.local.backend import LocalBackend
from brain_agent.simulation.local.market import MarketSpec, synthetic_market
from brain_agent.simulation.local.panel import GroupValue, Panel
from brain_agent.simulation.result import AlphaResult

EXPRESSION = "rank(ts_mean(-ts_delta(close, 5), 3) / ts_std_dev(returns, 20))"  # 6 operators
BOOK = 20e6


def pandas_simulation(panel: Panel, settings: SimulationSettings) -> dict[str, float]:
    """The same pipeline written plainly with pandas DataFrames (dates × instruments)."""
    universe = pd.DataFrame(panel.universe_for(settings.universe))
    close = pd.DataFrame(panel.matrix("close")).where(universe)
    returns = pd.DataFrame(panel.matrix("returns")).where(universe)
    x = -(close - close.shift(5))
    x = x.rolling(3, min_periods=3).mean() / returns.rolling(20, min_periods=20).std(ddof=0)
    x = x.replace([np.inf, -np.inf], np.nan)
    r = x.rank(axis=1)
    n = x.notna().sum(axis=1)
    alpha = r.sub(1).div(n - 1, axis=0).where(universe)
    group = panel.get(settings.neutralization.lower())
    assert isinstance(group, GroupValue)
    long = alpha.stack().rename("a").reset_index()
    long.columns = ["t", "i", "a"]
    long["g"] = np.asarray(group.codes)[long["t"].to_numpy(), long["i"].to_numpy()]
    long = long[long["g"] >= 0]
    long["a"] = long["a"] - long.groupby(["t", "g"])["a"].transform("mean")
    neutral = long.pivot(index="t", columns="i", values="a").reindex(index=alpha.index, columns=alpha.columns)
    w = neutral.fillna(0.0)
    w = w.div(w.abs().sum(axis=1).replace(0, np.nan), axis=0).fillna(0.0)
    for _ in range(20):
        if w.abs().max().max() <= settings.truncation * (1 + 1e-9):
            break
        w = w.clip(-settings.truncation, settings.truncation)
        w = w.div(w.abs().sum(axis=1).replace(0, np.nan), axis=0).fillna(0.0)
    dollars = w * BOOK
    pnl = (dollars.shift(1) * pd.DataFrame(panel.matrix("returns")).fillna(0.0)).sum(axis=1)
    active = dollars.iloc[:-1].ne(0).any(axis=1)
    first = int(np.flatnonzero(active.to_numpy())[0])
    held = dollars.iloc[first:-1]
    traded = held.diff().abs().sum(axis=1)
    traded.iloc[0] = held.iloc[0].abs().sum()
    days = pnl.iloc[first + 1 :]
    sharpe = math.sqrt(252) * days.mean() / days.std(ddof=0)
    turnover = traded.mean() / BOOK
    returns_ = days.mean() * 252 / (BOOK / 2)
    cum = pd.concat([pd.Series([0.0]), days.cumsum()])
    return {
        "sharpe": float(sharpe),
        "turnover": float(turnover),
        "returns": float(returns_),
        "fitness": float(sharpe * math.sqrt(abs(returns_) / max(turnover, 0.125))),
        "drawdown": float((cum.cummax() - cum).max() / (BOOK / 2)),
    }


def timed(fn: Any, repeat: int) -> tuple[list[float], Any]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return times, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instruments", type=int, default=3000)
    parser.add_argument("--days", type=int, default=1260)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    settings = SimulationSettings()  # TOP3000, delay 1, SUBINDUSTRY, truncation 0.08
    t0 = time.perf_counter()
    panel = synthetic_market(MarketSpec(instruments=args.instruments, days=args.days, seed=7))
    build_s = time.perf_counter() - t0
    backend = LocalBackend(panel)
    job = SimulationJob("bench", EXPRESSION, settings)

    def local() -> AlphaResult:
        outcome = backend.simulate([job])[0]
        assert outcome.status == "COMPLETE", outcome.error
        return AlphaResult.model_validate(outcome.result)

    local()  # warm-up: universe masks, imports
    local_times, result = timed(local, args.repeat)
    pandas_times, reference = timed(lambda: pandas_simulation(panel, settings), max(2, args.repeat // 2))
    tracemalloc.start()
    local()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    local_med, pandas_med = statistics.median(local_times), statistics.median(pandas_times)
    row = {
        "expression": EXPRESSION,
        "instruments": args.instruments,
        "days": args.days,
        "market_build_s": round(build_s, 3),
        "local_median_s": round(local_med, 4),
        "local_times_s": [round(t, 4) for t in local_times],
        "pandas_median_s": round(pandas_med, 4),
        "pandas_times_s": [round(t, 4) for t in pandas_times],
        "speedup": round(pandas_med / local_med, 2),
        "peak_traced_mb": round(peak / 2**20, 1),
        "max_rss_mb": round(rss_mb, 1),
        "local_sharpe": result.is_.sharpe,
        "pandas_sharpe": round(reference["sharpe"], 2),
        "local_turnover": result.is_.turnover,
        "pandas_turnover": round(reference["turnover"], 4),
        "targets": {"local_s_max": 1.0, "speedup_min": 5.0},
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
    }
    print(f"expression: {EXPRESSION}   market: {args.instruments} × {args.days} (built in {build_s:.2f} s)")
    print(f"{'implementation':<22}{'median s':>10}{'runs':>36}")
    print(f"{'numpy+bottleneck':<22}{local_med:>10.3f}{row['local_times_s']!s:>36}")
    print(f"{'pandas':<22}{pandas_med:>10.3f}{row['pandas_times_s']!s:>36}")
    print(
        f"speed-up {row['speedup']}×   peak traced {row['peak_traced_mb']} MB   "
        f"max RSS {row['max_rss_mb']} MB"
    )
    print(
        f"same numbers: sharpe {row['local_sharpe']} vs {row['pandas_sharpe']}, "
        f"turnover {row['local_turnover']} vs {row['pandas_turnover']}"
    )
    out = Path(__file__).resolve().parent / "results" / "bench_simulation.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(row, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
