"""The golden event log: one small scripted run whose dashboard figures are pinned for both sides.

``python tests/telemetry/golden/build.py`` rewrites ``events.json`` (the log) and ``expected.json``
(what ``reactor_status?at=`` returns at a few events, plus the headline figures as defined in
docs/api.md). ``tests/telemetry/test_golden.py`` checks the Python view against them; the HUD's
``web/src/lib/golden.test.ts`` checks that what it displays is exactly these figures. Review the
diff before committing a rebuilt file: it is the definition of the numbers.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
T0 = 1_800_000_000.0
RUN = "run_golden"


def script() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    t = T0

    def add(
        name: str, payload: dict[str, Any], idea: str | None = None, lane: str | None = None, dt: float = 1.0
    ) -> None:
        nonlocal t
        t += dt
        rows.append(
            {
                "id": len(rows) + 1,
                "run_id": RUN,
                "ts": t,
                "name": name,
                "step": name.split(".")[0],
                "idea_id": idea,
                "lane": lane,
                "payload": payload,
            }
        )

    add(
        "metadata_sync",
        {
            "budget": {
                "limits": {
                    "request": 12000,
                    "batch": 40000,
                    "expansion": 4000,
                    "day": 200000,
                    "money_day": 5,
                },
                "exploit_ratio": 0.7,
                "explore_ratio": 0.3,
            },
            "knowledge_pack": {"subcategories": 20},
            "provider": "mock",
            "model": "mock-1",
        },
    )
    names = {
        "option-volatility": "Volatility Index",
        "short-interest": "Short Interest",
        "price-momentum": "Momentum",
    }
    ideas = [
        ("i1", "exploit", ["option-volatility"]),
        ("i2", "explore", ["short-interest"]),
        ("i3", "exploit", ["price-momentum", "option-volatility"]),
    ]
    for n, (idea, lane, subs) in enumerate(ideas, 1):
        add("idea.refined", {"title": f"idea {n}", "subcategories": subs}, idea, lane)
        add("retrieval.pack_built", {"subcategories": subs, "subcategory_names": names}, idea, lane)
        if n == 2:  # a finding, not an action: the fallback that follows is the protection
            add(
                "budget.check_failed",
                {"prompt_tokens": 14000, "limit": 12000, "scope": "request"},
                idea,
                lane,
            )
            add(
                "budget.fallback_applied",
                {
                    "stage": "fields",
                    "from_k": 40,
                    "to_k": 20,
                    "tokens_before": 14000,
                    "tokens_after": 9000,
                    "fallback_count": 1,
                },
                idea,
                lane,
            )
        add("budget.check_passed", {"prompt_tokens": 3000 + 500 * n, "completion_tokens": 800}, idea, lane)
        add(
            "budget.reserved",
            {
                "reservation_id": f"r{n}",
                "tokens": 4000 + 500 * n,
                "cost": "0.01",
                "scopes": ["batch", f"lane:b1:{lane}", "day:2027-01-15@UTC"],
            },
            idea,
            lane,
        )
        prompt, completion = 3000 + 400 * n, 600 + 50 * n
        add(
            "llm.call",
            {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "cost": f"0.00{n}",
                "cache_hit": False,
            },
            idea,
            lane,
        )
        add(
            "budget.settled",
            {
                "reservation_id": f"r{n}",
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
                "cost": f"0.00{n}",
            },
            idea,
            lane,
        )
        add(
            "candidate.created",
            {
                "candidate_id": f"c{n}",
                "expression": f"rank(ts_mean(close, {n * 5}))",
                "valid": True,
                "subcategories": subs,
                "fields": ["close"],
                "operators": ["rank", "ts_mean"],
            },
            idea,
            lane,
        )
    add(
        "candidate.created",
        {
            "candidate_id": "c_bad",
            "expression": "rank(",
            "valid": False,
            "subcategories": ["news-sentiment"],
            "fields": [],
            "operators": [],
        },
        "i3",
        "exploit",
    )
    for n in (1, 2, 3):
        add("simulation.submitted", {"candidate_id": f"c{n}", "backend": "local"}, f"i{n}", ideas[n - 1][1])
    for n, outcome in ((1, "pass"), (2, "fail"), (3, "error")):
        if outcome == "error":
            add(
                "simulation.failed",
                {"candidate_id": f"c{n}", "error_code": "TIMEOUT", "message": "no answer", "total_s": 4.0},
                f"i{n}",
                ideas[n - 1][1],
            )
        else:
            add(
                "simulation.completed",
                {
                    "candidate_id": f"c{n}",
                    "sharpe": 1.6 if n == 1 else 0.4,
                    "fitness": 1.2 if n == 1 else 0.2,
                    "passed": outcome == "pass",
                    "total_s": 2.0 + n,
                },
                f"i{n}",
                ideas[n - 1][1],
            )
    add(
        "kpi.batch",
        {
            "batch_id": "b1",
            "candidates": 4,
            "valid": 3,
            "coverage": 3,
            "coverage_share": 0.15,
            "novelty": 0.3333,
            "structural_novelty": 0.6667,
        },
    )
    add("cycle_completed", {"status": "completed", "candidates": 4})
    return rows


# the moments pinned: after the check failure, after the fallback, mid-spend, before the KPI, the end
def moments(rows: list[dict[str, Any]]) -> list[int]:
    first = {r["name"]: r["id"] for r in reversed(rows)}
    return [
        first["budget.check_failed"],
        first["budget.fallback_applied"],
        20,
        first["kpi.batch"] - 1,
        rows[-1]["id"],
    ]


def figures(status: dict[str, Any]) -> dict[str, Any]:
    """The headline figures, as docs/api.md defines them (the HUD must display exactly these)."""
    r = status["reactor"]
    return {
        "status": status["status"],
        "tokens_total": r["totals"]["total_tokens"],
        "tokens_in": r["totals"]["prompt_tokens"],
        "tokens_out": r["totals"]["completion_tokens"],
        "calls": r["totals"]["calls"],
        "passed": r["simulation"]["passed"],
        "failed": r["simulation"]["failed"],
        "errors": r["simulation"]["errors"],
        "coverage": r["kpi"]["coverage"],
        "novelty": r["kpi"]["novelty"],
        "structural_novelty": r["kpi"]["structural_novelty"],
        "protection_mode": r["protection_mode"],
        "exhaustion_s": r["time_to_exhaustion_s"],
        "exhaustion_scope": r["exhaustion_scope"],
        "pressure": r["pressure"],
    }


def expected(rows: list[dict[str, Any]]) -> dict[str, Any]:
    from brain_agent.storage.sqlite_store import Event
    from brain_agent.telemetry.views import RunView

    out: dict[str, Any] = {"run_id": RUN, "moments": []}
    for at in moments(rows):
        view = RunView(RUN)
        view.apply_many(Event(**row) for row in rows if row["id"] <= at)
        status = json.loads(json.dumps(view.snapshot(view.last_ts or 0.0, status=view.status or "running")))
        status["at"] = at
        out["moments"].append({"at": at, "figures": figures(status), "status": status})
    return out


def main() -> int:
    rows = script()
    (HERE / "events.json").write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    (HERE / "expected.json").write_text(json.dumps(expected(rows), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} events and {len(moments(rows))} moments to {HERE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
