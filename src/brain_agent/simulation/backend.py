"""The simulation seam: settings, a job, an outcome and the backend protocol.

The runner (``simulation/runner.py``) persists each job's opaque ``handle`` before polling, so an
interrupted run resumes polling instead of submitting twice. Both backends (local, BRAIN) return
results in the shape of BRAIN's ``GET /alphas/{id}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field


class SimulationSettings(BaseModel):
    """BRAIN ``settings`` keys, spelled as BRAIN spells them (reference §1.3)."""

    model_config = ConfigDict(extra="forbid")

    instrumentType: Literal["EQUITY"] = "EQUITY"
    region: str = "USA"
    universe: str = "TOP3000"
    delay: Literal[0, 1] = 1
    decay: int = Field(default=0, ge=0, le=512)
    neutralization: Literal["NONE", "MARKET", "SECTOR", "INDUSTRY", "SUBINDUSTRY"] = "SUBINDUSTRY"
    truncation: float = Field(default=0.08, ge=0.0, le=1.0)
    pasteurization: Literal["ON", "OFF"] = "ON"
    testPeriod: str = "P0Y0M0D"
    unitHandling: Literal["VERIFY"] = "VERIFY"
    nanHandling: Literal["ON", "OFF"] = "OFF"
    maxTrade: Literal["ON", "OFF"] = "OFF"
    language: Literal["FASTEXPR"] = "FASTEXPR"
    visualization: bool = False


@dataclass(frozen=True)
class SimulationJob:
    candidate_id: str
    expression: str
    settings: SimulationSettings
    run_id: str | None = None
    idea_id: str | None = None


@dataclass(frozen=True)
class SimulationOutcome:
    """``status`` COMPLETE with ``result`` (BRAIN alpha JSON + ``pnl`` series), or ERROR with
    ``error`` = {"code", "message", "location": {"start", "end"} | None}."""

    candidate_id: str
    status: Literal["COMPLETE", "ERROR"]
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    alpha_id: str | None = None


@dataclass(frozen=True)
class Poll:
    done: bool
    progress: float | None = None
    retry_after_s: float = 1.0
    outcome: SimulationOutcome | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class SimulationBackend(Protocol):
    name: str
    max_batch: int
    """How many jobs one ``submit`` may carry (BRAIN multi-simulation: ≤ 10)."""

    def submit(self, jobs: Sequence[SimulationJob]) -> list[str]:
        """Start the jobs; return one opaque handle per job, in order (persisted for resume)."""
        ...

    def poll(self, handle: str) -> Poll:
        """Ask how a job is doing; ``done`` with an ``outcome`` when finished."""
        ...
