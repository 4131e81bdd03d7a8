"""Read-only query behind ``GET /api/runs/{run_id}/candidates/{candidate_id}``: one candidate of a run
with its newest simulation (metrics, checks and the cumulative ``pnl`` series). Portable SQL."""

from __future__ import annotations

import json
from typing import Any

from brain_agent.storage.protocols import Store


def candidate_detail(store: Store, run_id: str, candidate_id: str) -> dict[str, Any] | None:
    """The candidate (as ``list_candidates`` gives it) plus ``simulation``: its newest attempt, preferring
    one made by this run; ``None`` when the run has no such candidate."""
    found = store.conn.execute(
        "SELECT candidate_id FROM candidates WHERE candidate_id = ? AND run_id = ?", (candidate_id, run_id)
    ).fetchone()
    if found is None:
        return None
    candidate = store.get_candidate(candidate_id)
    row = store.conn.execute(
        "SELECT id, backend, status, alpha_id, sharpe, fitness, turnover, returns, passed, result, error, "
        "finished_at FROM simulations WHERE candidate_id = ? "
        "ORDER BY CASE WHEN run_id = ? THEN 0 ELSE 1 END, id DESC LIMIT 1",
        (candidate_id, run_id),
    ).fetchone()
    return {"candidate": candidate, "simulation": None if row is None else _simulation(dict(row))}


def _simulation(row: dict[str, Any]) -> dict[str, Any]:
    result = json.loads(row["result"]) if row.get("result") else {}
    error = json.loads(row["error"]) if row.get("error") else {}
    checks = [
        {
            "name": str(c.get("name")),
            "result": str(c.get("result")),
            "limit": c.get("limit"),
            "value": c.get("value"),
        }
        for c in ((result.get("is") or {}).get("checks") or [])
        if isinstance(c, dict)
    ]
    pnl = result.get("pnl")
    series = pnl if isinstance(pnl, dict) and pnl.get("dates") else None
    unavailable = result.get("pnl_unavailable")
    if series is None and unavailable is None and row["status"] == "COMPLETE":
        unavailable = "the result carries no pnl series"
    return {
        "id": int(row["id"]),
        "backend": row["backend"],
        "status": row["status"],
        "alpha_id": row["alpha_id"],
        "sharpe": row["sharpe"],
        "fitness": row["fitness"],
        "turnover": row["turnover"],
        "returns": row["returns"],
        "passed": None if row["passed"] is None else bool(row["passed"]),
        "finished_at": row["finished_at"],
        "checks": checks,
        "failed_checks": [c["name"] for c in checks if c["result"] == "FAIL"],
        "pnl": None if series is None else {"dates": list(series["dates"]), "values": list(series["values"])},
        "pnl_unavailable": None if series is not None else unavailable,
        "error_code": error.get("code") if isinstance(error, dict) else None,
        "message": error.get("message") if isinstance(error, dict) else None,
    }
