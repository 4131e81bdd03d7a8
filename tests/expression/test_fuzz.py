"""Fuzz: on any text, ``parse`` raises nothing but ``ExpressionError`` and ``check`` raises nothing.

10,000 inputs drawn from three sources: random text over the language's alphabet (plus a few
strangers), soups of real tokens, and valid programs mutated by deleting, inserting, duplicating or
truncating. Whatever parses must print and re-parse to the same tree, and every diagnostic must have
a known code and offsets inside the text.
"""

from __future__ import annotations

import pytest
from expression_strategies import KNOWN_NAMES, KNOWN_OPS, random_program_source
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from brain_agent.errors import ExpressionError
from brain_agent.expression import Code, Diagnostic, check, parse, unparse
from brain_agent.expression.lexer import _careful_tokenize, _fast_tokenize
from brain_agent.knowledge import KnowledgePack

ALPHABET = "abcxyz_ABZ0123456789.eE+-*/^<>=!?:(),;&|\"' \t\n#%@$\\[]{}~`é中\x00"
TOKENS = [
    *KNOWN_NAMES,
    *KNOWN_OPS,
    "true",
    "FALSE",
    "range",
    "lookback",
    "0",
    "1",
    "2.5",
    ".5",
    "1e-3",
    "1e999",
    "20",
    '"0,1,0.1"',
    "'x'",
    "+",
    "-",
    "*",
    "/",
    "^",
    "<",
    "<=",
    "==",
    "!=",
    ">",
    ">=",
    "&&",
    "||",
    "!",
    "?",
    ":",
    "(",
    ")",
    ",",
    ";",
    "=",
    "/*",
    "*/",
    '"',
    "'",
    " ",
    "\n",
    "((((((((",
    "))))))))",
    "&",
    "|",
]

CORPUS = [
    "Event = volume > adv20; alpha_1 = 2 * (-ts_delta(close, 3)); alpha_2 = (-ts_delta(close, 3)); "
    "if_else(Event, alpha_1, alpha_2)",
    "ts_backfill(close, lookback = 20, k=1)",
    'group_neutralize(rank(close), bucket(rank(cap), range="0.1,1,0.1"))',
    "is_nan(ts_zscore(etz_eps, 252)) ? ts_zscore(est_eps, 252) : ts_zscore(etz_eps, 252)",
    "/* momentum */ a = rank(vec_avg(some_vector_field)); group_rank(a - ts_mean(close, 5), industry);",
    "close > open && !(volume < adv20) || returns == 0 ? 1 : -1e-3",
]
random_text = st.text(alphabet=ALPHABET, max_size=60)
token_soup = st.lists(st.sampled_from(TOKENS), max_size=30).map("".join)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A valid-looking program (from the corpus or built from a seeded generator), then 1-3 edits."""
    rng = draw(st.randoms(use_true_random=False))
    text = rng.choice(CORPUS) if rng.random() < 0.3 else random_program_source(rng)
    for _ in range(rng.randint(1, 3)):
        size = len(text)
        at = rng.randint(0, size)
        action = rng.choice(["delete", "insert", "insert", "duplicate", "truncate", "nest", "swap"])
        if action == "delete":
            text = text[:at] + text[at + rng.randint(1, 4) :]
        elif action == "insert":
            text = text[:at] + rng.choice(TOKENS) + text[at:]
        elif action == "duplicate":
            end = rng.randint(at, size)
            text = text[:end] + text[at:end] + text[end:]
        elif action == "truncate":
            text = text[:at]
        elif action == "swap" and size >= 2:
            other = rng.randrange(size)
            chars = list(text)
            chars[min(at, size - 1)], chars[other] = chars[other], chars[min(at, size - 1)]
            text = "".join(chars)
        else:
            depth = rng.randint(90, 130)
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
    # the findall fast path (used when there is no comment) agrees with the careful scanner
    fast = None if "/*" in source else _fast_tokenize(source)
    if fast is not None:
        assert fast == _careful_tokenize(source)
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
