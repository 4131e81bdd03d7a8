"""Token estimation: rough vs exact, calibration learned from provider usage and persisted."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from brain_agent.generation.budget import BudgetGate, CallContext, TokenEstimator, rough_tokens
from brain_agent.generation.budget.tokens import rough_milli
from brain_agent.generation.prompt import SYSTEM_PROMPT, render_alpha_prompt
from brain_agent.ideas import IdeaSpec
from brain_agent.knowledge import KnowledgePack, load_knowledge_pack
from brain_agent.llm.base import Usage
from brain_agent.llm.tokenizer import BUNDLED_ENCODINGS, TokenCounter, count_tokens, independent_chunks
from brain_agent.retrieval import TopK, build_retrieval_pack

PROSE = (
    "Stocks that fell hard over the last week on heavy volume tend to recover part of the move, "
    "because liquidity providers demand a premium and prices overshoot before they mean-revert. "
) * 6
EXPRESSION = "group_neutralize(rank(-ts_delta(close, 5) / ts_std_dev(returns, 20)), subindustry)\n" * 8
PACK = json.dumps(
    [
        {"id": f"fnd6_field_{i}", "description": "quarterly operating income", "coverage": 0.93}
        for i in range(20)
    ],
    indent=2,
)


def test_rough_is_much_closer_than_chars_over_four() -> None:
    for text in (PROSE, EXPRESSION, PACK):
        exact = count_tokens(text)
        rough_err = abs(rough_tokens(text) - exact) / exact
        c4_err = abs(len(text) / 4 - exact) / exact
        assert rough_err < 0.15, (text[:30], rough_err)
        assert rough_err < c4_err


def test_exact_for_openai_models_and_no_margin() -> None:
    est = TokenEstimator("exact").estimate(PROSE, "gpt-4o-mini")
    assert est.exact and est.tokens == count_tokens(PROSE)


def test_calibration_corrects_models_without_a_public_tokenizer() -> None:
    estimator = TokenEstimator("exact", safety_margin=0.0)
    raw = count_tokens(PROSE)
    true = int(raw * 1.18)  # a model whose tokenizer splits 18 % finer
    before = estimator.estimate(PROSE, "claude-sonnet-4-5")
    assert not before.exact and before.tokens == raw
    for _ in range(5):
        estimator.observe(PROSE, "claude-sonnet-4-5", true)
    after = estimator.estimate(PROSE, "claude-sonnet-4-5")
    assert abs(after.tokens - true) / true < 0.01


def test_rough_calibration_learns_and_is_persisted(gate_factory: Callable[..., BudgetGate]) -> None:
    gate = gate_factory(estimator="rough", prompt_safety_margin=0.0)
    exact = count_tokens(EXPRESSION)
    ctx = CallContext(run_id=None, batch_id="b", lane="exploit", model="llama3.1:8b")
    gate.learn(EXPRESSION, ctx, Usage(uncached_input=exact, output=3))
    gate.learn(EXPRESSION, ctx, Usage(uncached_input=exact, output=3))
    reopened = BudgetGate.open(gate.config, gate.store, gate.prices, gate.clock)
    est = reopened.estimator.estimate(EXPRESSION, "llama3.1:8b")
    assert est.factor != 1.0
    assert abs(est.tokens - exact) <= 1


def test_estimated_usage_is_not_learned(gate_factory: Callable[..., BudgetGate]) -> None:
    gate = gate_factory(estimator="rough")
    ctx = CallContext(run_id=None, batch_id="b", lane="exploit", model="llama3.1:8b")
    gate.learn(PROSE, ctx, Usage(uncached_input=999_999, raw={"estimated": True}))
    assert gate.ledger.load_calibration() == []


# -- per-line counting on real prompts -----------------------------------------------------------


REPO = Path(__file__).resolve().parents[2]


@functools.cache
def shipped_pack() -> KnowledgePack:
    return load_knowledge_pack(REPO / "data" / "meta" / "index")


@st.composite
def rendered_prompts(draw: st.DrawFn) -> str:
    """An alpha prompt as the gate renders it: an idea on a shipped subcategory, any Top-K, maybe
    earlier validation errors, with the system prompt in front."""
    pack = shipped_pack()
    subcategory = draw(st.sampled_from(sorted(pack.subcategories)))
    text = st.text(st.characters(codec="utf-8"), max_size=60)
    idea = IdeaSpec(
        id=draw(st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True)),
        title=draw(text.filter(str.strip)),
        hypothesis=draw(text.filter(str.strip)),
        target_subcategories=[subcategory],
        tags=draw(st.lists(st.sampled_from(["momentum", "value", "quality", "näive/tag"]), max_size=3)),
        lane=draw(st.sampled_from(["exploit", "explore"])),
    )
    retrieval = build_retrieval_pack(idea, pack)
    topk = TopK(draw(st.integers(1, 60)), draw(st.integers(1, 40)), draw(st.integers(1, 8)))
    feedback = draw(st.lists(text, max_size=3))
    return SYSTEM_PROMPT + render_alpha_prompt(idea, retrieval, topk, feedback=feedback)


@settings(max_examples=150, deadline=None, database=None)
@given(prompt=rendered_prompts(), encoding=st.sampled_from(BUNDLED_ENCODINGS))
def test_per_line_counts_of_rendered_prompts_are_exact(prompt: str, encoding: str) -> None:
    whole = count_tokens(prompt, encoding)
    chunks = independent_chunks(prompt)
    assert len(chunks) > 10  # the prompt really is cut into lines
    assert sum(count_tokens(c, encoding) for c in chunks) == whole
    assert TokenCounter(encoding).count(prompt) == whole


def test_the_estimator_is_exact_across_a_ladder_walk_and_reuses_lines() -> None:
    pack = shipped_pack()
    idea = IdeaSpec(id="walk", title="Reversal", hypothesis="Prices overshoot.")
    retrieval = build_retrieval_pack(idea, pack)
    estimator = TokenEstimator("exact")
    for topk in (TopK(40, 30, 5), TopK(20, 30, 5), TopK(10, 30, 5), TopK(10, 15, 5), TopK(10, 15, 3)):
        prompt = SYSTEM_PROMPT + render_alpha_prompt(idea, retrieval, topk)
        assert estimator.estimate(prompt, "gpt-4o-mini").tokens == count_tokens(prompt)
        assert estimator.estimate(prompt, "gpt-3.5-turbo").tokens == count_tokens(prompt, "cl100k_base")
    hits, misses, _ = estimator._counters["o200k_base"].memo_info()
    assert hits > misses  # later steps are mostly lines already counted


@settings(max_examples=200, deadline=None, database=None)
@given(lines=st.lists(st.text(max_size=50), max_size=20))
def test_rough_is_additive_over_lines_so_its_memo_changes_nothing(lines: list[str]) -> None:
    text = "\n".join(lines)
    assert sum(rough_milli(c) for c in independent_chunks(text)) == rough_milli(text)
    estimator = TokenEstimator("rough", safety_margin=0.0)
    assert estimator.estimate(text, "llama3.1:8b").raw == rough_tokens(text)
