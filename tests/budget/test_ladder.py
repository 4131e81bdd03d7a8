"""The fallback ladder, pure, with property tests: it picks the first configuration that fits in
the mandated order (fields → operators → subcategories), and fits whenever any configuration does."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from brain_agent.generation.budget import FallbackSteps, choose_topk, ladder_sequence
from brain_agent.retrieval import TopK

STAGE_ORDER = {"fields": 0, "operators": 1, "subcategories": 2}


def _steps() -> st.SearchStrategy[tuple[int, ...]]:
    return st.lists(st.integers(1, 80), min_size=1, max_size=6, unique=True).map(
        lambda xs: tuple(sorted(xs, reverse=True))
    )


topks = st.builds(TopK, st.integers(1, 80), st.integers(1, 60), st.integers(1, 10))
ladders = st.builds(FallbackSteps, fields=_steps(), operators=_steps(), subcategories=_steps())


def _cost(per_field: int, per_op: int, per_sub: int, base: int) -> object:
    return lambda k: base + k.fields * per_field + k.operators * per_op + k.subcategories * per_sub


@given(
    topks,
    ladders,
    st.integers(0, 200),
    st.integers(0, 200),
    st.integers(0, 500),
    st.integers(0, 20_000),
    st.integers(0, 40_000),
)
def test_first_fit_in_mandated_order(
    start: TopK, steps: FallbackSteps, pf: int, po: int, ps: int, base: int, cap: int
) -> None:
    def measure(k: TopK) -> int:
        return base + k.fields * pf + k.operators * po + k.subcategories * ps

    outcome = choose_topk(start, steps, measure, lambda t: None if t <= cap else ("over", t))
    sequence = [cfg for _, cfg in ladder_sequence(start, steps)]
    fitting = [cfg for cfg in sequence if measure(cfg) <= cap]
    if fitting:
        assert outcome.chosen == fitting[0]  # fits whenever any does; the largest in order
        assert measure(outcome.chosen) <= cap
    else:
        assert outcome.chosen is None and outcome.last_violation is not None
    stages = [STAGE_ORDER[s.stage] for s in outcome.steps]
    assert stages == sorted(stages)  # fields, then operators, then subcategories
    for step in outcome.steps:
        assert step.to_k < step.from_k
    for a, b in zip(outcome.steps, outcome.steps[1:], strict=False):
        assert a.tokens_after == b.tokens_before


@given(topks, ladders)
def test_sequence_is_monotone_and_starts_unchanged(start: TopK, steps: FallbackSteps) -> None:
    sequence = ladder_sequence(start, steps)
    assert sequence[0] == (None, start)
    for (_, a), (_, b) in itertools.pairwise(sequence):
        assert b.fields <= a.fields and b.operators <= a.operators and b.subcategories <= a.subcategories
        assert b != a


def test_under_budget_passes_unchanged() -> None:
    outcome = choose_topk(TopK(40, 30, 5), FallbackSteps(), lambda k: 100, lambda t: None)
    assert outcome.passed_unchanged and outcome.chosen == TopK(40, 30, 5)


def test_worked_example() -> None:
    steps = FallbackSteps(fields=(40, 20, 10), operators=(30, 15), subcategories=(5, 3))

    def measure(k: TopK) -> int:
        return 2000 + 100 * k.fields + 50 * k.operators + 300 * k.subcategories

    outcome = choose_topk(TopK(40, 30, 5), steps, measure, lambda t: None if t <= 5300 else t)
    assert [(s.stage, s.from_k, s.to_k) for s in outcome.steps] == [
        ("fields", 40, 20),
        ("fields", 20, 10),
        ("operators", 30, 15),
    ]
    assert outcome.chosen == TopK(10, 15, 5) and outcome.tokens == 5250
