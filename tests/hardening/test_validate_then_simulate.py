"""Property: whatever the validator accepts, the local simulator runs to a result or a coded error,
never an exception (issue 12: poison expressions), plus the two reproductions through the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from brain_agent.expression import check
from brain_agent.knowledge import KnowledgePack, Operator, load_knowledge_pack
from brain_agent.simulation.backend import SimulationJob, SimulationSettings
from brain_agent.simulation.local.backend import LocalBackend
from brain_agent.simulation.local.market import MarketSpec

from .conftest import REPO

PACK = load_knowledge_pack(REPO / "data" / "meta" / "index")
BACKEND = LocalBackend(market=MarketSpec(instruments=24, days=60), knowledge_pack=PACK)

FIELDS: dict[str, list[str]] = {"MATRIX": [], "GROUP": [], "VECTOR": []}
for _f in PACK.fields.values():
    FIELDS[_f.type].append(_f.id)
VALUE_OPS = [o for o in PACK.operators.values() if o.returns == "expr"]
GROUP_OPS = [o for o in PACK.operators.values() if o.returns == "group"]

NUMBERS = ["0", "1", "-1", "0.5", "2", "3.7", "100", "1e6", "1e-12", "1e300", "-1e300", "1e-300"]
LOOKBACKS = ["1", "2", "5", "20", "59", "60", "61", "252", "1000", "5000", "5001", "100000000"]
INTS = ["0", "1", "-1", "2", "4", "7", "1000", "1000000000"]
STRINGS = [
    '"0,1,0.1"', '"0,1,1e-12"', '"0,1e308,1e-308"', '"-1e308,1e308,1"', '"0.2,0.5,0.7"', '"1,0,0.1"',
    '"0,1,0"', '"0,10,1"', '"0,1,0.001"', '"NaN"', '"NAN 0"', '"gaussian"', '"uniform"', '"cauchy"',
    '""', '"x"', '"1e999,2,1"',
]  # fmt: skip


def _constant(data: st.DataObject, kind: str) -> str:
    table = {
        "lookback": LOOKBACKS,
        "int": INTS,
        "number": NUMBERS,
        "bool": ["true", "false"],
        "string": STRINGS,
    }
    return str(data.draw(st.sampled_from(table.get(kind, NUMBERS))))


def _call(data: st.DataObject, op: Operator, depth: int) -> str:
    parts: list[str] = []
    for arg in op.args:
        optional = arg.optional or arg.default is not None or arg.keyword_only
        if optional and not data.draw(st.booleans()):
            continue
        text = _expr(data, depth + 1, arg.kind)
        parts.append(f"{arg.name}={text}" if optional else text)
    return f"{op.name}({', '.join(parts)})"


def _expr(data: st.DataObject, depth: int, kind: str = "expr") -> str:
    if kind == "group":
        if depth > 3 or data.draw(st.booleans()):
            return str(data.draw(st.sampled_from(FIELDS["GROUP"])))
        return _call(data, data.draw(st.sampled_from(GROUP_OPS)), depth)
    if kind == "vector":
        return str(data.draw(st.sampled_from(FIELDS["VECTOR"])))
    if kind != "expr":
        return _constant(data, kind)
    roll = data.draw(st.integers(0, 9))
    if depth > 3 or roll < 3:
        return str(data.draw(st.sampled_from(FIELDS["MATRIX"] + NUMBERS)))
    if roll == 3:
        op = data.draw(st.sampled_from(["+", "-", "*", "/", "^", ">", "<", "&&"]))
        return f"({_expr(data, depth + 1)} {op} {_expr(data, depth + 1)})"
    if roll == 4:
        return f"({_expr(data, depth + 1)} ? {_expr(data, depth + 1)} : {_expr(data, depth + 1)})"
    return _call(data, data.draw(st.sampled_from(VALUE_OPS)), depth)


def _simulate(expression: str) -> dict[str, Any]:
    job = SimulationJob(candidate_id="c", expression=expression, settings=SimulationSettings())
    (outcome,) = BACKEND.simulate([job])
    return {"status": outcome.status, "error": outcome.error}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy overflow notes on 1e300 constants: not errors
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_whatever_validates_simulates_without_an_exception(data: st.DataObject) -> None:
    expression = _expr(data, 0)
    if not check(expression, PACK).ok:
        return
    outcome = _simulate(expression)
    assert outcome["status"] in ("COMPLETE", "ERROR"), outcome
    if outcome["status"] == "ERROR":
        error = outcome["error"]
        assert isinstance(error, dict) and isinstance(error.get("code"), str) and error["code"], error


def test_the_generator_reaches_valid_expressions() -> None:
    """The property above is only worth something if most generated expressions validate."""
    valid = 0

    @settings(max_examples=120, deadline=None, database=None)
    @given(st.data())
    def count(data: st.DataObject) -> None:
        nonlocal valid
        valid += check(_expr(data, 0), PACK).ok

    count()
    assert valid >= 40, valid


POISON = [
    'group_neutralize(close, bucket(rank(cap), range="0,1,1e-12"))',
    'group_neutralize(close, bucket(rank(cap), range="0,1e308,1e-308"))',
    'group_neutralize(close, bucket(rank(cap), range="-1e308,1e308,1"))',
    "group_neutralize(close, bucket(rank(cap)))",
    "ts_mean(close, 100000000000000000000)",
]


@pytest.mark.parametrize("expression", POISON)
def test_poison_expressions_are_refused_by_the_validator(expression: str, pack: KnowledgePack) -> None:
    result = check(expression, pack)
    assert not result.ok
    assert {d.code.value for d in result.diagnostics} <= {"BAD_ARGUMENT", "BAD_LOOKBACK"}


@pytest.fixture
def pack() -> KnowledgePack:
    return PACK


def test_poison_through_validate_expression(cli: Any, tmp_path: Path) -> None:
    file = tmp_path / "poison.txt"
    file.write_text("\n".join(POISON) + "\nrank(close)\n")
    r = cli("validate-expression", "--file", file, "--json")
    assert r.code == 2
    results = json.loads(r.out)
    assert [x["ok"] for x in results] == [False] * len(POISON) + [True]
