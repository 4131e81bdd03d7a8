"""Hypothesis strategies for Fast Expression trees and texts (shared by the property and fuzz tests)."""

from __future__ import annotations

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
KNOWN_NAMES = ["close", "open", "volume", "adv20", "returns", "cap", "industry", "sector", "some_vector_field"]
KNOWN_OPS = ["rank", "ts_mean", "ts_delta", "group_neutralize", "bucket", "vec_avg", "add", "if_else", "densify"]

identifiers = st.one_of(
    st.sampled_from(KNOWN_NAMES),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True),
).filter(lambda s: s.lower() not in ("true", "false"))
operator_names = st.one_of(st.sampled_from(KNOWN_OPS), identifiers)

numbers = st.one_of(
    st.integers(min_value=0, max_value=10**12).map(lambda i: Number(float(i), True)),
    st.floats(min_value=0, max_value=1e300, allow_nan=False, allow_infinity=False).map(lambda f: Number(f, False)),
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


expressions: st.SearchStrategy[Node] = st.recursive(leaves, _extend, max_leaves=25)
programs = st.builds(
    Program,
    st.lists(st.builds(Assign, identifiers, expressions), max_size=3).map(tuple),
    expressions,
)
