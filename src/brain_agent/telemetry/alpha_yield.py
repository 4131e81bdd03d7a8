"""Yield: what a valid candidate and a passing alpha cost, per lane, and the run's best alpha.

Pure: the caller brings the candidates (with their simulation outcome) and the spend per lane; no
I/O here. ``runs show`` feeds it from the store; ``run-batch`` can feed it from its own report.

- ``tokens_per_valid`` / ``cost_per_valid``: the lane's spend divided by its valid candidates;
- ``tokens_per_passing`` / ``cost_per_passing``: divided by its alphas that passed every check;
- ``None`` where the divisor is zero (nothing valid or passing: no yield to speak of).

The best alpha is the simulated candidate with the highest Sharpe (ties: higher fitness, then the
earlier candidate), passing or not; ``passed`` says which.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

TOTAL = "all"


@dataclass(frozen=True)
class Outcome:
    """One candidate and what simulating it gave (metrics ``None`` when it was not simulated)."""

    candidate_id: str
    lane: str
    expression: str | None
    valid: bool
    status: str | None = None
    """Simulation status (COMPLETE | ERROR | SKIPPED | …), ``None`` when never simulated."""
    passed: bool | None = None
    sharpe: float | None = None
    fitness: float | None = None
    turnover: float | None = None
    returns: float | None = None
    failed_checks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Spend:
    tokens: int = 0
    cost: Decimal = Decimal(0)


@dataclass(frozen=True)
class LaneYield:
    lane: str
    tokens: int
    cost: Decimal
    candidates: int
    valid: int
    passing: int

    @property
    def tokens_per_valid(self) -> float | None:
        return round(self.tokens / self.valid, 1) if self.valid else None

    @property
    def cost_per_valid(self) -> Decimal | None:
        return self.cost / self.valid if self.valid else None

    @property
    def tokens_per_passing(self) -> float | None:
        return round(self.tokens / self.passing, 1) if self.passing else None

    @property
    def cost_per_passing(self) -> Decimal | None:
        return self.cost / self.passing if self.passing else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "lane": self.lane,
            "tokens": self.tokens,
            "cost": str(self.cost),
            "candidates": self.candidates,
            "valid": self.valid,
            "passing": self.passing,
            "tokens_per_valid": self.tokens_per_valid,
            "cost_per_valid": _money(self.cost_per_valid),
            "tokens_per_passing": self.tokens_per_passing,
            "cost_per_passing": _money(self.cost_per_passing),
        }


@dataclass(frozen=True)
class Yield:
    lanes: dict[str, LaneYield] = field(default_factory=dict)
    total: LaneYield = field(default_factory=lambda: LaneYield(TOTAL, 0, Decimal(0), 0, 0, 0))
    best: Outcome | None = None

    def to_dict(self) -> dict[str, Any]:
        best = self.best
        return {
            "lanes": {lane: y.to_dict() for lane, y in self.lanes.items()},
            "total": self.total.to_dict(),
            "best": None
            if best is None
            else {
                "candidate_id": best.candidate_id,
                "lane": best.lane,
                "expression": best.expression,
                "sharpe": best.sharpe,
                "fitness": best.fitness,
                "turnover": best.turnover,
                "returns": best.returns,
                "passed": best.passed,
                "failed_checks": list(best.failed_checks),
            },
        }


def _money(value: Decimal | None) -> str | None:
    """Per-alpha money to 10 significant digits (a division need not terminate)."""
    if value is None:
        return None
    return f"{value:.10g}" if value else "0"


def compute_yield(outcomes: Iterable[Outcome], spend: Mapping[str, Spend]) -> Yield:
    """Per-lane and total yield of a run (see the module docstring). Lanes appear when they spent
    anything or produced a candidate; ``spend`` may hold lanes without candidates and vice versa."""
    items = list(outcomes)
    lanes = sorted({o.lane for o in items} | set(spend))
    per_lane: dict[str, LaneYield] = {}
    for lane in lanes:
        mine = [o for o in items if o.lane == lane]
        s = spend.get(lane, Spend())
        per_lane[lane] = LaneYield(
            lane=lane,
            tokens=s.tokens,
            cost=s.cost,
            candidates=len(mine),
            valid=sum(1 for o in mine if o.valid),
            passing=sum(1 for o in mine if o.passed),
        )
    total = LaneYield(
        lane=TOTAL,
        tokens=sum(y.tokens for y in per_lane.values()),
        cost=sum((y.cost for y in per_lane.values()), Decimal(0)),
        candidates=len(items),
        valid=sum(y.valid for y in per_lane.values()),
        passing=sum(y.passing for y in per_lane.values()),
    )
    return Yield(lanes=per_lane, total=total, best=best_of(items))


def rank_key(sharpe: float, fitness: float | None) -> tuple[float, float]:
    """What "best" means everywhere (the yield, ``runs``, ``runs show --plot``): the higher Sharpe,
    then the higher fitness (a missing fitness counts as 0)."""
    return (sharpe, fitness or 0.0)


def ranked(outcomes: Iterable[Outcome]) -> list[Outcome]:
    """The simulated outcomes (those with a Sharpe), best first by :func:`rank_key`; ties keep their
    order (the earlier candidate first)."""
    scored = [o for o in outcomes if o.sharpe is not None]
    return sorted(scored, key=lambda o: rank_key(o.sharpe or 0.0, o.fitness), reverse=True)


def best_of(outcomes: Iterable[Outcome]) -> Outcome | None:
    """The best outcome (see :func:`ranked`), ``None`` when none was simulated."""
    top = ranked(outcomes)
    return top[0] if top else None


def outcome_of(candidate: Mapping[str, Any], simulation: Mapping[str, Any] | None) -> Outcome:
    """An :class:`Outcome` from a candidate record and its simulation: either a stored simulation row
    (columns ``sharpe``, ``passed``…) or a ``simulate_candidates`` record; the result JSON's ``is``
    block, when present, is what the metrics and failed checks are read from."""
    expression = candidate.get("expression")
    base = Outcome(
        candidate_id=str(candidate.get("candidate_id", "")),
        lane=str(candidate.get("lane") or "unassigned"),
        expression=None if expression is None else str(expression),
        valid=bool(candidate.get("valid")),
    )
    if simulation is None:
        return base
    status = simulation.get("status")
    result = simulation.get("result")
    block = result.get("is") if isinstance(result, Mapping) else None
    if status == "COMPLETE" and isinstance(block, Mapping):
        checks = [c for c in block.get("checks") or [] if isinstance(c, Mapping)]
        failed = tuple(str(c.get("name")) for c in checks if c.get("result") == "FAIL")
        return replace(
            base,
            status=status,
            passed=not failed,
            sharpe=_float(block.get("sharpe")),
            fitness=_float(block.get("fitness")),
            turnover=_float(block.get("turnover")),
            returns=_float(block.get("returns")),
            failed_checks=failed,
        )
    if status == "COMPLETE":
        return replace(
            base,
            status=status,
            passed=None if simulation.get("passed") is None else bool(simulation.get("passed")),
            sharpe=_float(simulation.get("sharpe")),
            fitness=_float(simulation.get("fitness")),
            turnover=_float(simulation.get("turnover")),
            returns=_float(simulation.get("returns")),
        )
    return replace(base, status=None if status is None else str(status))


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
