"""The evaluator over parsed expressions: semantics, errors with locations, the batch cache, and the
rule that every knowledge-pack operator either evaluates or is reported as unsupported by name."""

from __future__ import annotations

import numpy as np
import pytest

from brain_agent.expression.ast import Call, Name, Number
from brain_agent.expression.parser import parse
from brain_agent.knowledge import load_knowledge_pack
from brain_agent.settings import repo_root
from brain_agent.simulation.errors import EvaluationError, UnsupportedOperatorError
from brain_agent.simulation.local.evaluator import Evaluator, inline, operator_count
from brain_agent.simulation.local.market import MarketSpec, synthetic_market
from brain_agent.simulation.local.operators import OPERATORS
from brain_agent.simulation.local.panel import Panel


def run(panel: Panel, source: str) -> np.ndarray:
    return Evaluator(panel, panel.listed).alpha(inline(parse(source)))


def test_infix_unary_ternary_and_assignments(tiny_panel: Panel) -> None:
    close = tiny_panel.matrix("close")
    np.testing.assert_allclose(run(tiny_panel, "close * 2 - 1"), close * 2 - 1)
    np.testing.assert_allclose(run(tiny_panel, "-close"), -close)
    np.testing.assert_allclose(run(tiny_panel, "close > 15 ? 1 : -1"), np.where(close > 15, 1.0, -1.0))
    np.testing.assert_allclose(run(tiny_panel, "a = close; b = a + 1; b / a"), (close + 1) / close)
    np.testing.assert_allclose(run(tiny_panel, "2 ^ 3 + close * 0"), np.full(close.shape, 8.0))


def test_nan_propagates_through_comparisons(tiny_panel: Panel) -> None:
    out = run(tiny_panel, "returns > 0")
    assert np.isnan(out[0]).all()
    np.testing.assert_allclose(out[1], [1, 0, 0])


def test_calls_keywords_groups_and_vectors(tiny_panel: Panel) -> None:
    out = run(tiny_panel, "group_neutralize(close, sector)")
    np.testing.assert_allclose(out[0], [-5, 5, 0])
    np.testing.assert_allclose(run(tiny_panel, "vec_avg(vec)")[0], [1, 4, 7])
    np.testing.assert_allclose(run(tiny_panel, "ts_backfill(close, lookback=2)"), tiny_panel.matrix("close"))
    np.testing.assert_allclose(run(tiny_panel, "add(close, 1, 2)"), tiny_panel.matrix("close") + 3)
    np.testing.assert_allclose(run(tiny_panel, "quantile(close, driver=uniform)")[0], [-2 / 3, 0, 2 / 3])
    np.testing.assert_allclose(
        run(tiny_panel, 'group_rank(close, bucket(rank(close), range="0,1,0.5"))')[0], [0.5, 0, 1]
    )


def test_pasteurization_masks_cells_outside_the_universe(tiny_panel: Panel) -> None:
    universe = tiny_panel.listed.copy()
    universe[:, 2] = False
    out = Evaluator(tiny_panel, universe, pasteurize=True).alpha(inline(parse("close")))
    assert np.isnan(out[:, 2]).all() and not np.isnan(out[:, :2]).any()
    off = Evaluator(tiny_panel, universe, pasteurize=False).alpha(inline(parse("close")))
    assert not np.isnan(off).any()


@pytest.mark.parametrize(
    ("source", "code", "span"),
    [
        ("rank(nope)", "UNKNOWN_FIELD", (5, 9)),
        ("ts_mean(close, 0)", "BAD_ARGUMENT", (15, 16)),
        ("ts_mean(close, close)", "BAD_ARGUMENT", (15, 20)),
        ("rank(vec)", "TYPE_MISMATCH", (5, 8)),
        ("sector + 1", "TYPE_MISMATCH", (0, 6)),
        ("ts_mean(close)", "ARITY", (0, 14)),
        ("rank(close, speed=3)", "BAD_ARGUMENT", (12, 19)),
        ('bucket(close, range="0,1,0.1")', "TYPE_MISMATCH", (0, 30)),
    ],
)
def test_errors_carry_code_and_location(
    tiny_panel: Panel, source: str, code: str, span: tuple[int, int]
) -> None:
    with pytest.raises(EvaluationError) as info:
        run(tiny_panel, source)
    assert info.value.error_code == code
    assert (info.value.start, info.value.end) == span


def test_unsupported_operator_is_named(tiny_panel: Panel) -> None:
    with pytest.raises(UnsupportedOperatorError) as info:
        run(tiny_panel, "ts_entropy(close, 3)")
    assert info.value.error_code == "UNSUPPORTED_OPERATOR" and info.value.operator == "ts_entropy"
    assert "ts_entropy" in info.value.message
    with pytest.raises(UnsupportedOperatorError, match="made_up_op"):
        run(tiny_panel, "made_up_op(close)")


def test_common_subexpressions_are_computed_once_per_batch(tiny_panel: Panel) -> None:
    evaluator = Evaluator(tiny_panel, tiny_panel.listed)
    trees = [
        inline(parse(s))
        for s in ("rank(ts_delta(close, 1))", "-rank(ts_delta(close, 1))", "ts_delta(close, 1) * 2")
    ]
    first, second, third = evaluator.evaluate_batch(trees)
    assert isinstance(first, np.ndarray) and isinstance(second, np.ndarray) and isinstance(third, np.ndarray)
    np.testing.assert_allclose(second, -first)
    assert evaluator.hits >= 2  # rank(ts_delta(...)) once reused, ts_delta(...) once more
    alone = Evaluator(tiny_panel, tiny_panel.listed)
    alone.evaluate_batch(trees[:1])
    assert alone.hits == 0


def test_operator_count() -> None:
    assert operator_count(inline(parse("rank(-ts_delta(close, 5))"))) == 3
    assert operator_count(inline(parse("a = ts_mean(close, 5); a / a"))) == 3
    assert operator_count(inline(parse("ts_delay(close, -1 + 2)"))) == 2


def _sample_call(op_name: str, arg_kinds: list[tuple[str, str, bool]]) -> Call:
    values = {
        "expr": Name("close"),
        "vector": Name("vecfield"),
        "group": Name("sector"),
        "lookback": Number(3, True),
        "int": Number(1, True),
        "number": Number(0.5, False),
    }
    args = tuple(values[kind] for _, kind, optional in arg_kinds if not optional and kind in values)
    return Call(op_name, args)


def test_every_pack_operator_evaluates_or_is_reported_unsupported() -> None:
    pack = load_knowledge_pack(repo_root() / "data" / "meta" / "index")
    panel = synthetic_market(MarketSpec(instruments=20, days=40, seed=3), [("vecfield", "VECTOR", "x")])
    evaluator = Evaluator(panel, panel.listed)
    evaluated, unsupported = [], []
    for op in pack.operators.values():
        call = _sample_call(op.name, [(a.name, a.kind, a.optional or a.keyword_only) for a in op.args])
        if op.name == "bucket":
            call = Call("bucket", (Name("close"),), (parse('f(range="0,100,10")').result.keywords))  # type: ignore[union-attr]
        try:
            value = evaluator.eval(call)
        except UnsupportedOperatorError as exc:
            assert exc.operator == op.name
            assert op.name not in OPERATORS
            unsupported.append(op.name)
            continue
        assert op.name in OPERATORS, op.name
        assert value is not None
        evaluated.append(op.name)
    base = [o.name for o in pack.operators.values() if o.level == "BASE"]
    assert set(base) <= set(evaluated), sorted(set(base) - set(evaluated))
    assert len(evaluated) + len(unsupported) == len(pack.operators)


def test_an_operator_that_hands_back_its_input_leaves_the_input_as_it_was() -> None:
    """``purify(x)`` returns its input with ±inf made NaN: in a copy, never in the field array other
    nodes of the expression read (nor in a frozen cache entry)."""
    from brain_agent.simulation.local.panel import make_panel

    x = np.array([[1.0, np.inf, 3.0], [-np.inf, 5.0, 6.0]])
    panel = make_panel(np.arange(2).astype("datetime64[D]"), ["A", "B", "C"], {"x": x.copy()})
    out = run(panel, "is_nan(purify(x)) + is_nan(x)")  # purify(x) is evaluated first
    np.testing.assert_array_equal(out, np.isinf(x).astype(float))
    frozen = x.copy()
    frozen.flags.writeable = False
    np.testing.assert_array_equal(OPERATORS["purify"].fn(frozen), np.where(np.isinf(x), np.nan, x))
    np.testing.assert_array_equal(frozen, x)
