"""The work the simulation runner does per alpha outside the simulator's kernels, before and after.

Two parts, each run in fresh child processes that alternate between the code under test and (with
``--baseline REF``) the source of a git ref exported to a temporary directory, so both sides see the
same machine load:

1. **replay**: the runner alone. The 100 LLM-style alphas (``local.corpus``, fixed seed) are
   simulated once on the synthetic market by the real ``LocalBackend``; every child then replays
   those recorded outcomes through a backend that answers at once, into a fresh SQLite store, and
   measures the CPU seconds per alpha of ``simulate_candidates``: self-correlation against the
   earlier results, result validation, store writes, events, records. It also hashes every stored
   ``result`` column and the returned records (timings and run id aside), which must be equal on
   both sides.
   Two scenarios: an empty store, and a store already holding 200 completed results (written
   directly, then reopened: the timed run starts with a cold cache, as a new process would).
2. **full**: the whole 100-alpha batch with the real ``LocalBackend`` in one process (workers=1,
   the default sub-expression cache) as ``bench_simulation.py`` runs it; CPU seconds per alpha.

``--profile`` adds a cProfile of one replay on each side (the top functions by cumulative time).

Run:  .venv/bin/python benchmarks/bench_runner.py [--baseline REF] [--repeat 7] [--full-repeat 3]
      [--batch 100] [--instruments 3000] [--days 1260] [--profile] [--no-full]
Prints a table and writes benchmarks/results/bench_runner.json. Medians are quoted.
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import hashlib
import io
import json
import os
import pickle
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "bench_runner.json"


# -- children ---------------------------------------------------------------------------------------
class ReplayBackend:
    """A ``SimulationBackend`` answering every job at once with a recorded outcome (by candidate)."""

    name = "local"
    max_batch = 10
    max_in_flight = 10

    def __init__(self, outcomes: dict[str, Any]) -> None:
        self.outcomes = outcomes
        self.pending: dict[str, str] = {}

    def submit(self, jobs: Sequence[Any]) -> list[str]:
        handles = []
        for job in jobs:
            handle = f"replay:{job.candidate_id}"
            self.pending[handle] = job.candidate_id
            handles.append(handle)
        return handles

    def poll(self, handle: str) -> Any:
        from brain_agent.simulation.backend import Poll

        outcome = self.outcomes[self.pending.pop(handle)]
        return Poll(done=True, progress=1.0, retry_after_s=0.0, outcome=outcome, extra={"run_s": 0.0})


def _candidates(alphas: list[str]) -> list[dict[str, Any]]:
    return [{"candidate_id": f"c{i:03d}", "expression": e, "valid": True} for i, e in enumerate(alphas)]


def _digests(store: Any, records: list[dict[str, Any]], clock_free: bool = False) -> dict[str, str]:
    """Hashes of the stored rows (the ``result`` text byte for byte; with ``clock_free``, parsed and
    without the backend's ``dateCreated`` / ``dateModified`` stamps) and of the returned records."""
    rows = store.conn.execute(
        "SELECT result, sharpe, fitness, passed FROM simulations ORDER BY id"
    ).fetchall()
    kept_rows = [list(r) for r in rows]
    if clock_free:
        for r in kept_rows:
            if r[0] is not None:
                result = json.loads(r[0])
                result.pop("dateCreated", None)
                result.pop("dateModified", None)
                r[0] = json.dumps(result, sort_keys=True)
    stored = hashlib.sha256(json.dumps(kept_rows).encode()).hexdigest()[:16]
    kept = [{k: v for k, v in r.items() if k not in ("timings", "run_id")} for r in records]
    returned = hashlib.sha256(json.dumps(kept).encode()).hexdigest()[:16]
    return {"stored": stored, "records": returned}


def prefill_store(path: Path, outcomes: dict[str, Any], rows: int) -> None:
    """``rows`` completed results (the recorded ones, round robin, as other candidates) written
    straight into the store, then closed: the timed run starts with a cold cache, as a new process."""
    from brain_agent.storage.simulation_store import Finish
    from brain_agent.storage.sqlite_store import SQLiteStore

    store = SQLiteStore(path)
    sims = store.simulations
    items = list(outcomes.values())
    for j in range(rows):
        outcome = items[j % len(items)]
        row = sims.create(
            candidate_id=f"p{j:04d}",
            run_id=None,
            idea_id=None,
            lane=None,
            backend="local",
            expression=f"prefill {j}",
            settings_key="k",
            settings={},
            status="QUEUED",
            created_at=float(j),
        )
        result = outcome.result
        sims.finish(
            row,
            Finish(
                status="COMPLETE",
                finished_at=float(j),
                queue_s=0.0,
                run_s=0.0,
                total_s=0.0,
                result=result,
                sharpe=result["is"]["sharpe"],
            ),
        )
    store.close()


def replay_child(outcomes_file: str, repeat: int, profile: bool, prefill: int) -> dict[str, Any]:
    from brain_agent.simulation.backend import SimulationSettings
    from brain_agent.simulation.runner import simulate_candidates
    from brain_agent.storage.sqlite_store import SQLiteStore

    with open(outcomes_file, "rb") as fh:
        alphas, outcomes = pickle.load(fh)
    candidates = _candidates(alphas)
    cpu: list[float] = []
    wall: list[float] = []
    digests: set[tuple[str, str]] = set()
    top = ""
    for i in range(repeat + int(profile)):
        fresh = copy.deepcopy(outcomes)  # the runner fills in SELF_CORRELATION in place
        with tempfile.TemporaryDirectory() as tmp:
            if prefill:
                prefill_store(Path(tmp) / "bench.db", outcomes, prefill)
            store = SQLiteStore(Path(tmp) / "bench.db")
            prof = cProfile.Profile() if profile and i == repeat else None
            c0, w0 = time.process_time(), time.perf_counter()
            if prof is not None:
                prof.enable()
            records = simulate_candidates(store, candidates, ReplayBackend(fresh), SimulationSettings())
            if prof is not None:
                prof.disable()
            c1, w1 = time.process_time(), time.perf_counter()
            d = _digests(store, records)
            digests.add((d["stored"], d["records"]))
            store.close()
        if prof is None:
            cpu.append(c1 - c0)
            wall.append(w1 - w0)
        else:
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(25)
            top = out.getvalue()
    n = len(candidates)
    return {
        "cpu_ms_per_alpha": [round(c / n * 1000, 3) for c in cpu],
        "wall_ms_per_alpha": [round(w / n * 1000, 3) for w in wall],
        "digests": sorted(digests),
        "profile": top,
    }


def full_child(instruments: int, days: int, batch: int) -> dict[str, Any]:
    import resource

    from brain_agent.simulation.backend import SimulationSettings
    from brain_agent.simulation.local.backend import LocalBackend
    from brain_agent.simulation.local.corpus import llm_style_alphas
    from brain_agent.simulation.local.market import MarketSpec, synthetic_market
    from brain_agent.simulation.runner import simulate_candidates
    from brain_agent.storage.sqlite_store import SQLiteStore

    panel = synthetic_market(MarketSpec(instruments=instruments, days=days, seed=7))
    backend = LocalBackend(panel, workers=1)
    candidates = _candidates(llm_style_alphas(batch))
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "bench.db")
        c0, w0 = time.process_time(), time.perf_counter()
        records = simulate_candidates(store, candidates, backend, SimulationSettings())
        c1, w1 = time.process_time(), time.perf_counter()
        d = _digests(store, records, clock_free=True)
        store.close()
    backend.close()
    return {
        "cpu_s_per_alpha": round((c1 - c0) / len(records), 4),
        "wall_s_per_alpha": round((w1 - w0) / len(records), 4),
        "alphas_per_min": round(len(records) / (w1 - w0) * 60, 1),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "digest_stored": d["stored"],
    }


# -- parent -----------------------------------------------------------------------------------------
def record_outcomes(path: Path, instruments: int, days: int, batch: int) -> None:
    """Simulate the corpus once with the real local backend and keep the outcomes for the replays."""
    from brain_agent.simulation.backend import SimulationJob, SimulationSettings
    from brain_agent.simulation.local.backend import LocalBackend
    from brain_agent.simulation.local.corpus import llm_style_alphas
    from brain_agent.simulation.local.market import MarketSpec, synthetic_market

    panel = synthetic_market(MarketSpec(instruments=instruments, days=days, seed=7))
    backend = LocalBackend(panel, workers=1)
    alphas = llm_style_alphas(batch)
    settings = SimulationSettings()
    outcomes: dict[str, Any] = {}
    for start in range(0, len(alphas), backend.max_batch):
        jobs = [
            SimulationJob(candidate_id=f"c{i:03d}", expression=alphas[i], settings=settings)
            for i in range(start, min(len(alphas), start + backend.max_batch))
        ]
        for outcome in backend.simulate(jobs):
            outcomes[outcome.candidate_id] = outcome
    backend.close()
    with open(path, "wb") as fh:
        pickle.dump((alphas, outcomes), fh)


def export_ref(ref: str, into: Path) -> Path:
    """``git archive REF src`` unpacked under ``into``; returns the ``src`` directory."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "src"], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into / "src"


def run_child(src: Path, argv: list[str]) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(src))
    out = subprocess.run(
        [sys.executable, __file__, *argv], check=True, capture_output=True, text=True, env=env
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 4)


SCENARIOS = {"empty": 0, "window": 200}
"""Replays into an empty store, and into one already holding 200 completed results (the runner's
self-correlation window full from the first alpha, as in a store that has been used for a while)."""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", help="git ref to compare with (e.g. main); its src is exported")
    parser.add_argument("--instruments", type=int, default=3000)
    parser.add_argument("--days", type=int, default=1260)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="replays per child (median)")
    parser.add_argument("--children", type=int, default=3, help="replay children per side and scenario")
    parser.add_argument("--full-repeat", type=int, default=3, help="full batches per side (median)")
    parser.add_argument("--no-full", action="store_true", help="skip the full batches")
    parser.add_argument("--profile", action="store_true", help="cProfile one replay per side")
    parser.add_argument("--child", choices=("replay", "full"), help=argparse.SUPPRESS)
    parser.add_argument("--outcomes", help=argparse.SUPPRESS)
    parser.add_argument("--prefill", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "replay":
        print(json.dumps(replay_child(args.outcomes, args.repeat, args.profile, args.prefill)))
        return
    if args.child == "full":
        print(json.dumps(full_child(args.instruments, args.days, args.batch)))
        return

    with tempfile.TemporaryDirectory() as tmp:
        sides = {"this": ROOT / "src"}
        if args.baseline:
            base = Path(tmp) / "baseline"
            base.mkdir()
            sides = {"baseline": export_ref(args.baseline, base), **sides}
        outcomes = Path(tmp) / "outcomes.pkl"
        record_outcomes(outcomes, args.instruments, args.days, args.batch)
        replay: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for scenario, prefill in SCENARIOS.items():
            for i in range(args.children):
                for name, src in sides.items():
                    argv = ["--child", "replay", "--outcomes", str(outcomes), "--repeat", str(args.repeat)]
                    argv += ["--prefill", str(prefill)]
                    if args.profile and i == 0:
                        argv.append("--profile")
                    replay.setdefault((name, scenario), []).append(run_child(src, argv))
        full: dict[str, list[dict[str, Any]]] = {name: [] for name in sides}
        if not args.no_full:
            for _ in range(args.full_repeat):
                for name, src in sides.items():
                    argv = ["--child", "full", "--instruments", str(args.instruments)]
                    argv += ["--days", str(args.days), "--batch", str(args.batch)]
                    full[name].append(run_child(src, argv))

    summary: dict[str, Any] = {}
    for name in sides:
        row: dict[str, Any] = {}
        for scenario in SCENARIOS:
            runs = replay[(name, scenario)]
            cpu = [c for r in runs for c in r["cpu_ms_per_alpha"]]
            wall = [w for r in runs for w in r["wall_ms_per_alpha"]]
            row[f"replay_{scenario}"] = {
                "cpu_ms_per_alpha_median": _median(cpu),
                "cpu_ms_per_alpha_min": round(min(cpu), 3),
                "wall_ms_per_alpha_median": _median(wall),
                "runs": len(cpu),
                "digests": sorted({tuple(d) for r in runs for d in r["digests"]}),
            }
        if full[name]:
            row["full"] = {
                "cpu_s_per_alpha_median": _median([r["cpu_s_per_alpha"] for r in full[name]]),
                "cpu_s_per_alpha": [r["cpu_s_per_alpha"] for r in full[name]],
                "wall_s_per_alpha_median": _median([r["wall_s_per_alpha"] for r in full[name]]),
                "alphas_per_min_median": _median([r["alphas_per_min"] for r in full[name]]),
                "max_rss_mb_median": _median([r["max_rss_mb"] for r in full[name]]),
                "digests": sorted({r["digest_stored"] for r in full[name]}),
            }
        summary[name] = row
    same = all(
        len({json.dumps(summary[name].get(part, {}).get("digests")) for name in sides}) == 1
        for part in [*(f"replay_{s}" for s in SCENARIOS), "full"]
    )
    report = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "market": [args.instruments, args.days],
        "batch": args.batch,
        "baseline": args.baseline,
        "sides": summary,
        "same_stored_results": same,
        "profiles": {
            f"{name} {scenario}": runs[0]["profile"]
            for (name, scenario), runs in replay.items()
            if runs[0]["profile"]
        },
    }
    head = (
        "side",
        "runner CPU ms/alpha",
        "(200 earlier)",
        "full CPU s/alpha",
        "full wall s/alpha",
        "alphas/min",
    )
    print(f"{head[0]:<10} {head[1]:>20} {head[2]:>14} {head[3]:>17} {head[4]:>18} {head[5]:>11}")
    for name, row in summary.items():
        f = row.get("full", {})
        cells = (
            row["replay_empty"]["cpu_ms_per_alpha_median"],
            row["replay_window"]["cpu_ms_per_alpha_median"],
            f.get("cpu_s_per_alpha_median", "-"),
            f.get("wall_s_per_alpha_median", "-"),
            f.get("alphas_per_min_median", "-"),
        )
        print(f"{name:<10} {cells[0]:>20} {cells[1]:>14} {cells[2]:>17} {cells[3]:>18} {cells[4]:>11}")
    print(f"stored results and records equal on every side: {report['same_stored_results']}")
    if args.profile:
        for key, text in report["profiles"].items():
            print(f"\n== cProfile, one replay ({key}) ==\n{text}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
