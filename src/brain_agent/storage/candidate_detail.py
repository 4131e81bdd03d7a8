"""Read-only query behind ``GET /api/runs/{run_id}/candidates/{candidate_id}``: one candidate of a run
with its simulation (metrics, checks and the cumulative ``pnl`` series), chosen as ``runs show``
chooses it. Portable SQL."""

from __future__ import annotations

import json
from typing import Any

from brain_agent.storage.protocols import Store
from brain_agent.storage.run_queries import chosen_simulations


def _parsed(value: Any) -> Any:
    if isinstance(value, str):
        return json.loads(value) if value else {}
    return value or {}


def candidate_detail(store: Store, run_id: str, candidate_id: str) -> dict[str, Any] | None:
    """The candidate (as ``list_candidates`` gives it) plus ``simulation``: the attempt
    :func:`~brain_agent.storage.run_queries.chosen_simulations` picks for this run; ``None`` when the
    run has no such candidate."""
    found = store.conn.execute(
        "SELECT candidate_id FROM candidates WHERE candidate_id = ? AND run_id = ?", (candidate_id, run_id)
    ).fetchone()
    if found is None:
        return None
    candidate = store.get_candidate(candidate_id)
    row = chosen_simulations(store, run_id, [candidate_id]).get(candidate_id)
    return {"candidate": candidate, "simulation": None if row is None else simulation_view(row)}


def simulation_view(row: dict[str, Any]) -> dict[str, Any]:
    """A simulation row as the detail shows it (checks, failed checks, the PnL series or why not);
    ``result`` and ``error`` may be JSON text (a raw row) or already parsed (``run_candidates``)."""
    result = _parsed(row.get("result"))
    error = _parsed(row.get("error"))
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
