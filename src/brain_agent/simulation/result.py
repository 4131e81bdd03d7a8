"""``AlphaResult``: the shape of BRAIN's ``GET /alphas/{id}`` (reference §1.8), which both backends
produce, plus a ``pnl`` series (dates and cumulative PnL in dollars) for charts.

Unknown keys are allowed everywhere (BRAIN adds blocks such as ``investabilityConstrained``), but the
keys the agent, the store and the HUD read are typed and required.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

CheckResult = Literal["PASS", "FAIL", "WARNING", "PENDING", "ERROR"]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Check(_Open):
    name: str
    result: CheckResult
    limit: float | None = None
    value: float | None = None


class Regular(_Open):
    code: str
    description: str | None = None
    operatorCount: int | None = None


class ISBlock(_Open):
    pnl: float | None
    bookSize: float | None
    longCount: int | None
    shortCount: int | None
    turnover: float | None
    returns: float | None
    drawdown: float | None
    margin: float | None
    sharpe: float | None
    fitness: float | None
    startDate: str | None = None
    checks: list[Check] = Field(default_factory=list)


class PnlSeries(_Open):
    """Cumulative PnL in dollars, one value per date (ISO ``YYYY-MM-DD``)."""

    dates: list[str]
    values: list[float]

    @model_validator(mode="after")
    def _same_length(self) -> PnlSeries:
        if len(self.dates) != len(self.values):
            raise ValueError(f"pnl has {len(self.dates)} dates but {len(self.values)} values")
        return self


class AlphaResult(_Open):
    id: str
    type: Literal["REGULAR", "SUPER"]
    settings: dict[str, Any]
    regular: Regular | None = None
    dateCreated: str
    status: str
    stage: str | None = None
    is_: ISBlock = Field(alias="is")
    pnl: PnlSeries | None = None
    simulator: dict[str, Any] | None = None
    """Ours, not BRAIN's: which simulator produced the result (local: the panel and its size);
    ``None`` for results from BRAIN."""

    def check(self, name: str) -> Check | None:
        return next((c for c in self.is_.checks if c.name == name), None)

    @property
    def passed(self) -> bool:
        """No check FAILed (WARNING and PENDING do not block, as on BRAIN)."""
        return all(c.result != "FAIL" for c in self.is_.checks)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=False)


def validate_result(data: dict[str, Any]) -> AlphaResult:
    return AlphaResult.model_validate(data)
