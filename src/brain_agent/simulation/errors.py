"""Errors raised while simulating: evaluation failures carry a stable code and a source location."""

from __future__ import annotations

from typing import Any

from brain_agent.errors import InputError


class EvaluationError(InputError):
    """An expression could not be evaluated. ``error_code`` is stable (``UNKNOWN_FIELD``,
    ``BAD_ARGUMENT``, ``TYPE_MISMATCH``, ``UNSUPPORTED_OPERATOR``...); ``start``/``end`` are character
    offsets into the expression, like BRAIN's error ``location``."""

    code = "evaluation_error"

    def __init__(
        self,
        message: str,
        *,
        error_code: str = "EVALUATION_ERROR",
        start: int | None = None,
        end: int | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message, error_code=error_code, **details)
        self.error_code = error_code
        self.start = start
        self.end = end

    def located(self, start: int, end: int) -> EvaluationError:
        if self.start is None:
            self.start, self.end = start, end
        return self

    def to_error(self) -> dict[str, Any]:
        """The ``SimulationOutcome.error`` shape: ``{"code", "message", "location"}``."""
        location = None if self.start is None else {"start": self.start, "end": self.end}
        return {"code": self.error_code, "message": self.message, "location": location}


class UnsupportedOperatorError(EvaluationError):
    """The local simulator has no kernel for this operator (never evaluated approximately)."""

    def __init__(
        self, operator: str, reason: str = "", *, start: int | None = None, end: int | None = None
    ) -> None:
        why = f": {reason}" if reason else ""
        super().__init__(
            f"operator {operator!r} is not supported by the local simulator{why}",
            error_code="UNSUPPORTED_OPERATOR",
            start=start,
            end=end,
            operator=operator,
        )
        self.operator = operator
