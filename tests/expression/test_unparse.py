"""``unparse`` is canonical: parse(unparse(tree)) == tree, and printing is stable."""

from __future__ import annotations

import pytest
from expression_strategies import expressions, programs
from hypothesis import given, settings

from brain_agent.expression import parse, unparse
from brain_agent.expression.ast import Binary, Name, Node, Number, Program, String, Unary


@settings(max_examples=300, deadline=None, database=None)
@given(programs)
def test_parse_of_unparse_gives_the_same_tree(program: Program) -> None:
    text = unparse(program)
    assert parse(text) == program
    assert unparse(parse(text)) == text


@settings(max_examples=200, deadline=None, database=None)
@given(expressions)
def test_expression_round_trip(node: Node) -> None:
    assert parse(unparse(node)).result == node


@pytest.mark.parametrize(
    ("source", "canonical"),
    [
        ("a+b*c", "a + b * c"),
        ("(a+b)*c", "(a + b) * c"),
        ("a - (b - c)", "a - (b - c)"),
        ("-(a^b)", "-a^b"),
        ("(-a)^b", "(-a)^b"),
        ("a^(b^c)", "a^b^c"),
        ("(a^b)^c", "(a^b)^c"),
        ("(a ? b : c) ? d : e", "(a ? b : c) ? d : e"),
        ("a ? (b ? c : d) : (e ? f : g)", "a ? b ? c : d : e ? f : g"),
        ("x < (y < z)", "x < (y < z)"),
    ],
)
def test_only_needed_brackets_are_kept(source: str, canonical: str) -> None:
    assert unparse(parse(source)) == canonical


def test_canonical_spelling_of_the_reference_example() -> None:
    source = (
        "Event = volume > adv20; alpha_1 = 2 * (-ts_delta(close, 3));\n"
        "alpha_2 = (-ts_delta(close, 3)); /* pick */ if_else(Event, alpha_1, alpha_2);"
    )
    assert unparse(parse(source)) == (
        "Event = volume > adv20; alpha_1 = 2 * (-ts_delta(close, 3)); alpha_2 = -ts_delta(close, 3); "
        "if_else(Event, alpha_1, alpha_2)"
    )


def test_keywords_numbers_and_strings() -> None:
    source = "ts_backfill(x, lookback = 20, k=1) + kth_element(x, 5, 1, ignore='say \"hi\"') * 1e-3 * 2.0"
    assert unparse(parse(source)) == (
        "ts_backfill(x, lookback=20, k=1) + kth_element(x, 5, 1, ignore='say \"hi\"') * 0.001 * 2.0"
    )


def test_hand_built_nodes() -> None:
    assert unparse(Binary("-", Name("a"), Number(-1.0, True))) == "a - (-1)"
    assert unparse(Unary("-", Unary("-", Name("a")))) == "-(-a)"
    assert unparse(String("x")) == '"x"'
