"""Candidates and KPIs: counts, coverage and novelty before the first ``kpi.batch``, then its figures."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

from brain_agent.storage import Event
from brain_agent.telemetry.views.common import (
    MAX_KPI_BATCHES,
    MAX_OPEN_CANDIDATES,
    integer,
    num,
    put,
    rnd,
    str_list,
    text,
)


class Candidates:
    def __init__(self) -> None:
        self.total = 0
        self.valid = 0
        self.subcategory_total = 0  # the knowledge pack's subcategories (metadata_sync)
        self.idea_of: dict[str, str] = {}  # candidate → idea, until simulated (bounded)
        self.expressions: dict[str, str] = {}  # candidate → expression, until simulated (bounded)
        self._subcategories_seen: set[str] = set()
        self._combos: set[tuple[tuple[str, ...], tuple[str, ...]]] = set()
        self.kpi: dict[str, Any] | None = None
        self.kpi_batches: deque[dict[str, Any]] = deque(maxlen=MAX_KPI_BATCHES)

    def on_created(self, e: Event, p: Mapping[str, Any]) -> str | None:
        """Count one candidate; returns its id."""
        self.total += 1
        valid = p.get("valid") is True
        if valid:
            self.valid += 1
        cid = text(p.get("candidate_id"))
        if cid:
            if e.idea_id:
                put(self.idea_of, cid, e.idea_id, MAX_OPEN_CANDIDATES)
            expression = text(p.get("expression"))
            if expression:
                put(self.expressions, cid, expression, MAX_OPEN_CANDIDATES)
        if valid and self.kpi is None:  # coverage, novelty of valid candidates (as kpi.py) until kpi.batch
            self._subcategories_seen.update(str_list(p.get("subcategories")))
            self._combos.add(
                (tuple(sorted(str_list(p.get("operators")))), tuple(sorted(str_list(p.get("fields")))))
            )
        return cid

    def remember_expression(self, cid: str, expression: str) -> None:
        if cid not in self.expressions:
            put(self.expressions, cid, expression, MAX_OPEN_CANDIDATES)

    def simulated(self, cid: str) -> str | None:
        """Forget a candidate simulated to the end; returns its idea."""
        self.expressions.pop(cid, None)
        return self.idea_of.pop(cid, None)

    def on_kpi(self, e: Event, p: Mapping[str, Any]) -> None:
        self._subcategories_seen.clear()  # from now on kpi.batch carries coverage and novelty
        self._combos.clear()
        self.kpi = {
            "coverage": integer(p.get("coverage")),
            "coverage_share": num(p.get("coverage_share")),
            "novelty": num(p.get("novelty")),
            "structural_novelty": num(p.get("structural_novelty")),
        }
        self.kpi_batches.append(
            {
                "event_id": e.id,
                "ts": e.ts,
                "batch_id": text(p.get("batch_id")),
                "candidates": integer(p.get("candidates")),
                **self.kpi,
            }
        )

    def view(self) -> dict[str, Any]:
        """The latest ``kpi.batch``; before the first one, coverage and novelty of the valid
        candidates so far (structural novelty needs the store's history: only kpi.batch has it)."""
        if self.kpi is not None:
            return dict(self.kpi)
        novelty = rnd(len(self._combos) / self.valid) if self.valid else 0.0
        seen = len(self._subcategories_seen)
        return {
            "coverage": seen,
            "coverage_share": rnd(seen / self.subcategory_total) if self.subcategory_total else 0.0,
            "novelty": novelty,
            "structural_novelty": None,
        }
