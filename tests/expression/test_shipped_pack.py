"""The reference examples validate against the knowledge pack shipped in ``data/meta/index``."""

from __future__ import annotations

from pathlib import Path

import pytest

from brain_agent.expression import Code, check
from brain_agent.knowledge import KnowledgePack, load_knowledge_pack

PACK_DIR = Path(__file__).resolve().parents[2] / "data" / "meta" / "index"

pytestmark = pytest.mark.skipif(
    not (PACK_DIR / "operators.json").is_file(), reason="data/meta/index/operators.json not written yet"
)

REFERENCE = [
    "Event = volume > adv20; alpha_1 = 2 * (-ts_delta(close, 3)); alpha_2 = (-ts_delta(close, 3)); "
    "if_else(Event, alpha_1, alpha_2)",
    "ts_backfill(close, lookback = 20, k=1)",
    "winsorize(close, std=4)",
    "multiply(close, volume, filter=true)",
    'group_neutralize(rank(close), bucket(rank(cap), range="0.1,1,0.1"))',
    "is_nan(ts_zscore(etz_eps, 252)) ? ts_zscore(est_eps, 252) : ts_zscore(etz_eps, 252)",
    'kth_element(close, 252, k="1", ignore="NAN 0")',
    "trade_when(volume >= ts_sum(volume,5)/5, rank(-returns), abs(returns) > 0.1)",
    "group_neutralize(rank(ts_mean(returns, 20)), industry)",
    "close != 0 ? 1 : 0",
]


@pytest.fixture(scope="module")
def shipped() -> KnowledgePack:
    return load_knowledge_pack(PACK_DIR)


@pytest.mark.parametrize("source", REFERENCE)
def test_reference_examples_are_valid(source: str, shipped: KnowledgePack) -> None:
    result = check(source, shipped)
    assert result.diagnostics == ()


def test_vector_fields_need_vec_operators(shipped: KnowledgePack) -> None:
    vector = next((f.id for f in shipped.fields.values() if f.type == "VECTOR"), None)
    if vector is None:
        pytest.skip("the shipped pack has no VECTOR field")
    assert check(f"vec_avg({vector})", shipped).ok
    assert [d.code for d in check(f"rank({vector})", shipped).diagnostics] == [Code.VECTOR_FIELD_MISUSE]


def test_every_infix_symbol_maps_to_a_two_argument_operator(shipped: KnowledgePack) -> None:
    for symbol in shipped.infix:
        assert check(f"close {symbol} open", shipped).ok, symbol


def test_group_fields_only_in_group_slots(shipped: KnowledgePack) -> None:
    codes = [d.code for d in check("rank(industry) + group_rank(close, volume)", shipped).diagnostics]
    assert codes == [Code.GROUP_FIELD_MISUSE, Code.EXPECTED_GROUP]
