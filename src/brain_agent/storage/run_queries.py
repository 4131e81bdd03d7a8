"""Read-only queries behind ``brain-agent runs`` and ``runs show``: one place for their SQL.

Nothing here writes. Each function takes a store (either backend) and returns plain dicts, so a
different store backend only has to answer the same four questions.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from brain_agent.storage.protocols import Store
from brain_agent.telemetry.alpha_yield import Outcome, Spend, Yield, best_of, compute_yield, outcome_of


def _placeholders(items: Sequence[str]) -> str:
    return ",".join("?" * len(items))


def _decimal(text: Any) -> Decimal:
    try:
        return Decimal(str(text))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def recent_runs(store: Store, limit: int = 20) -> list[dict[str, Any]]:
    """The newest ``limit`` runs, each with its counts: ``ideas``, ``candidates``, ``valid``,
    ``simulated``, ``passing``, ``tokens`` and ``cost`` (a ``Decimal``; cache hits cost nothing and
    count no tokens), and ``best``: the one best simulated candidate (highest Sharpe, then fitness:
    :func:`~brain_agent.telemetry.alpha_yield.best_of`, the rule ``runs show`` uses) with its
    ``sharpe`` and ``fitness``, or ``None``; ``best_sharpe`` is its Sharpe."""
    runs = store.list_runs(limit)
    ids = [r["run_id"] for r in runs]
    if not ids:
        return []
    marks = _placeholders(ids)
    stats: dict[str, dict[str, Any]] = {
        i: {
            "ideas": 0,
            "candidates": 0,
            "valid": 0,
            "simulated": 0,
            "passing": 0,
            "best_sharpe": None,
            "best": None,
            "tokens": 0,
            "cost": Decimal(0),
        }
        for i in ids
    }
    for run_id, ideas in store.conn.execute(
        f"SELECT run_id, COUNT(DISTINCT idea_id) FROM ("
        f"  SELECT run_id, idea_id FROM events WHERE run_id IN ({marks}) AND idea_id IS NOT NULL"
        f"  UNION SELECT run_id, idea_id FROM candidates WHERE run_id IN ({marks}) AND idea_id IS NOT NULL"
        f") AS ideas GROUP BY run_id",
        [*ids, *ids],
    ):
        stats[run_id]["ideas"] = int(ideas)
    for run_id, total, valid in store.conn.execute(
        f"SELECT run_id, COUNT(*), SUM(valid) FROM candidates WHERE run_id IN ({marks}) GROUP BY run_id", ids
    ):
        stats[run_id].update(candidates=int(total), valid=int(valid or 0))
    completed: dict[str, list[Outcome]] = {i: [] for i in ids}
    for row in store.conn.execute(
        f"SELECT s.run_id, s.candidate_id, s.lane, s.expression, s.sharpe, s.fitness, s.turnover, "
        f"s.returns, s.passed FROM simulations s "
        f"JOIN (SELECT candidate_id, MAX(id) AS id FROM simulations WHERE run_id IN ({marks}) "
        f"      AND status = 'COMPLETE' GROUP BY candidate_id) latest ON latest.id = s.id "
        f"ORDER BY s.id",
        ids,
    ):
        item = dict(row)
        completed[item["run_id"]].append(outcome_of({**item, "valid": True}, {**item, "status": "COMPLETE"}))
    for run_id, outcomes in completed.items():
        best = best_of(outcomes)
        stats[run_id].update(
            simulated=len(outcomes),
            passing=sum(1 for o in outcomes if o.passed),
            best_sharpe=None if best is None else best.sharpe,
            best=None
            if best is None
            else {
                "candidate_id": best.candidate_id,
                "lane": best.lane,
                "expression": best.expression,
                "sharpe": best.sharpe,
                "fitness": best.fitness,
                "passed": best.passed,
            },
        )
    for run_id, tokens, cost in store.conn.execute(
        f"SELECT run_id, uncached_input + cached_input + cache_write + output + reasoning, cost "
        f"FROM llm_calls WHERE run_id IN ({marks}) AND cache_hit = 0",
        ids,
    ):
        stats[run_id]["tokens"] += int(tokens)
        stats[run_id]["cost"] += _decimal(cost)
    return [{**run, **stats[run["run_id"]]} for run in runs]


def run_record(store: Store, run_id: str) -> dict[str, Any]:
    """One run (``NotFoundError`` naming it when the store has no such run)."""
    return store.get_run(run_id)


SIMULATION_COLUMNS = (
    "id, candidate_id, backend, status, alpha_id, sharpe, fitness, turnover, returns, passed, result, error, "
    "finished_at"
)


def chosen_simulations(store: Store, run_id: str, candidate_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The one simulation shown for each candidate of a run (``runs show``, its plot, ``/kpi``'s
    yield and the HUD's candidate detail all use this): the newest attempt this run made, else the
    newest attempt any run made (a batch run with ``--simulate none``, simulated later). Raw rows:
    ``result`` and ``error`` are JSON text. Candidates never simulated are absent."""
    if not candidate_ids:
        return {}
    rows = store.conn.execute(
        f"SELECT {SIMULATION_COLUMNS} FROM (SELECT {SIMULATION_COLUMNS}, ROW_NUMBER() OVER ("
        f"PARTITION BY candidate_id ORDER BY CASE WHEN run_id = ? THEN 0 ELSE 1 END, id DESC) AS pick "
        f"FROM simulations WHERE candidate_id IN ({_placeholders(candidate_ids)})) ranked WHERE pick = 1",
        [run_id, *candidate_ids],
    ).fetchall()
    items = [dict(row) for row in rows]
    return {str(item["candidate_id"]): item for item in items}


def run_candidates(store: Store, run_id: str) -> list[dict[str, Any]]:
    """Every candidate of the run in creation order, each with ``simulation``: the attempt
    :func:`chosen_simulations` picks (status, metrics, parsed result JSON, error) or ``None``."""
    candidates = store.list_candidates(run_id)
    chosen = chosen_simulations(store, run_id, [c["candidate_id"] for c in candidates])
    for item in chosen.values():
        for key in ("result", "error"):
            if item[key] is not None:
                item[key] = json.loads(item[key])
        if item["passed"] is not None:
            item["passed"] = bool(item["passed"])
    return [{**c, "simulation": chosen.get(c["candidate_id"])} for c in candidates]


def run_lane_spend(store: Store, run_id: str) -> dict[str, tuple[int, Decimal]]:
    """Tokens and cost of the run's LLM calls per lane (the lane of each call's idea, from the run's
    events and candidates; ``unassigned`` when the call had no idea). Cache hits cost nothing."""
    lanes: dict[str, str] = {}
    for idea_id, lane in store.conn.execute(
        "SELECT idea_id, lane FROM events WHERE run_id = ? AND idea_id IS NOT NULL AND lane IS NOT NULL "
        "UNION SELECT idea_id, lane FROM candidates WHERE run_id = ? AND idea_id IS NOT NULL "
        "AND lane IS NOT NULL",
        (run_id, run_id),
    ):
        lanes.setdefault(idea_id, lane)
    spend: dict[str, tuple[int, Decimal]] = {}
    for idea_id, tokens, cost in store.conn.execute(
        "SELECT idea_id, uncached_input + cached_input + cache_write + output + reasoning, cost "
        "FROM llm_calls WHERE run_id = ? AND cache_hit = 0",
        (run_id,),
    ):
        lane = lanes.get(idea_id, "unassigned") if idea_id is not None else "unassigned"
        t, c = spend.get(lane, (0, Decimal(0)))
        spend[lane] = (t + int(tokens), c + _decimal(cost))
    return spend


def run_yield(store: Store, run_id: str) -> tuple[list[dict[str, Any]], list[Outcome], Yield]:
    """A run's candidates (``run_candidates``), their outcomes and the yield over them with the run's
    spend by lane: what ``runs show`` prints and ``/kpi`` serves while a run is going."""
    candidates = run_candidates(store, run_id)
    outcomes = [outcome_of(c, c["simulation"]) for c in candidates]
    spend = {lane: Spend(tokens, cost) for lane, (tokens, cost) in run_lane_spend(store, run_id).items()}
    return candidates, outcomes, compute_yield(outcomes, spend)
