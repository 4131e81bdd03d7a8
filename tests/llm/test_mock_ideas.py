"""The mock writes to the idea: fields of its target subcategories, operators that fit its hypothesis, a
controlled share of invalid answers, the same text per seed; and on the synthetic market the
constructions it picks for the planted effects earn a positive Sharpe."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from brain_agent.expression import check
from brain_agent.generation.prompt import SYSTEM_PROMPT, render_alpha_prompt
from brain_agent.ideas import IdeaSpec, generate_ideas
from brain_agent.knowledge import KnowledgePack, load_knowledge_pack
from brain_agent.llm import LLMRequest, MockProvider
from brain_agent.llm.providers.mock_alpha import intent_of
from brain_agent.retrieval import TopK, build_retrieval_pack

PACK_DIR = Path(__file__).resolve().parents[2] / "data" / "meta" / "index"
NAME = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\b(?!\s*\()")


@pytest.fixture(scope="module")
def knowledge() -> KnowledgePack:
    return load_knowledge_pack(PACK_DIR)


def _idea(hypothesis: str, targets: list[str], lane: str = "exploit", title: str = "An idea") -> IdeaSpec:
    return IdeaSpec.model_validate(
        {
            "id": "idea-1",
            "title": title,
            "hypothesis": hypothesis,
            "target_subcategories": targets,
            "lane": lane,
        }
    )


def _prompt(knowledge: KnowledgePack, idea: IdeaSpec, topk: TopK | None = None) -> tuple[str, set[str]]:
    pack = build_retrieval_pack(idea, knowledge)
    sel = pack.select(topk or pack.default_topk.as_topk())
    return render_alpha_prompt(idea, pack, topk or pack.default_topk.as_topk()), {
        f.id for f in [*sel.fields, *sel.always_fields]
    }


def _answer(prompt: str, seed: int, invalid_share: float = 0.0) -> str | None:
    text = (
        MockProvider(seed=seed, invalid_share=invalid_share)
        .complete(LLMRequest(prompt=prompt, system=SYSTEM_PROMPT))
        .text
    )
    parts = text.split("```")
    return parts[1].strip() if len(parts) >= 3 else None


REVERSAL = "Prices that moved sharply over a few days tend to partly revert."
MOMENTUM = "Stocks with strong medium-term returns keep outperforming for a while."
VALUE = "Cheap stocks on fundamentals relative to price earn a premium."


def test_intent_is_read_from_the_words() -> None:
    assert intent_of(f"Short-term reversal. {REVERSAL}") == "reversal"
    assert intent_of(f"Momentum. {MOMENTUM}") == "momentum"
    assert intent_of(f"Value. {VALUE}") == "value"
    assert intent_of("Heavily shorted names with rising prices see squeezes.") == "squeeze"
    assert intent_of("Something about the weather") is None


def test_reversal_leans_against_recent_moves_of_prices(knowledge: KnowledgePack) -> None:
    prompt, offered = _prompt(knowledge, _idea(REVERSAL, ["pv-price-volume"], title="Short-term reversal"))
    for seed in range(30):
        expression = _answer(prompt, seed)
        assert expression is not None
        assert check(expression, knowledge).ok, expression
        assert set(NAME.findall(expression)) - {"d"} <= offered, expression
        assert re.search(
            r"-\s*(rank\(|zscore\(|quantile\(|normalize\()?ts_(delta|sum|av_diff)\(", expression
        ) or (re.search(r"-ts_(delta|sum)\(", expression)), expression
        lookback = int(re.findall(r", (\d+)\)", expression)[0])
        assert lookback <= 10, expression


def test_momentum_follows_returns_over_months(knowledge: KnowledgePack) -> None:
    prompt, offered = _prompt(knowledge, _idea(MOMENTUM, ["pv-price-volume"], title="Momentum"))
    for seed in range(30):
        expression = _answer(prompt, seed)
        assert expression is not None and check(expression, knowledge).ok, expression
        assert set(NAME.findall(expression)) <= offered
        assert re.search(r"ts_(mean|rank|delta|sum)\((returns|close|vwap), (126|231|252)\)", expression), (
            expression
        )
        assert not expression.startswith("-")


def test_value_is_a_ratio_to_price(knowledge: KnowledgePack) -> None:
    idea = _idea(VALUE, ["fundamental-financial-ratios", "pv-price-volume"], title="Value")
    prompt, offered = _prompt(knowledge, idea)
    for seed in range(30):
        expression = _answer(prompt, seed)
        assert expression is not None and check(expression, knowledge).ok, expression
        assert set(NAME.findall(expression)) <= offered
        assert re.search(r"\w+ / (close|vwap|cap)\b", expression), expression


def test_other_ideas_use_their_target_subcategories_fields(knowledge: KnowledgePack) -> None:
    idea = _idea("Heavily shorted names with rising prices see squeezes.", ["shortinterest-short-interest"])
    prompt, _ = _prompt(knowledge, idea, TopK(fields=12, operators=12, subcategories=1))
    short_fields = {
        f.id for f in knowledge.fields.values() if f.subcategory == "shortinterest-short-interest"
    }
    for seed in range(20):
        expression = _answer(prompt, seed)
        assert expression is not None and check(expression, knowledge).ok, expression
        assert set(NAME.findall(expression)) - {"market", "sector", "industry", "subindustry"} <= short_fields


def test_explore_lane_wanders_half_of_the_time(knowledge: KnowledgePack) -> None:
    idea = _idea(REVERSAL, ["pv-price-volume"], lane="explore", title="Short-term reversal")
    prompt, _ = _prompt(knowledge, idea)
    answers = [_answer(prompt, seed) for seed in range(200)]
    themed = sum(1 for a in answers if a and re.search(r"-\S*ts_(delta|sum|av_diff)\(", a))
    assert 60 <= themed <= 140, themed  # EXPLORE_WANDER = 0.5: about half follow the idea
    assert all(a is not None and check(a, knowledge).ok for a in answers)


@pytest.mark.parametrize("share", [0.1, 0.25, 0.5])
def test_invalid_share_matches_the_configuration(knowledge: KnowledgePack, share: float) -> None:
    ideas = generate_ideas(20, knowledge, seed=3)
    prompts = [_prompt(knowledge, idea)[0] for idea in ideas]
    n = 1000
    invalid = 0
    for i in range(n):
        expression = _answer(prompts[i % len(prompts)], seed=i, invalid_share=share)
        if expression is None or not check(expression, knowledge).ok:
            invalid += 1
    # binomial: 3 standard deviations at n = 1000 is at most 0.047
    assert abs(invalid / n - share) <= 0.05, (invalid, share)


def test_same_seed_same_expression(knowledge: KnowledgePack) -> None:
    prompt, _ = _prompt(knowledge, _idea(VALUE, ["fundamental-financial-ratios", "pv-price-volume"]))
    assert [_answer(prompt, s) for s in range(5)] == [_answer(prompt, s) for s in range(5)]


def test_generated_exploit_ideas_target_their_themes_home(knowledge: KnowledgePack) -> None:
    ideas = generate_ideas(10, knowledge, seed=0)
    by_title = {i.title.split(" #")[0]: i for i in ideas if i.lane == "exploit"}
    assert by_title["Short-term reversal"].target_subcategories == ["pv-price-volume"]
    assert by_title["Value"].target_subcategories == ["fundamental-financial-ratios", "pv-price-volume"]
    assert all(set(i.target_subcategories) <= set(knowledge.subcategories) for i in ideas)


def test_the_mocks_constructions_find_the_planted_effects(knowledge: KnowledgePack, tmp_path: Path) -> None:
    """The expressions the mock writes for reversal, momentum and value earn a Sharpe above 1 on the
    synthetic market."""
    from brain_agent.simulation.backend import SimulationSettings
    from brain_agent.simulation.factory import make_backend
    from brain_agent.simulation.runner import simulate_candidates
    from brain_agent.storage import SQLiteStore

    cases = [
        ("Short-term reversal", REVERSAL, ["pv-price-volume"]),
        ("Momentum", MOMENTUM, ["pv-price-volume"]),
        ("Value", VALUE, ["fundamental-financial-ratios", "pv-price-volume"]),
    ]
    candidates = []
    for n, (title, hypothesis, targets) in enumerate(cases):
        prompt, _ = _prompt(knowledge, _idea(hypothesis, targets, title=title))
        expression = _answer(prompt, seed=11)
        assert expression is not None
        candidates.append({"candidate_id": f"c{n}", "expression": expression, "valid": True})
    store = SQLiteStore(tmp_path / "s.db")
    backend = make_backend("local", db_path=tmp_path / "s.db", knowledge_pack=knowledge)
    records = simulate_candidates(store, candidates, backend, SimulationSettings())
    sharpes = {r["candidate_id"]: r["result"]["is"]["sharpe"] for r in records if r["status"] == "COMPLETE"}
    assert len(sharpes) == 3, records
    assert all(s > 1.0 for s in sharpes.values()), (sharpes, [c["expression"] for c in candidates])
