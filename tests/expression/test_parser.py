"""Lexing and parsing: the tree shapes, precedence, and every lexical / syntax diagnostic with offsets."""

from __future__ import annotations

import pytest

from brain_agent.errors import ExpressionError, InputError
from brain_agent.expression import MAX_DEPTH, Code, Diagnostic, parse
from brain_agent.expression.ast import (
    Assign,
    Binary,
    Bool,
    Call,
    Keyword,
    Name,
    Number,
    String,
    Ternary,
    Unary,
)


def errors_of(source: str) -> list[tuple[str, int, int]]:
    with pytest.raises(ExpressionError) as info:
        parse(source)
    assert all(isinstance(d, Diagnostic) for d in info.value.errors)
    return [(d.code.value, d.start, d.end) for d in info.value.errors]


def test_reference_if_else_example_parses_into_assignments_and_result() -> None:
    source = (
        "Event = volume > adv20; alpha_1 = 2 * (-ts_delta(close, 3)); "
        "alpha_2 = (-ts_delta(close, 3)); if_else(Event, alpha_1, alpha_2)"
    )
    program = parse(source)
    assert [a.name for a in program.assignments] == ["Event", "alpha_1", "alpha_2"]
    assert program.assignments[0].value == Binary(">", Name("volume"), Name("adv20"))
    delta = Call("ts_delta", (Name("close"), Number(3.0, True)))
    assert program.assignments[1].value == Binary("*", Number(2.0, True), Unary("-", delta))
    assert program.result == Call("if_else", (Name("Event"), Name("alpha_1"), Name("alpha_2")))
    assert (program.start, program.end) == (0, len(source))
    result = program.result
    assert source[result.start : result.end] == "if_else(Event, alpha_1, alpha_2)"


def test_keywords_strings_and_booleans() -> None:
    program = parse("ts_backfill(x, lookback = 20, k=1) + bucket(rank(cap), range='0,1,0.1', skipBoth=False)")
    assert isinstance(program.result, Binary)
    backfill, bucket = program.result.left, program.result.right
    assert backfill == Call(
        "ts_backfill", (Name("x"),), (Keyword("lookback", Number(20, True)), Keyword("k", Number(1, True)))
    )
    assert bucket == Call(
        "bucket",
        (Call("rank", (Name("cap"),)),),
        (Keyword("range", String("0,1,0.1")), Keyword("skipBoth", Bool(False))),
    )
    assert isinstance(backfill, Call)
    assert (backfill.keywords[0].start, backfill.keywords[0].end) == (15, 28)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("a + b * c", Binary("+", Name("a"), Binary("*", Name("b"), Name("c")))),
        ("a - b - c", Binary("-", Binary("-", Name("a"), Name("b")), Name("c"))),
        ("a ^ b ^ c", Binary("^", Name("a"), Binary("^", Name("b"), Name("c")))),
        ("-a ^ b", Unary("-", Binary("^", Name("a"), Name("b")))),
        ("a ^ -b", Binary("^", Name("a"), Unary("-", Name("b")))),
        ("-a * b", Binary("*", Unary("-", Name("a")), Name("b"))),
        ("a < b == c", Binary("==", Binary("<", Name("a"), Name("b")), Name("c"))),
        ("a || b && c", Binary("||", Name("a"), Binary("&&", Name("b"), Name("c")))),
        ("!a && b", Binary("&&", Unary("!", Name("a")), Name("b"))),
        (
            "a + b > c * 2",
            Binary(">", Binary("+", Name("a"), Name("b")), Binary("*", Name("c"), Number(2, True))),
        ),
        ("a ? b : c ? d : e", Ternary(Name("a"), Name("b"), Ternary(Name("c"), Name("d"), Name("e")))),
        ("a || b ? c : d", Ternary(Binary("||", Name("a"), Name("b")), Name("c"), Name("d"))),
        ("a ? b ? c : d : e", Ternary(Name("a"), Ternary(Name("b"), Name("c"), Name("d")), Name("e"))),
        ("(a + b) * c", Binary("*", Binary("+", Name("a"), Name("b")), Name("c"))),
    ],
)
def test_precedence_and_associativity(source: str, expected: object) -> None:
    assert parse(source).result == expected


@pytest.mark.parametrize(
    ("text", "value", "is_int"),
    [("3", 3.0, True), ("2.5", 2.5, False), ("1e-3", 0.001, False), (".5", 0.5, False), ("7.", 7.0, False)],
)
def test_numbers(text: str, value: float, is_int: bool) -> None:
    assert parse(text).result == Number(value, is_int)


def test_booleans_are_case_insensitive_and_comments_are_skipped() -> None:
    program = parse("/* lead */ f(TRUE, /* mid\n line */ false) /* tail */;")
    assert program.result == Call("f", (Bool(True), Bool(False)))
    assert (program.result.start, program.result.end) == (11, 41)


def test_parenthesised_node_span_includes_brackets() -> None:
    result = parse("2 * (a + b)").result
    assert isinstance(result, Binary)
    assert (result.right.start, result.right.end) == (4, 11)


def test_assignment_spans() -> None:
    program = parse("x = rank(close);x")
    assert program.assignments == (Assign("x", Call("rank", (Name("close"),))),)
    assert (program.assignments[0].start, program.assignments[0].end) == (0, 15)


def test_trailing_and_repeated_semicolons_are_fine() -> None:
    assert parse("a = 1;; a;").result == Name("a")


def test_expression_error_is_an_input_error_with_a_readable_message() -> None:
    with pytest.raises(InputError) as info:
        parse("rank(x")
    assert str(info.value).startswith("PARSE_UNEXPECTED_END at 6-6")


# -- one test per lexical / syntax code, with exact offsets ---------------------------------------


def test_lex_unexpected_char_groups_a_run_and_reports_every_run() -> None:
    assert errors_of("a & b @@ c") == [("LEX_UNEXPECTED_CHAR", 2, 3), ("LEX_UNEXPECTED_CHAR", 6, 8)]


def test_lex_unexpected_char_hint() -> None:
    with pytest.raises(ExpressionError) as info:
        parse("a | b")
    assert "'||'" in info.value.errors[0].message


def test_lex_unterminated_string() -> None:
    assert errors_of('bucket(x, range="0,1') == [("LEX_UNTERMINATED_STRING", 16, 20)]


def test_lex_unterminated_comment() -> None:
    assert errors_of("rank(x) /* note") == [("LEX_UNTERMINATED_COMMENT", 8, 15)]


def test_lex_bad_number() -> None:
    assert errors_of("x * 1e400") == [("LEX_BAD_NUMBER", 4, 9)]


def test_parse_unexpected_token() -> None:
    assert errors_of("rank(x))") == [("PARSE_UNEXPECTED_TOKEN", 7, 8)]
    assert errors_of("a b") == [("PARSE_UNEXPECTED_TOKEN", 2, 3)]
    assert errors_of("f(x,)") == [("PARSE_UNEXPECTED_TOKEN", 4, 5)]


def test_parse_unexpected_end() -> None:
    assert errors_of("rank(x") == [("PARSE_UNEXPECTED_END", 6, 6)]
    assert errors_of("a +  ") == [("PARSE_UNEXPECTED_END", 5, 5)]


def test_parse_empty() -> None:
    assert errors_of("") == [("PARSE_EMPTY", 0, 0)]
    assert errors_of(" /* nothing */ ; ") == [("PARSE_EMPTY", 0, 17)]


def test_parse_no_result() -> None:
    assert errors_of("a = rank(close)") == [("PARSE_NO_RESULT", 0, 15)]


def test_parse_positional_after_keyword() -> None:
    assert errors_of("ts_backfill(x, lookback=20, 1)") == [("PARSE_POSITIONAL_AFTER_KEYWORD", 28, 29)]


def test_unused_expression_is_brains_found_unused_expressions() -> None:
    with pytest.raises(ExpressionError) as info:
        parse("power(returns, volume / adv20); rank(close)")
    (error,) = info.value.errors
    assert (error.code, error.start, error.end) == (Code.UNUSED_EXPRESSION, 0, 30)
    assert 'Found unused expressions "power(returns, volume / adv20);"' in error.message


def test_too_deep_by_brackets_and_by_a_long_chain() -> None:
    deep = "(" * (MAX_DEPTH + 5) + "x" + ")" * (MAX_DEPTH + 5)
    assert errors_of(deep) == [("TOO_DEEP", MAX_DEPTH, MAX_DEPTH + 1)]
    chain = "x" + "+x" * (MAX_DEPTH + 1)
    assert errors_of(chain) == [("TOO_DEEP", 0, 2 * MAX_DEPTH + 1)]
    parse("(" * (MAX_DEPTH - 1) + "x" + ")" * (MAX_DEPTH - 1))  # just under the cap
    parse("x" + "+x" * (MAX_DEPTH - 1))


def test_errors_in_several_statements_are_all_reported_in_source_order() -> None:
    assert errors_of("a = rank(; b = (1 +; c = d e; a") == [
        ("PARSE_UNEXPECTED_TOKEN", 9, 10),
        ("PARSE_UNEXPECTED_TOKEN", 19, 20),
        ("PARSE_UNEXPECTED_TOKEN", 27, 28),
    ]


def test_diagnostic_to_dict_is_brain_like() -> None:
    with pytest.raises(ExpressionError) as info:
        parse("rank(x")
    assert info.value.errors[0].to_dict() == {
        "code": "PARSE_UNEXPECTED_END",
        "message": "Unexpected end of input: expected ')' or ',' in the arguments of rank(...) opened at 4",
        "location": {"start": 6, "end": 6},
    }


@pytest.mark.timeout(20)  # a guard against quadratic scanning, ~1000x above the linear time
@pytest.mark.parametrize(
    ("source", "code"),
    [
        (" " * 20_000 + "@", "LEX_UNEXPECTED_CHAR"),
        ("a" + " " * 20_000 + "/*", "LEX_UNTERMINATED_COMMENT"),
        ("/*" * 10_000, "LEX_UNTERMINATED_COMMENT"),
        ("\"'" * 10_000, "LEX_UNTERMINATED_STRING"),
        ("(" * 20_000, "TOO_DEEP"),
        ("x" + "+x" * 20_000, "TOO_DEEP"),
    ],
)
def test_long_hostile_inputs_fail_fast_with_their_own_error(source: str, code: str) -> None:
    assert errors_of(source)[0][0] == code
