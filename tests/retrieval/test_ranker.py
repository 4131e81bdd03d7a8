from __future__ import annotations

from pathlib import Path

import pytest

from brain_agent.ideas import IdeaSpec
from brain_agent.knowledge import KnowledgePack, load_knowledge_pack
from brain_agent.retrieval import ALWAYS_FIELDS, TopK, build_retrieval_pack

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def kp() -> KnowledgePack:
    return load_knowledge_pack(REPO / "data/meta/index")


def _idea(**kw: object) -> IdeaSpec:
    base: dict[str, object] = {
        "id": "i1",
        "title": "Implied volatility skew",
        "hypothesis": "Stocks whose option implied volatility rises relative to realised volatility "
        "underperform.",
        "target_subcategories": [],
    }
    return IdeaSpec.model_validate({**base, **kw})


def test_ranking_is_deterministic(kp: KnowledgePack) -> None:
    a = build_retrieval_pack(_idea(), kp).model_dump()
    b = build_retrieval_pack(_idea(), kp).model_dump()
    assert a == b


def test_lexical_relevance_brings_matching_fields_first(kp: KnowledgePack) -> None:
    pack = build_retrieval_pack(_idea(), kp)
    top_subs = [f.subcategory for f in pack.fields[:10]]
    assert sum(s.startswith("option-") for s in top_subs) >= 6, top_subs
    assert pack.subcategories[0].id.startswith("option-")


def test_target_subcategory_wins(kp: KnowledgePack) -> None:
    target = "insiders-insider-trading"
    pack = build_retrieval_pack(_idea(target_subcategories=[target]), kp)
    assert pack.subcategories[0].id == target
    sel = pack.select(TopK(fields=5, operators=5, subcategories=1))
    assert {f.subcategory for f in sel.fields} == {target}
    assert [f.id for f in sel.always_fields] == list(ALWAYS_FIELDS)


def test_explore_lane_favours_the_least_seen(kp: KnowledgePack) -> None:
    ranked = build_retrieval_pack(_idea(lane="explore"), kp)
    first = ranked.subcategories[0].id
    seen = {first: 50}
    field_seen = {f.id: 50 for f in ranked.fields[:5]}
    again = build_retrieval_pack(_idea(lane="explore"), kp, field_usage=field_seen, subcategory_usage=seen)
    assert again.subcategories[0].id != first
    assert [f.id for f in again.fields[:5]] != [f.id for f in ranked.fields[:5]]
    exploit = build_retrieval_pack(_idea(lane="exploit"), kp, field_usage=field_seen, subcategory_usage=seen)
    assert (
        exploit.model_dump()["fields"]
        == build_retrieval_pack(_idea(lane="exploit"), kp).model_dump()["fields"]
    )


def test_select_tops_up_fields_outside_chosen_subcategories(kp: KnowledgePack) -> None:
    pack = build_retrieval_pack(_idea(target_subcategories=["model-valuation-models"]), kp)
    sel = pack.select(TopK(fields=30, operators=3, subcategories=1))
    assert len(sel.fields) == 30 and len(sel.operators) == 3
    inside = [f for f in sel.fields if f.subcategory == "model-valuation-models"]
    assert 0 < len(inside) < 30
    assert sel.fields[: len(inside)] == inside


def test_operator_level_limits_what_retrieval_offers(kp: KnowledgePack) -> None:
    base = build_retrieval_pack(_idea(), kp)
    genius = build_retrieval_pack(_idea(), kp, operator_level="GENIUS")
    assert {kp.operators[o.name].level for o in base.operators} == {"BASE"}
    assert len(base.operators) == sum(
        1 for o in kp.operators.values() if o.level == "BASE" and "REGULAR" in o.scope
    )
    assert {kp.operators[o.name].level for o in genius.operators} == {"BASE", "GENIUS"}
