"""Fuzz: on any text, ``parse`` raises nothing but ``ExpressionError`` and ``check`` raises nothing.

10,000 inputs drawn from three sources: random text over the language's alphabet (plus a few
strangers), soups of real tokens, and valid programs mutated by deleting, inserting, duplicating or
truncating. Whatever parses must print and re-parse to the same tree, and every diagnostic must have
a known code and offsets inside the text.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from brain_agent.errors import ExpressionError
from brain_agent.expression import Code, Diagnostic, check, parse, unparse
from brain_agent.knowledge import KnowledgePack
from expression_strategies import KNOWN_NAMES, KNOWN_OPS, programs

ALPHABET = "abcxyz_ABZ0123456789.eE+-*/^<>=!?:(),;&|\"' \t\n#%@$\\[]{}~`é中\x00"
TOKENS = [
    *KNOWN_NAMES, *KNOWN_OPS, "true", "FALSE", "range", "lookback", "0", "1", "2.5", ".5", "1e-3", "1e999",
    "20", '"0,1,0.1"', "'x'", "+", "-", "*", "/", "^", "<", "<=", "==", "!=", ">", ">=", "&&", "||", "!",
    "?", ":", "(", ")", ",", ";", "=", "/*", "*/", '"', "'", " ", "\n", "((((((((", "))))))))", "&", "|",
]

random_text = st.text(alphabet=ALPHABET, max_size=60)
token_soup = st.lists(st.sampled_from(TOKENS), max_size=30).map("".join)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = unparse(draw(programs))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        size = len(text)
        at = draw(st.integers(min_value=0, max_value=size))
        action = draw(st.sampled_from(["delete", "insert", "duplicate", "truncate", "nest"]))
        if action == "delete":
            text = text[:at] + text[at + draw(st.integers(min_value=1, max_value=4)) :]
        elif action == "insert":
            text = text[:at] + draw(st.sampled_from(TOKENS)) + text[at:]
        elif action == "duplicate":
            end = draw(st.integers(min_value=at, max_value=size))
            text = text[:end] + text[at:end] + text[end:]
        elif action == "truncate":
            text = text[:at]
        else:
            depth = draw(st.integers(min_value=90, max_value=130))
            text = "(" * depth + text[:at] + ")" * depth + text[at:]
    return text


inputs = st.one_of(random_text, token_soup, mutated())


@pytest.mark.slow
@settings(
    max_examples=10_000,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
@given(source=inputs)
def test_never_raises_anything_but_its_own_errors(source: str, pack: KnowledgePack) -> None:
    try:
        program = parse(source)
    except ExpressionError as exc:
        assert exc.errors
        _assert_well_formed(exc.errors, source)
    else:
        assert parse(unparse(program)) == program
    result = check(source, pack)
    _assert_well_formed(list(result.diagnostics), source)
    assert result.ok == (result.program is not None and not result.diagnostics)


def _assert_well_formed(diagnostics: list[Diagnostic], source: str) -> None:
    previous = (0, 0)
    for d in diagnostics:
        assert isinstance(d, Diagnostic)
        assert d.code in Code.__members__.values()
        assert 0 <= d.start <= d.end <= len(source)
        assert (d.start, d.end) >= previous  # source order
        previous = (d.start, d.end)
        assert d.message
