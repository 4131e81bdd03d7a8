"""A realistic event sequence for one run, appended through the public ``SQLiteStore`` API.

Used in-process by tests and as a separate OS process (``python eventgen.py DB RUN_ID ...``) to play
the pipeline writing to the shared store while the server tails it. The lead swaps in ``run-batch``.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path
from typing import Any

from brain_agent.storage.sqlite_store import SQLiteStore
from brain_agent.telemetry import events as ev

LIMITS = {"request": 18_000, "batch": 60_000, "day": 500_000, "week": 2_000_000, "money_day": 5}
SUBCATEGORIES = [
    ["option-volatility", "price-volume"],
    ["analyst-estimates"],
    ["news-sentiment", "liquidity"],
]


def metadata(store: SQLiteStore, run_id: str, ts: float | None = None) -> int:
    return store.append_event(
        run_id,
        ev.METADATA_SYNC,
        step="pipeline",
        ts=ts,
        payload={
            "knowledge_pack": {
                "directory": "data/meta/index",
                "operators": 60,
                "fields": 400,
                "subcategories": 24,
                "digest": "abc",
            },
            "budget": {
                "limits": LIMITS,
                "exploit_ratio": 0.7,
                "explore_ratio": 0.3,
                "min_explore_candidates_per_batch": 1,
                "expansion_reserve_tokens": 4000,
            },
            "provider": "mock",
            "model": "mock-1",
            "batch_size": 4,
        },
    )


def idea_events(
    store: SQLiteStore,
    run_id: str,
    n: int,
    *,
    fallback: bool = False,
    ts: float | None = None,
    delay: float = 0.0,
) -> list[int]:
    """The events of one idea: refine, pack, check, (fallback), reserve, call, settle, candidate, simulate."""
    lane = "explore" if n % 3 == 2 else "exploit"
    idea = f"i{n}"
    cand = f"c{n}"
    subs = SUBCATEGORIES[n % len(SUBCATEGORIES)]
    tick = itertools.count()

    def add(name: str, payload: dict[str, Any], step: str) -> int:
        if delay:
            time.sleep(delay)
        t = None if ts is None else ts + next(tick) * 0.01
        return store.append_event(run_id, name, payload, step=step, idea_id=idea, lane=lane, ts=t)

    ids = [
        add(ev.IDEA_REFINED, {"title": f"idea {n}", "subcategories": subs}, "idea"),
        add(
            ev.RETRIEVAL_PACK_BUILT,
            {"topk": {"fields": 40, "operators": 30, "subcategories": 3}, "subcategories": subs},
            "retrieval",
        ),
        add(
            ev.BUDGET_CHECK_PASSED,
            {
                "prompt_tokens": 9000,
                "completion_tokens": 1500,
                "topk": {"fields": 40},
                "lane_ratio": {"exploit": 0.7, "explore": 0.3},
                "over_budget": False,
                "fallback_count": 0,
            },
            "budget",
        ),
    ]
    if fallback:
        ids.append(
            add(
                ev.BUDGET_FALLBACK_APPLIED,
                {
                    "stage": "fields",
                    "from_k": 40,
                    "to_k": 20,
                    "tokens_before": 9000,
                    "tokens_after": 7000,
                    "fallback_count": 1,
                },
                "budget",
            )
        )
    rid = f"r{n}"
    ids += [
        add(
            ev.BUDGET_RESERVED,
            {"reservation_id": rid, "tokens": 10_500, "cost": "0.004", "scopes": ["batch"]},
            "budget",
        ),
        add(
            ev.LLM_CALL,
            {
                "provider": "mock",
                "model": "mock-1",
                "prompt_tokens": 8800,
                "completion_tokens": 700,
                "cached_input": 0,
                "reasoning": 0,
                "latency_ms": 12.0,
                "cost": "0.0031" if n % 4 else "0.0120",
                "cache_hit": False,
            },
            "llm",
        ),
        add(
            ev.BUDGET_SETTLED,
            {
                "reservation_id": rid,
                "prompt_tokens": 8800,
                "completion_tokens": 700,
                "total_tokens": 9500,
                "cost": "0.0031",
                "reserved_tokens": 10_500,
            },
            "budget",
        ),
        add(
            ev.CANDIDATE_CREATED,
            {
                "candidate_id": cand,
                "expression": f"rank(ts_delta(close, {n + 1}))",
                "valid": True,
                "error_code": None,
                "fields": ["close"],
                "operators": ["rank", "ts_delta"],
                "subcategories": subs,
                "topk": {"fields": 20},
            },
            "alpha",
        ),
        add(
            ev.SIMULATION_SUBMITTED,
            {"candidate_id": cand, "backend": "local", "expression": f"rank(ts_delta(close, {n + 1}))"},
            "simulation",
        ),
        add(
            ev.SIMULATION_COMPLETED,
            {
                "candidate_id": cand,
                "alpha_id": f"a{n}",
                "sharpe": 0.5 + n * 0.1,
                "fitness": 0.4 + n * 0.05,
                "turnover": 0.3,
                "returns": 0.08,
                "passed": n % 2 == 0,
                "queue_s": 0.1,
                "run_s": 0.6 + n * 0.01,
                "total_s": 0.7 + n * 0.01,
            },
            "simulation",
        ),
    ]
    return ids


def realistic_run(
    store: SQLiteStore,
    run_id: str,
    ideas: int = 4,
    *,
    delay: float = 0.0,
    finish: bool = True,
    create: bool = True,
) -> str:
    if create:
        store.create_run("batch", {"ideas": ideas}, run_id=run_id)
    metadata(store, run_id)
    for n in range(ideas):
        idea_events(store, run_id, n, fallback=n == 1, delay=delay)
    store.append_event(
        run_id,
        ev.KPI_BATCH,
        {
            "batch_id": "b1",
            "coverage": 5,
            "coverage_share": 0.2,
            "novelty": 0.8,
            "structural_novelty": 0.6,
            "candidates": ideas,
        },
        step="kpi",
    )
    if finish:
        store.append_event(
            run_id,
            ev.CYCLE_COMPLETED,
            {"ideas": ideas, "candidates": ideas, "status": "completed"},
            step="pipeline",
        )
        store.finish_run(run_id, "completed", {"ideas": ideas})
    return run_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("db", type=Path)
    parser.add_argument("run_id")
    parser.add_argument("--ideas", type=int, default=4)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds between events")
    parser.add_argument("--no-create", action="store_true", help="the run row exists already")
    parser.add_argument("--no-finish", action="store_true")
    args = parser.parse_args(argv)
    store = SQLiteStore(args.db)
    realistic_run(
        store, args.run_id, args.ideas, delay=args.delay, finish=not args.no_finish, create=not args.no_create
    )
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
