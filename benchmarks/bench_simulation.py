"""Local simulation speed: one typical 6-operator alpha on a 3000 × 1260 synthetic market, numpy +
bottleneck vs a straightforward pandas implementation of the same semantics (same numbers).

Run:  .venv/bin/python benchmarks/bench_simulation.py [--instruments 3000] [--days 1260] [--repeat 7]
Prints a table and writes benchmarks/results/bench_simulation.json. Targets: ≤ 1 s per simulation,
≥ 5× faster than pandas. Medians are quoted; the two implementations alternate in one process, so a
busy machine slows both alike.

Both sides do the whole job: pasteurize to TOP3000, the expression, SUBINDUSTRY neutralization,
unit gross, truncation 0.08, $20M book PnL and metrics, and the sub-universe Sharpe (most liquid
third, market-neutralized). Ours also builds and validates the BRAIN-shaped result; pandas does not.
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
from brain_agent.simulation.local.backend import SUB_UNIVERSE, LocalBackend
from brain_agent.simulation.local.market import MarketSpec, synthetic_market
from brain_agent.simulation.local.panel import GroupValue, Panel
from brain_agent.simulation.result import AlphaResult

EXPRESSION = "rank(ts_mean(-ts_delta(close, 5), 3) / ts_std_dev(returns, 20))"  # 6 operators
BOOK = 20e6


def _unit_gross(w: pd.DataFrame) -> pd.DataFrame:
    return w.div(w.abs().sum(axis=1).replace(0, np.nan), axis=0).fillna(0.0)


def _pnl(dollars: pd.DataFrame, returns: pd.DataFrame) -> tuple[pd.Series, pd.Series, int]:
    """Daily PnL from the first date with a position held from the day before; traded dollars."""
    pnl = (dollars.shift(1) * returns.fillna(0.0)).sum(axis=1)
    active = dollars.iloc[:-1].ne(0).any(axis=1)
    first = int(np.flatnonzero(active.to_numpy())[0])
    held = dollars.iloc[first:-1]
    traded = held.diff().abs().sum(axis=1)
    traded.iloc[0] = held.iloc[0].abs().sum()
    return pnl.iloc[first + 1 :], traded, first


def _sharpe(days: pd.Series) -> float:
    return float(math.sqrt(252) * days.mean() / days.std(ddof=0))


def pandas_simulation(panel: Panel, settings: SimulationSettings) -> dict[str, float]:
    """The same pipeline written plainly with pandas DataFrames (dates × instruments)."""
    universe = pd.DataFrame(panel.universe_for(settings.universe))
    returns_all = pd.DataFrame(panel.matrix("returns"))
    close = pd.DataFrame(panel.matrix("close")).where(universe)
    returns = returns_all.where(universe)
    x = -(close - close.shift(5))
    x = x.rolling(3, min_periods=3).mean() / returns.rolling(20, min_periods=20).std(ddof=0)
    x = x.replace([np.inf, -np.inf], np.nan)
    r = x.rank(axis=1)
    n = x.notna().sum(axis=1)
    alpha = r.sub(1).div(n - 1, axis=0).where(universe)
    # subindustry neutralization: demean within each (date, group)
    group = panel.get(settings.neutralization.lower())
    assert isinstance(group, GroupValue)
    long = alpha.stack().rename("a").reset_index()
    long.columns = ["t", "i", "a"]
    long["g"] = np.asarray(group.codes)[long["t"].to_numpy(), long["i"].to_numpy()]
    long = long[long["g"] >= 0]
    long["a"] = long["a"] - long.groupby(["t", "g"])["a"].transform("mean")
    neutral = long.pivot(index="t", columns="i", values="a").reindex(index=alpha.index, columns=alpha.columns)
    w = _unit_gross(neutral.fillna(0.0))
    for _ in range(20):  # truncation: cap, rescale, repeat
        if w.abs().max().max() <= settings.truncation * (1 + 1e-9):
            break
        w = _unit_gross(w.clip(-settings.truncation, settings.truncation))
    days, traded, _ = _pnl(w * BOOK, returns_all)
    sharpe = _sharpe(days)
    turnover = traded.mean() / BOOK
    returns_ = days.mean() * 252 / (BOOK / 2)
    cum = pd.concat([pd.Series([0.0]), days.cumsum()])
    # sub-universe check: the most liquid third, market-neutralized, unit gross
    size = round(float(universe.sum(axis=1).mean()) * SUB_UNIVERSE[settings.universe])
    sub_alpha = alpha.where(pd.DataFrame(panel.universe(size)) & universe)
    sub_alpha = sub_alpha.sub(sub_alpha.mean(axis=1), axis=0)
    sub_days, _, _ = _pnl(_unit_gross(sub_alpha.fillna(0.0)) * BOOK, returns_all)
    return {
        "sharpe": sharpe,
        "turnover": float(turnover),
        "returns": float(returns_),
        "fitness": float(sharpe * math.sqrt(abs(returns_) / max(turnover, 0.125))),
        "drawdown": float((cum.cummax() - cum).max() / (BOOK / 2)),
        "sub_universe_sharpe": _sharpe(sub_days),
    }


def _timed(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def _sub_sharpe(result: AlphaResult) -> float | None:
    for check in result.model_dump(by_alias=True)["is"]["checks"]:
        if check["name"] == "LOW_SUB_UNIVERSE_SHARPE":
            return float(check["value"])
    return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instruments", type=int, default=3000)
    parser.add_argument("--days", type=int, default=1260)
    parser.add_argument("--repeat", type=int, default=7, help="runs of ours (≥ 5); pandas runs half, ≥ 3")
    args = parser.parse_args()
    repeat = max(5, args.repeat)
    pandas_repeat = max(3, repeat // 2)
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

    first_s, _ = _timed(local)  # first run: universe masks, group bins, NaN-free returns are made
    pandas_simulation(panel, settings)  # pandas warms up too (its first call is much slower)
    local_times: list[float] = []
    pandas_times: list[float] = []
    result: Any = None
    reference: Any = None
    for i in range(repeat):  # alternate, so load from other processes hits both alike
        seconds, result = _timed(local)
        local_times.append(seconds)
        if i < pandas_repeat:
            seconds, reference = _timed(lambda: pandas_simulation(panel, settings))
            pandas_times.append(seconds)
    tracemalloc.start()
    local()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    local_med, pandas_med = statistics.median(local_times), statistics.median(pandas_times)
    ours = {
        "sharpe": result.is_.sharpe,
        "turnover": result.is_.turnover,
        "returns": result.is_.returns,
        "fitness": result.is_.fitness,
        "drawdown": result.is_.drawdown,
        "sub_universe_sharpe": _sub_sharpe(result),
    }
    theirs = {
        "sharpe": round(reference["sharpe"], 2),
        "turnover": round(reference["turnover"], 4),
        "returns": round(reference["returns"], 4),
        "fitness": round(reference["fitness"], 2),
        "drawdown": round(reference["drawdown"], 4),
        "sub_universe_sharpe": round(reference["sub_universe_sharpe"], 4),
    }
    row = {
        "expression": EXPRESSION,
        "instruments": args.instruments,
        "days": args.days,
        "market_build_s": round(build_s, 3),
        "local_first_run_s": round(first_s, 4),
        "local_median_s": round(local_med, 4),
        "local_times_s": [round(t, 4) for t in local_times],
        "pandas_median_s": round(pandas_med, 4),
        "pandas_times_s": [round(t, 4) for t in pandas_times],
        "speedup": round(pandas_med / local_med, 2),
        "peak_traced_mb": round(peak / 2**20, 1),
        "max_rss_mb": round(rss_mb, 1),
        "local_metrics": ours,
        "pandas_metrics": theirs,
        "same_numbers": ours == theirs,
        "targets": {"local_s_max": 1.0, "speedup_min": 5.0},
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
    }
    print(f"expression: {EXPRESSION}   market: {args.instruments} × {args.days} (built in {build_s:.2f} s)")
    print(f"{'implementation':<20}{'median s':>10}{'runs':>6}   times (s)")
    print(f"{'numpy+bottleneck':<20}{local_med:>10.3f}{repeat:>6}   {row['local_times_s']}")
    print(f"{'pandas':<20}{pandas_med:>10.3f}{pandas_repeat:>6}   {row['pandas_times_s']}")
    print(
        f"speed-up {row['speedup']}× (target ≥ 5)   first run {first_s:.3f} s   "
        f"peak traced {row['peak_traced_mb']} MB   max RSS {row['max_rss_mb']} MB"
    )
    print(f"same numbers: {row['same_numbers']}   ours {ours}")
    if not row["same_numbers"]:
        print(f"                      pandas {theirs}")
    out = Path(__file__).resolve().parent / "results" / "bench_simulation.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(row, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
