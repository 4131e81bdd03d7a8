"""On a real market, retrieval offers only the fields the market has (the synthetic market: all)."""

from __future__ import annotations

from pathlib import Path

import pytest

from brain_agent.expression.validator import check
from brain_agent.ideas import IdeaSpec
from brain_agent.knowledge import KnowledgePack, load_knowledge_pack
from brain_agent.retrieval import TopK, build_retrieval_pack, restrict_to_fields
from brain_agent.simulation.local.real_market import market_panel
from brain_agent.simulation.markets import SP500

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def kp() -> KnowledgePack:
    return load_knowledge_pack(REPO / "data/meta/index")


@pytest.fixture(scope="module")
def sp500_fields() -> list[str]:
    panel = market_panel(SP500)
    assert panel is not None
    return panel.field_names()


def _idea() -> IdeaSpec:
    return IdeaSpec.model_validate(
        {
            "id": "v1",
            "title": "Value: cheap stocks by book to price",
            "hypothesis": "Stocks with a high book value per share relative to their price and a "
            "volume-weighted price (vwap) below the close outperform.",
            "target_subcategories": ["pv-price-volume"],
        }
    )


def test_the_whole_pack_offers_fields_the_market_lacks(kp: KnowledgePack, sp500_fields: list[str]) -> None:
    offered = {f.id for f in build_retrieval_pack(_idea(), kp).fields}
    assert {"vwap", "cap", "bookvalue_ps"} <= offered  # so the restriction below has work to do
    assert not {"vwap", "cap", "bookvalue_ps"} & set(sp500_fields)


def test_restricted_retrieval_offers_only_market_fields(kp: KnowledgePack, sp500_fields: list[str]) -> None:
    restricted = restrict_to_fields(kp, sp500_fields, SP500)
    pack = build_retrieval_pack(_idea(), restricted)
    offered = {f.id for f in pack.fields} | {f.id for f in pack.always_fields}
    assert offered <= set(sp500_fields)
    assert {"close", "open", "volume", "returns", "adv20"} <= offered
    assert "vwap" not in offered and "bookvalue_ps" not in offered and "cap" not in offered
    sel = pack.select(TopK(fields=40, operators=30, subcategories=5))
    assert {f.id for f in sel.fields} <= set(sp500_fields)
    assert [f.id for f in sel.always_fields] == ["market", "sector", "industry", "subindustry"]
    # operators and subcategories are the whole pack's
    assert restricted.operators is kp.operators and restricted.subcategories is kp.subcategories
    assert pack.knowledge_pack["digest"] != kp.digest


def test_the_validator_names_a_field_the_market_lacks(kp: KnowledgePack, sp500_fields: list[str]) -> None:
    restricted = restrict_to_fields(kp, sp500_fields, SP500)
    assert check("rank(vwap / close)", kp).ok
    result = check("rank(vwap / close)", restricted)
    assert not result.ok
    assert [d.code.value for d in result.diagnostics] == ["UNKNOWN_FIELD"]
    assert check("rank(-ts_delta(close, 5))", restricted).ok


def test_restriction_digest_depends_on_market_and_fields(kp: KnowledgePack) -> None:
    a = restrict_to_fields(kp, ["close", "returns"], "m1")
    b = restrict_to_fields(kp, ["close", "returns"], "m2")
    c = restrict_to_fields(kp, ["close"], "m1")
    assert len({a.digest, b.digest, c.digest, kp.digest}) == 4
    assert set(a.fields) == {"close", "returns"}
