"""The fallback ladder (spec §4, order mandatory), pure.

From the pack's default Top-K, shrink fields through their steps, then operators, then
subcategories; each move is one step. The chosen configuration is the first in that sequence that
fits, which is the largest one in the mandated order. Nothing fits → ``chosen is None`` and the
caller defers or discards the idea.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Generic, Literal, TypeVar

from brain_agent.generation.budget.config import FallbackSteps
from brain_agent.retrieval import TopK

Stage = Literal["fields", "operators", "subcategories"]
STAGES: tuple[Stage, ...] = ("fields", "operators", "subcategories")
V = TypeVar("V")


@dataclass(frozen=True)
class LadderStep:
    stage: Stage
    from_k: int
    to_k: int
    tokens_before: int
    tokens_after: int


@dataclass(frozen=True)
class LadderOutcome(Generic[V]):
    chosen: TopK | None
    tokens: int
    """Tokens of the chosen configuration (or of the last one tried)."""
    steps: list[LadderStep] = field(default_factory=list)
    first_violation: V | None = None
    """Why the starting configuration did not fit (None: it did)."""
    last_violation: V | None = None
    """Why the last configuration tried did not fit (None when one fitted)."""

    @property
    def passed_unchanged(self) -> bool:
        return self.chosen is not None and not self.steps


def ladder_sequence(start: TopK, steps: FallbackSteps | None) -> list[tuple[Stage | None, TopK]]:
    """Every configuration the ladder may try, in order, starting with ``start`` itself
    (``steps`` None: ``start`` only, e.g. an expansion call, which never shrinks)."""
    out: list[tuple[Stage | None, TopK]] = [(None, start)]
    if steps is None:
        return out
    current = start
    for stage in STAGES:
        for k in getattr(steps, stage):
            if k < getattr(current, stage):
                current = replace(current, **{stage: k})
                out.append((stage, current))
    return out


def choose_topk(
    start: TopK,
    steps: FallbackSteps | None,
    measure: Callable[[TopK], int],
    violation: Callable[[int], V | None],
) -> LadderOutcome[V]:
    """Walk :func:`ladder_sequence`; ``measure`` gives a configuration's tokens, ``violation`` says
    why a token count does not fit (None = fits)."""
    sequence = ladder_sequence(start, steps)
    tokens = measure(start)
    first = violation(tokens)
    if first is None:
        return LadderOutcome(start, tokens)
    taken: list[LadderStep] = []
    previous_tokens, previous = tokens, start
    last: V | None = first
    for stage, config in sequence[1:]:
        assert stage is not None
        tokens = measure(config)
        taken.append(
            LadderStep(stage, getattr(previous, stage), getattr(config, stage), previous_tokens, tokens)
        )
        last = violation(tokens)
        if last is None:
            return LadderOutcome(config, tokens, taken, first, None)
        previous_tokens, previous = tokens, config
    return LadderOutcome(None, tokens, taken, first, last)
