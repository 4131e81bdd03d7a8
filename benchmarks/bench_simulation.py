"""Local simulation speed, side by side in one run:

1. one typical 6-operator alpha on a 3000 × 1260 synthetic market, numpy + bottleneck + the C
   kernels (rank, book, moving windows, fields), and again with them off, vs a straightforward pandas
   implementation of the same semantics (same numbers);
2. the machine's memory bandwidth (a large copy) and the bound it puts on that alpha, counting the
   bytes each operator must read and write (unfused) and the bytes a perfectly fused evaluation must
   touch (each field read once, the alpha written once, the book's passes);
3. 100 LLM-style alphas (``brain_agent.simulation.local.corpus``: fixed seed, realistic sharing)
   through the real runner and a real SQLite store, in three set-ups: as on main (one process,
   sharing only within a batch of 10), with the process-wide sub-expression cache, and with the
   cache and worker processes; the last two again with the C kernels off
   (``BRAIN_AGENT_SIM_NATIVE=0``). Each set-up runs in a fresh child process (its own market build,
   so peak RSS is its own); alphas/min, CPU seconds per alpha, peak RSS of the main process and of
   the workers, peak PSS summed over all of them (shared market pages counted once), and a digest
   of every result's metrics, which must be equal across set-ups.

Run:  .venv/bin/python benchmarks/bench_simulation.py [--instruments 3000] [--days 1260] [--repeat 7]
      [--batch 100] [--batch-repeat 3] [--workers 2] [--cache-mb 192]
Prints a table and writes benchmarks/results/bench_simulation.json. Medians are quoted; set-ups
alternate, so a busy machine slows all alike. The machine is shared: wall-clock throughput moves with
the load of other processes; CPU seconds per alpha moves much less.

Both sides of (1) do the whole job: pasteurize to TOP3000, the expression, SUBINDUSTRY
neutralization, unit gross, truncation 0.08, $20M book PnL and metrics, and the sub-universe Sharpe
(most liquid third, market-neutralized). Ours also builds and validates the BRAIN-shaped result;
pandas does not.
"""

from __future__ import annotations

import argparse
import json
import math
import os
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
from brain_agent.simulation.local.cache import DEFAULT_CACHE_MB, SubexpressionCache
from brain_agent.simulation.local.kernels._native import ENV as NATIVE_ENV
from brain_agent.simulation.local.kernels._native import native_rank, use_native
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


def _stamped_out(result: AlphaResult) -> dict[str, Any]:
    """The result without its creation stamps (everything computed, PnL included)."""
    data = result.model_dump(by_alias=True)
    data.pop("dateCreated", None)
    data.pop("dateModified", None)
    return data


def _sub_sharpe(result: AlphaResult) -> float | None:
    for check in result.model_dump(by_alias=True)["is"]["checks"]:
        if check["name"] == "LOW_SUB_UNIVERSE_SHARPE":
            return float(check["value"])
    return None


def single_alpha(args: argparse.Namespace) -> dict[str, Any]:
    """Part 1: the 6-operator alpha, ours vs pandas, alternating."""
    repeat = max(5, args.repeat)
    pandas_repeat = max(3, repeat // 2)
    settings = SimulationSettings()  # TOP3000, delay 1, SUBINDUSTRY, truncation 0.08
    t0 = time.perf_counter()
    panel = synthetic_market(MarketSpec(instruments=args.instruments, days=args.days, seed=7))
    build_s = time.perf_counter() - t0
    job = SimulationJob("bench", EXPRESSION, settings)
    # every run computes everything (no cache); one thread, and the kernels' slices on args.threads
    backends = {
        1: LocalBackend(panel, workers=1, cache=SubexpressionCache(0), threads=1),
        args.threads: LocalBackend(panel, workers=1, cache=SubexpressionCache(0), threads=args.threads),
    }

    def local(threads: int) -> AlphaResult:
        outcome = backends[threads].simulate([job])[0]
        assert outcome.status == "COMPLETE", outcome.error
        return AlphaResult.model_validate(outcome.result)

    first_s, _ = _timed(lambda: local(1))  # first run: universe masks, group bins, returns are made
    local(args.threads)
    pandas_simulation(panel, settings)  # pandas warms up too (its first call is much slower)
    times: dict[int, list[float]] = {t: [] for t in backends}
    numpy_times: list[float] = []  # the threaded set-up with the C kernels off
    native = native_rank is not None  # the C kernels were built
    pandas_times: list[float] = []
    result: Any = None
    reference: Any = None
    threaded: Any = None
    for i in range(repeat):  # alternate, so load from other processes hits all alike
        seconds, result = _timed(lambda: local(1))
        times[1].append(seconds)
        seconds, threaded = _timed(lambda: local(args.threads))
        times[args.threads].append(seconds)
        use_native(False)
        seconds, numpy_kernels = _timed(lambda: local(args.threads))
        use_native(True)
        numpy_times.append(seconds)
        if i < pandas_repeat:
            seconds, reference = _timed(lambda: pandas_simulation(panel, settings))
            pandas_times.append(seconds)
    local_times = times[args.threads]
    tracemalloc.start()
    local(args.threads)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    local_med, pandas_med = statistics.median(local_times), statistics.median(pandas_times)
    one_med = statistics.median(times[1])
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
        "threads": args.threads,
        "local_median_s": round(local_med, 4),
        "local_times_s": [round(t, 4) for t in local_times],
        "native_kernels": native,
        "local_numpy_kernels_median_s": round(statistics.median(numpy_times), 4),
        "local_numpy_kernels_times_s": [round(t, 4) for t in numpy_times],
        "local_one_thread_median_s": round(one_med, 4),
        "local_one_thread_times_s": [round(t, 4) for t in times[1]],
        "one_thread_speedup": round(pandas_med / one_med, 2),
        "pandas_median_s": round(pandas_med, 4),
        "pandas_times_s": [round(t, 4) for t in pandas_times],
        "speedup": round(pandas_med / local_med, 2),
        "peak_traced_mb": round(peak / 2**20, 1),
        "max_rss_mb": round(rss_mb, 1),
        "local_metrics": ours,
        "pandas_metrics": theirs,
        "same_numbers": ours == theirs,
        "same_with_threads": _stamped_out(threaded) == _stamped_out(result),
        "same_with_numpy_kernels": _stamped_out(numpy_kernels) == _stamped_out(result),
        "targets": {"local_s_max": 0.12, "speedup_min": 25.0},
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
    }
    print(f"expression: {EXPRESSION}   market: {args.instruments} × {args.days} (built in {build_s:.2f} s)")
    print(f"{'implementation':<20}{'median s':>10}{'runs':>6}   times (s)")
    print(f"{'ours, 1 thread':<20}{one_med:>10.3f}{repeat:>6}   {row['local_one_thread_times_s']}")
    print(f"{f'ours, {args.threads} threads':<20}{local_med:>10.3f}{repeat:>6}   {row['local_times_s']}")
    numpy_label = f"numpy kernels, {args.threads}t"
    numpy_med, numpy_shown = row["local_numpy_kernels_median_s"], row["local_numpy_kernels_times_s"]
    print(f"{numpy_label:<20}{numpy_med:>10.3f}{repeat:>6}   {numpy_shown}")
    print(f"{'pandas':<20}{pandas_med:>10.3f}{pandas_repeat:>6}   {row['pandas_times_s']}")
    print(
        f"speed-up {row['speedup']}× with {args.threads} threads, {row['one_thread_speedup']}× on one "
        f"(targets ≤ 0.12 s, ≥ 25×)   first run {first_s:.3f} s   "
        f"peak traced {row['peak_traced_mb']} MB   max RSS {row['max_rss_mb']} MB"
    )
    same = (
        f"{row['same_numbers']} (threaded = one thread: {row['same_with_threads']}; "
        f"numpy kernels = C kernels: {row['same_with_numpy_kernels']}; C kernels built: {native})"
    )
    print(f"same numbers: {same}   ours {ours}")
    if not row["same_numbers"]:
        print(f"                      pandas {theirs}")
    return row


# -- part 2: memory bandwidth -----------------------------------------------------------------------
def bandwidth(repeat: int = 7) -> float:
    """Bytes per second a large copy moves (read + write), median of ``repeat`` copies of 128 MiB."""
    src = np.ones(2**24)  # 128 MiB
    dst = np.empty_like(src)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        np.copyto(dst, src)
        times.append(time.perf_counter() - start)
    return 2 * src.nbytes / statistics.median(times)


def alpha_traffic(expression: str, cells: int) -> dict[str, float]:
    """Bytes the alpha must move. Unfused: every operator reads each array input and writes its
    output; each field is pasteurized (field and mask read, copy written). Fused: each field read
    once and the alpha written once. Both add the book: the alpha read with the universe and group
    keys, the returns, for the book and for the sub-universe check (≈ 6 passes)."""
    from brain_agent.expression.ast import Binary, Call, Name, Number, Ternary, Unary
    from brain_agent.expression.parser import parse
    from brain_agent.simulation.local.evaluator import inline, walk

    tree = inline(parse(expression))
    matrix = 8 * cells
    unfused_passes = 0
    fields: set[str] = set()
    for node in walk(tree):
        if isinstance(node, Name):
            fields.add(node.id)
        elif isinstance(node, Call | Unary | Binary | Ternary):
            children = (
                list(node.args)
                if isinstance(node, Call)
                else [node.operand]
                if isinstance(node, Unary)
                else [node.left, node.right]
                if isinstance(node, Binary)
                else [node.cond, node.then, node.otherwise]
            )
            if isinstance(node, Unary) and isinstance(node.operand, Number):
                continue
            unfused_passes += sum(1 for c in children if not isinstance(c, Number)) + 1
    book_passes = 6
    unfused = (unfused_passes + 2.125 * len(fields) + book_passes) * matrix
    fused = (len(fields) + 1 + book_passes) * matrix
    return {"unfused_bytes": unfused, "fused_bytes": fused, "fields": len(fields)}


# -- part 3: 100 LLM-style alphas -------------------------------------------------------------------
SETUPS: dict[str, dict[str, Any]] = {
    "main": {
        "workers": 1,
        "threads": 1,
        "cache_mb": 0.0,
        "about": "1 process, 1 thread, sharing only within a batch of 10 (as on main before the cache)",
    },
    "cache": {
        "workers": 1,
        "threads": None,
        "cache_mb": None,
        "about": "1 process + cache, kernels on threads",
    },
    "workers": {"workers": None, "threads": None, "cache_mb": None, "about": "cache + worker processes"},
    "cache-np": {
        "workers": 1,
        "threads": None,
        "cache_mb": None,
        "native": False,
        "about": "as cache, C kernels off (BRAIN_AGENT_SIM_NATIVE=0)",
    },
    "workers-np": {
        "workers": None,
        "threads": None,
        "cache_mb": None,
        "native": False,
        "about": "as workers, C kernels off (BRAIN_AGENT_SIM_NATIVE=0)",
    },
}


def _pss_mb(pid: int) -> float:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0.0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _hwm_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM; unlike ru_maxrss it does not inherit the parent's)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in text.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class _MemorySampler:
    """Samples this process's and its children's PSS (shared pages split between sharers)."""

    def __init__(self) -> None:
        import threading

        self.pid = os.getpid()
        self.peak_pss_mb = 0.0
        self.workers_hwm_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            children = _children(self.pid)
            total = _pss_mb(self.pid) + sum(_pss_mb(c) for c in children)
            self.peak_pss_mb = max(self.peak_pss_mb, total)
            for child in children:
                self.workers_hwm_mb = max(self.workers_hwm_mb, _hwm_mb(child))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_pss_mb


def batch_child(setup: str, args: argparse.Namespace) -> dict[str, Any]:
    """One set-up in this (fresh) process: build the market, run the batch through the runner."""
    import hashlib
    import tempfile

    from brain_agent.simulation.local.corpus import llm_style_alphas
    from brain_agent.simulation.runner import simulate_candidates
    from brain_agent.storage.sqlite_store import SQLiteStore

    sampler = _MemorySampler()
    conf = SETUPS[setup]
    cache_mb = args.cache_mb if conf["cache_mb"] is None else conf["cache_mb"]
    workers = args.workers if conf["workers"] is None else conf["workers"]
    panel = synthetic_market(MarketSpec(instruments=args.instruments, days=args.days, seed=7))
    cache = SubexpressionCache.from_mb(float(cache_mb))
    threads = args.threads if conf["threads"] is None else conf["threads"]
    backend = LocalBackend(panel, cache=cache, workers=int(workers), threads=int(threads))
    if setup == "main":
        backend.max_in_flight = backend.max_batch
    alphas = llm_style_alphas(args.batch)
    candidates = [{"candidate_id": f"c{i:03d}", "expression": e, "valid": True} for i, e in enumerate(alphas)]
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "bench.db")
        cpu0 = time.process_time()
        child0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        records = simulate_candidates(store, candidates, backend, SimulationSettings())
        wall = time.perf_counter() - start
        cache_stats = backend.cache_stats()
        backend.close()  # workers exit, so their CPU time is counted below
        child1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (
            time.process_time()
            - cpu0
            + (child1.ru_utime + child1.ru_stime)
            - (child0.ru_utime + child0.ru_stime)
        )
        store.close()
    peak_pss = sampler.stop()
    metrics = [
        [
            r["candidate_id"],
            r["status"],
            (r["result"] or {}).get("is", {}).get("sharpe"),
            (r["result"] or {}).get("is", {}).get("fitness"),
            (r["result"] or {}).get("is", {}).get("turnover"),
            (r["result"] or {}).get("is", {}).get("returns"),
            (r["result"] or {}).get("pnl", {}).get("values") if r["result"] else None,
        ]
        for r in records
    ]
    digest = hashlib.sha256(json.dumps(metrics).encode()).hexdigest()[:16]
    return {
        "setup": setup,
        "workers": backend.workers,
        "cache_mb": cache_mb,
        "wall_s": round(wall, 3),
        "alphas_per_min": round(len(records) / wall * 60, 1),
        "cpu_s_per_alpha": round(cpu / len(records), 4),
        "complete": sum(1 for r in records if r["status"] == "COMPLETE"),
        "max_rss_mb": round(_hwm_mb(os.getpid()), 1),
        "workers_max_rss_mb": round(sampler.workers_hwm_mb, 1),
        "peak_pss_total_mb": round(peak_pss, 1),
        "cache": cache_stats,
        "digest": digest,
    }


def batch(args: argparse.Namespace) -> dict[str, Any]:
    """Part 3: every set-up ``--batch-repeat`` times, alternating, each in a fresh child process."""
    import subprocess
    import sys

    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in SETUPS}
    for _ in range(args.batch_repeat):
        for name in SETUPS:
            cmd = [
                sys.executable,
                __file__,
                "--child",
                name,
                "--instruments",
                str(args.instruments),
                "--days",
                str(args.days),
                "--batch",
                str(args.batch),
                "--workers",
                str(args.workers),
                "--cache-mb",
                str(args.cache_mb),
                "--threads",
                str(args.threads),
            ]
            env = dict(os.environ)
            if SETUPS[name].get("native", True) is False:
                env[NATIVE_ENV] = "0"  # the child and its workers rank with numpy
            out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
            runs[name].append(json.loads(out.strip().splitlines()[-1]))
    summary: dict[str, Any] = {}
    for name, items in runs.items():
        summary[name] = {
            "about": SETUPS[name]["about"],
            "workers": items[0]["workers"],
            "alphas_per_min_median": statistics.median(r["alphas_per_min"] for r in items),
            "alphas_per_min": [r["alphas_per_min"] for r in items],
            "cpu_s_per_alpha_median": statistics.median(r["cpu_s_per_alpha"] for r in items),
            "max_rss_mb_median": statistics.median(r["max_rss_mb"] for r in items),
            "workers_max_rss_mb_median": statistics.median(r["workers_max_rss_mb"] for r in items),
            "peak_pss_total_mb_median": statistics.median(r["peak_pss_total_mb"] for r in items),
            "cache_hits": items[0]["cache"]["hits"],
            "digests": sorted({r["digest"] for r in items}),
            "complete": items[0]["complete"],
        }
    digests = {d for v in summary.values() for d in v["digests"]}
    return {"setups": summary, "same_results": len(digests) == 1, "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instruments", type=int, default=3000)
    parser.add_argument("--days", type=int, default=1260)
    parser.add_argument("--repeat", type=int, default=7, help="runs of ours (≥ 5); pandas runs half, ≥ 3")
    parser.add_argument("--batch", type=int, default=100, help="LLM-style alphas in the batch part")
    parser.add_argument("--batch-repeat", type=int, default=3, help="runs of each batch set-up (median)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cache-mb", type=float, default=float(DEFAULT_CACHE_MB))
    parser.add_argument("--threads", type=int, default=min(4, os.cpu_count() or 1))
    parser.add_argument("--child", choices=sorted(SETUPS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(batch_child(args.child, args)))
        return
    row = single_alpha(args)
    bw = bandwidth()
    cells = args.instruments * args.days
    traffic = alpha_traffic(EXPRESSION, cells)
    bound = {
        "bandwidth_gb_s": round(bw / 1e9, 2),
        "alpha_unfused_mb": round(traffic["unfused_bytes"] / 2**20, 1),
        "alpha_fused_mb": round(traffic["fused_bytes"] / 2**20, 1),
        "alpha_unfused_bound_s": round(traffic["unfused_bytes"] / bw, 4),
        "alpha_fused_bound_s": round(traffic["fused_bytes"] / bw, 4),
    }
    print(
        f"memory bandwidth {bound['bandwidth_gb_s']} GB/s (128 MiB copy): this alpha moves "
        f"≥ {bound['alpha_unfused_mb']} MiB unfused → ≥ {bound['alpha_unfused_bound_s'] * 1e3:.0f} ms; "
        f"fused ≥ {bound['alpha_fused_mb']} MiB → ≥ {bound['alpha_fused_bound_s'] * 1e3:.0f} ms "
        f"(ours: {row['local_median_s'] * 1e3:.0f} ms)"
    )
    row["memory_bound"] = bound
    if args.batch > 0 and args.batch_repeat > 0:
        part = batch(args)
        row["batch"] = part
        print(
            f"\n{args.batch} LLM-style alphas (seeded corpus) through the runner + SQLite, "
            f"{args.batch_repeat} runs each, medians:"
        )
        print(
            f"{'set-up':<10}{'alphas/min':>11}{'cpu s/alpha':>13}{'RSS main':>10}{'RSS wkr':>9}"
            f"{'PSS all':>9}{'hits':>6}   runs (alphas/min)"
        )
        for name, v in part["setups"].items():
            print(
                f"{name:<10}{v['alphas_per_min_median']:>11.1f}{v['cpu_s_per_alpha_median']:>13.3f}"
                f"{v['max_rss_mb_median']:>10.0f}{v['workers_max_rss_mb_median']:>9.0f}"
                f"{v['peak_pss_total_mb_median']:>9.0f}{v['cache_hits']:>6}   {v['alphas_per_min']}"
            )
        print(
            f"same results in every set-up and run: {part['same_results']}   "
            f"(RSS in MiB; PSS counts shared market pages once; targets ≥ 400 alphas/min, peak RSS ≤ 600)"
        )
    out = Path(__file__).resolve().parent / "results" / "bench_simulation.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(row, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
