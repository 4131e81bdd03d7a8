"""Hypothesis strategies for Fast Expression trees and texts (shared by the property and fuzz tests)."""

from __future__ import annotations

import random

from hypothesis import strategies as st

from brain_agent.expression.ast import (
    Assign,
    Binary,
    Bool,
    Call,
    Keyword,
    Name,
    Node,
    Number,
    Program,
    String,
    Ternary,
    Unary,
)

BINARY_OPS = ["+", "-", "*", "/", "^", "<", "<=", "==", "!=", ">", ">=", "&&", "||"]
KNOWN_NAMES = [
    "close",
    "open",
    "volume",
    "adv20",
    "returns",
    "cap",
    "industry",
    "sector",
    "some_vector_field",
]
KNOWN_OPS = [
    "rank",
    "ts_mean",
    "ts_delta",
    "group_neutralize",
    "bucket",
    "vec_avg",
    "add",
    "if_else",
    "densify",
]

_HEAD = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"
_TAIL = _HEAD + "0123456789"
identifiers = st.one_of(
    st.sampled_from(KNOWN_NAMES),
    st.builds(str.__add__, st.sampled_from(_HEAD), st.text(alphabet=_TAIL, max_size=8)),
).filter(lambda s: s.lower() not in ("true", "false"))
operator_names = st.one_of(st.sampled_from(KNOWN_OPS), identifiers)

numbers = st.one_of(
    st.integers(min_value=0, max_value=10**12).map(lambda i: Number(float(i), True)),
    st.floats(min_value=0, max_value=1e300, allow_nan=False, allow_infinity=False).map(
        lambda f: Number(f, False)
    ),
)
strings = st.text(alphabet=st.characters(blacklist_characters="\"'"), max_size=12).map(String)
leaves: st.SearchStrategy[Node] = st.one_of(
    numbers, strings, st.booleans().map(Bool), identifiers.map(Name), identifiers.map(Name)
)


def _extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    keywords = st.lists(st.builds(Keyword, identifiers, children), max_size=2).map(tuple)
    return st.one_of(
        st.builds(Call, operator_names, st.lists(children, max_size=3).map(tuple), keywords),
        st.builds(Unary, st.sampled_from(["-", "+", "!"]), children),
        st.builds(Binary, st.sampled_from(BINARY_OPS), children, children),
        st.builds(Ternary, children, children, children),
    )


def programs_of(size: int) -> st.SearchStrategy[Program]:
    """Programs of up to three assignments and a result, each expression of at most ``size`` leaves."""
    trees = st.recursive(leaves, _extend, max_leaves=size)
    assignments = st.lists(st.builds(Assign, identifiers, trees), max_size=3).map(tuple)
    return st.builds(Program, assignments, trees)


expressions: st.SearchStrategy[Node] = st.recursive(leaves, _extend, max_leaves=25)
programs = programs_of(25)


def random_source(rng: random.Random, depth: int = 0) -> str:
    """A grammar-shaped expression text, built fast from ``rng`` (for fuzzing, where speed matters)."""
    roll = rng.random()
    if depth > 4 or roll < 0.3:
        leaf = rng.random()
        if leaf < 0.5:
            return rng.choice(KNOWN_NAMES)
        if leaf < 0.8:
            return rng.choice(["0", "1", "5", "20", "252", "2.5", ".5", "1e-3", "-1"])
        return rng.choice(['"0,1,0.1"', "'NAN 0'", "true", "False", "x1"])
    if roll < 0.6:
        count = rng.randint(0, 3)
        args = [random_source(rng, depth + 1) for _ in range(count)]
        if rng.random() < 0.3:
            args.append(
                f"{rng.choice(['range', 'lookback', 'k', 'filter', 'rate'])}={random_source(rng, depth + 1)}"
            )
        return f"{rng.choice(KNOWN_OPS)}({', '.join(args)})"
    if roll < 0.8:
        op = rng.choice(BINARY_OPS)
        return f"{random_source(rng, depth + 1)} {op} {random_source(rng, depth + 1)}"
    if roll < 0.9:
        return f"{rng.choice('-!+')}({random_source(rng, depth + 1)})"
    parts = [random_source(rng, depth + 1) for _ in range(3)]
    return f"({parts[0]} ? {parts[1]} : {parts[2]})"


def random_program_source(rng: random.Random) -> str:
    names = [f"v{i}" for i in range(rng.randint(0, 2))]
    statements = [f"{name} = {random_source(rng, 1)}" for name in names]
    statements.append(random_source(rng) + (" + " + " + ".join(names) if names else ""))
    return "; ".join(statements)
