"""Simulations: records (the newest kept), in flight, passed / failed / errors, latency, the best."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

from brain_agent.storage import Event
from brain_agent.telemetry.alpha_yield import rank_key
from brain_agent.telemetry.views.common import MAX_LATENCIES, MAX_SIMULATIONS, num, put, quantile, text


class Simulations:
    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.in_flight: set[str] = set()
        # done = completed (passed + failed); failed = completed below the thresholds; errors =
        # simulation.failed (the backend could not score it). The CLI's closing table uses the same words.
        self.counts = {"done": 0, "passed": 0, "failed": 0, "errors": 0}
        self.latencies: deque[float] = deque(maxlen=MAX_LATENCIES)
        self.best: dict[str, Any] | None = None

    def record(self, e: Event, cid: str, expression: str | None) -> dict[str, Any]:
        rec = self.records.get(cid)
        if rec is None:
            rec = {
                "candidate_id": cid,
                "status": "submitted",
                "backend": None,
                "expression": expression,
                "idea_id": e.idea_id,
                "lane": e.lane,
                "submitted_at": e.ts,
                "finished_at": None,
                "progress": 0.0,
            }
            put(self.records, cid, rec, MAX_SIMULATIONS)
        return rec

    def on_submitted(self, e: Event, cid: str, p: Mapping[str, Any], expression: str | None) -> None:
        rec = self.record(e, cid, expression)
        rec["backend"] = text(p.get("backend"))
        if text(p.get("expression")):
            rec["expression"] = text(p.get("expression"))
        self.in_flight.add(cid)

    def on_progress(self, cid: str, p: Mapping[str, Any]) -> None:
        rec = self.records.get(cid)
        if rec is not None and rec["status"] in ("submitted", "running"):
            rec.update(status="running", progress=num(p.get("progress")))

    def on_finished(
        self, e: Event, cid: str, p: Mapping[str, Any], failed: bool, expression: str | None
    ) -> str:
        """Record a finished simulation; returns the feed line."""
        rec = self.record(e, cid, expression)
        self.in_flight.discard(cid)
        if p.get("total_s") is not None:
            self.latencies.append(num(p.get("total_s")))
        timing = {
            k: (num(p.get(k)) if p.get(k) is not None else None) for k in ("queue_s", "run_s", "total_s")
        }
        rec.update(finished_at=e.ts, progress=1.0, **timing)
        if failed:
            self.counts["errors"] += 1
            rec.update(status="failed", error_code=text(p.get("error_code")), message=text(p.get("message")))
            return f"Simulation {cid} failed: {text(p.get('error_code')) or 'error'}"
        self.counts["done"] += 1
        sharpe = num(p.get("sharpe"))
        passed = p.get("passed") is True
        self.counts["passed" if passed else "failed"] += 1
        fitness = num(p.get("fitness")) if p.get("fitness") is not None else None
        rec.update(
            status="completed",
            alpha_id=text(p.get("alpha_id")),
            sharpe=sharpe,
            fitness=fitness,
            turnover=num(p.get("turnover")) if p.get("turnover") is not None else None,
            returns=num(p.get("returns")) if p.get("returns") is not None else None,
            passed=passed,
        )
        if self.best is None or rank_key(sharpe, fitness) > rank_key(
            self.best["sharpe"], self.best["fitness"]
        ):
            self.best = {
                "candidate_id": cid,
                "sharpe": sharpe,
                "fitness": fitness,
                "expression": expression or "",
            }
        return f"Simulation {cid}: Sharpe {sharpe:.2f} {'PASS' if passed else 'FAIL'}"

    def view(self) -> dict[str, Any]:
        lat = sorted(self.latencies)
        return {
            "in_flight": len(self.in_flight),
            **self.counts,
            "latency_s": {"p50": quantile(lat, 0.5), "p95": quantile(lat, 0.95)},
            "best": dict(self.best) if self.best else None,
        }

    def listing(self, limit: int) -> list[dict[str, Any]]:
        """The kept simulations in submission order (the newest ``limit``)."""
        items = list(self.records.values())
        return [dict(s) for s in items[-limit:]] if limit > 0 else []
