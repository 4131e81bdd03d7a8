"""Expansion on repeated validation errors (spec §4.1), pure.

When the same validation error code comes back ``repeat_error_threshold`` times in a row for an
idea, shrinking stops for that idea and the dimension the error points to is widened one step
(unknown field → more fields, unknown operator / arity → more operators, anything else → more
fields and subcategories' worth of context via fields). The calls are paid from the batch's
``expansion_reserve_tokens``. If it still fails, the idea is handed to the repair loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from brain_agent.generation.budget.ladder import Stage
from brain_agent.retrieval import TopK

ERROR_DIMENSION: dict[str, Stage] = {
    "UNKNOWN_FIELD": "fields",
    "GROUP_FIELD_MISUSE": "fields",
    "VECTOR_FIELD_MISUSE": "fields",
    "EXPECTED_GROUP": "fields",
    "EXPECTED_VECTOR": "fields",
    "UNKNOWN_OPERATOR": "operators",
    "ARITY": "operators",
    "UNKNOWN_KEYWORD": "operators",
}


@dataclass(frozen=True)
class Expansion:
    error_code: str
    stage: Stage
    from_k: int
    to_k: int
    topk: TopK


def repeated_error(codes: Sequence[str | None], threshold: int) -> str | None:
    """The error code when the last ``threshold`` attempts all failed with it, else None."""
    if threshold < 1 or len(codes) < threshold:
        return None
    tail = codes[-threshold:]
    first = tail[0]
    return first if first is not None and all(c == first for c in tail) else None


def expand(current: TopK, error_code: str, maximum: TopK, factor: float = 2.0) -> Expansion | None:
    """Widen the dimension ``error_code`` points to (×``factor``, capped at the pack's size); None
    when it is already at its maximum."""
    stage: Stage = ERROR_DIMENSION.get(error_code, "fields")
    now, top = getattr(current, stage), getattr(maximum, stage)
    if now >= top:
        return None
    new = min(top, max(now + 1, int(now * factor)))
    return Expansion(error_code, stage, now, new, replace(current, **{stage: new}))
