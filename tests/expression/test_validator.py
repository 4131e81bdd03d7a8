"""Validation against a small pack: the reference examples pass, and each code is reported with offsets."""

from __future__ import annotations

from pathlib import Path

import pytest

from brain_agent.errors import ExpressionError
from brain_agent.expression import Code, ValidationResult, check, parse, validate
from brain_agent.expression.ast import Call, Name, Program
from brain_agent.knowledge import KnowledgePack

VALID = [
    "Event = volume > adv20; alpha_1 = 2 * (-ts_delta(close, 3)); alpha_2 = (-ts_delta(close, 3)); "
    "if_else(Event, alpha_1, alpha_2)",
    "ts_backfill(close, lookback = 20, k=1)",
    "ts_backfill(close, 20)",
    'group_neutralize(rank(close), bucket(rank(cap), range="0.1,1,0.1"))',
    "is_nan(ts_zscore(etz_eps, 252)) ? ts_zscore(est_eps, 252) : ts_zscore(etz_eps, 252)",
    "vec_avg(some_vector_field)",
    "rank(vec_avg(some_vector_field) / assets)",
    "add(close, open, vwap, filter=true)",
    "multiply(close, -1, volume)",
    "rank(close, rate=0) + winsorize(returns, 4) + winsorize(returns, std=-2.5)",
    'kth_element(close, 252, -1, ignore="NAN 0") + quantile(close, "cauchy", 1)',
    'kth_element(close, 252, k="1", ignore="NAN 0") + rank(close, rate=" 2.5")',
    "g = densify(industry); group_rank(ts_mean(returns, 5), g)",
    'group_rank(close, densify(bucket(rank(cap), buckets="2,5,6")))',
    "trade_when(volume >= ts_mean(volume, 5) / 5, rank(-returns), abs(returns) > 0.1)",
    "a = close; a = a + 1; a ^ 2",
    "close > open && !(volume < adv20) || returns == 0 ? 1 : -1",
    "ts_decay_linear(close, 10, false) + ts_decay_linear(close, 10, dense=TRUE)",
    "-(-close)",
]


@pytest.mark.parametrize("source", VALID)
def test_reference_style_expressions_are_valid(source: str, pack: KnowledgePack) -> None:
    result = check(source, pack)
    assert result.diagnostics == ()
    assert result.ok
    assert result.program == parse(source)


def test_usage_sets(pack: KnowledgePack) -> None:
    result = check(
        "a = rank(vec_avg(some_vector_field)); group_neutralize(a - ts_mean(close, 5), industry)", pack
    )
    assert result.ok
    assert result.fields_used == {"some_vector_field", "close", "industry"}
    assert result.operators_used == {"rank", "vec_avg", "group_neutralize", "subtract", "ts_mean"}
    assert result.subcategories_used == {"fundamental-fundamental-data", "pv-price-volume"}


def codes(source: str, pack: KnowledgePack) -> list[tuple[str, int, int]]:
    result = check(source, pack)
    assert not result.ok
    return [(d.code.value, d.start, d.end) for d in result.diagnostics]


# -- one test per validation code, with exact offsets ----------------------------------------------


def test_unknown_operator(pack: KnowledgePack) -> None:
    assert codes("rank(ts_meen(close, 5))", pack) == [("UNKNOWN_OPERATOR", 5, 12)]
    assert "did you mean ts_mean" in check("ts_meen(close, 5)", pack).diagnostics[0].message


def test_unknown_operator_still_checks_its_arguments(pack: KnowledgePack) -> None:
    assert codes("foo(bar, x=baz)", pack) == [
        ("UNKNOWN_OPERATOR", 0, 3),
        ("UNKNOWN_FIELD", 4, 7),
        ("UNKNOWN_FIELD", 11, 14),
    ]


def test_unknown_field_reads_like_brain(pack: KnowledgePack) -> None:
    result = check("rank(this_field_does_not_exist_abc123)", pack)
    (d,) = result.diagnostics
    assert (d.code, d.start, d.end) == (Code.UNKNOWN_FIELD, 5, 37)
    assert d.message == 'Attempted to use unknown variable "this_field_does_not_exist_abc123"'


def test_variables_are_case_sensitive(pack: KnowledgePack) -> None:
    result = check("Event = volume > adv20; if_else(event, 1, 0) + Event", pack)
    assert [(d.code, d.start, d.end) for d in result.diagnostics] == [(Code.UNKNOWN_FIELD, 32, 37)]
    assert "'Event'" in result.diagnostics[0].message


def test_variable_used_before_assignment(pack: KnowledgePack) -> None:
    result = check("a = b + 1; b = close; a * b", pack)
    assert [(d.code.value, d.start, d.end) for d in result.diagnostics] == [("UNKNOWN_FIELD", 4, 5)]
    assert "assigned later" in result.diagnostics[0].message


def test_arity_too_few_and_too_many(pack: KnowledgePack) -> None:
    assert codes("ts_mean(close)", pack) == [("ARITY", 0, 14)]
    assert codes("ts_mean(close, 5, 6, 7)", pack) == [("ARITY", 18, 22)]
    assert codes("add(close)", pack) == [("ARITY", 0, 10)]
    assert "at least 2" in check("add(close)", pack).diagnostics[0].message


def test_unknown_keyword(pack: KnowledgePack) -> None:
    assert codes("rank(close, rat=2)", pack) == [("UNKNOWN_KEYWORD", 12, 15)]


def test_duplicate_argument(pack: KnowledgePack) -> None:
    assert codes("ts_backfill(close, 20, lookback=30)", pack) == [("DUPLICATE_ARGUMENT", 23, 31)]
    assert codes("rank(close, rate=1, rate=2)", pack) == [("DUPLICATE_ARGUMENT", 20, 24)]


@pytest.mark.parametrize(
    ("source", "span"),
    [
        ("ts_mean(close, 0)", (15, 16)),
        ("ts_mean(close, 2.5)", (15, 18)),
        ("ts_mean(close, -5)", (15, 17)),
        ("ts_mean(close, volume)", (15, 21)),
        ("ts_mean(close, 1e1)", (15, 18)),
        ('ts_mean(close, "5")', (15, 18)),
        ("ts_backfill(close, lookback=ts_mean(close, 5))", (28, 45)),
    ],
)
def test_bad_lookback(source: str, span: tuple[int, int], pack: KnowledgePack) -> None:
    assert codes(source, pack) == [("BAD_LOOKBACK", *span)]


def test_bare_word_in_a_string_slot_gets_a_quoting_hint(pack: KnowledgePack) -> None:
    (d,) = check("quantile(close, driver = gaussian)", pack).diagnostics
    assert (d.code, d.start, d.end) == (Code.BAD_CONSTANT, 25, 33)
    assert 'quote it: "gaussian"' in d.message


def test_lookback_in_a_variable_is_reported_once(pack: KnowledgePack) -> None:
    assert codes("d = 5; ts_mean(close, d)", pack) == [("BAD_LOOKBACK", 22, 23)]


@pytest.mark.parametrize(
    ("source", "span"),
    [
        ("ts_backfill(close, 20, k=1.5)", (25, 28)),
        ("rank(close, rate=true)", (17, 21)),
        ('rank(close, rate="2x")', (17, 21)),
        ('kth_element(close, 5, "1.5")', (22, 27)),
        ('rank(close, rate="1e999")', (17, 24)),
        ("add(close, open, filter=1)", (24, 25)),
        ("group_rank(close, bucket(rank(cap), range=0.1))", (42, 45)),
        ("kth_element(close, 5, close)", (22, 27)),
        ('rank("close")', (5, 12)),
        ('x = "abc"; rank(x)', (16, 17)),
    ],
)
def test_bad_constant(source: str, span: tuple[int, int], pack: KnowledgePack) -> None:
    assert codes(source, pack) == [("BAD_CONSTANT", *span)]


@pytest.mark.parametrize(
    ("source", "span"),
    [
        ("rank(industry)", (5, 13)),
        ("close + sector", (8, 14)),
        ('rank(bucket(rank(cap), range="0,1,0.1"))', (5, 39)),
        ("g = industry; rank(g)", (19, 20)),
        ("industry", (0, 8)),
        ("-industry", (1, 9)),
        ("industry ? 1 : 0", (0, 8)),
    ],
)
def test_group_field_misuse(source: str, span: tuple[int, int], pack: KnowledgePack) -> None:
    assert codes(source, pack) == [("GROUP_FIELD_MISUSE", *span)]


@pytest.mark.parametrize(
    ("source", "span"),
    [
        ("group_rank(close, cap)", (18, 21)),
        ("group_rank(close, 3)", (18, 19)),
        ("group_rank(close, rank(cap))", (18, 27)),
        ("group_rank(close, returns > 0)", (18, 29)),
    ],
)
def test_expected_group(source: str, span: tuple[int, int], pack: KnowledgePack) -> None:
    assert codes(source, pack) == [("EXPECTED_GROUP", *span)]


def test_group_result_as_alpha_is_misuse_not_expected_group(pack: KnowledgePack) -> None:
    assert codes("densify(close)", pack) == [("GROUP_FIELD_MISUSE", 0, 14), ("EXPECTED_GROUP", 8, 13)]


@pytest.mark.parametrize(
    ("source", "span"),
    [
        ("rank(some_vector_field)", (5, 22)),
        ("some_vector_field * 2", (0, 17)),
        ("ts_mean(some_vector_field, 5)", (8, 25)),
        ("v = some_vector_field; v + 1", (23, 24)),
        ("group_rank(some_vector_field, industry)", (11, 28)),
    ],
)
def test_vector_field_misuse(source: str, span: tuple[int, int], pack: KnowledgePack) -> None:
    assert codes(source, pack) == [("VECTOR_FIELD_MISUSE", *span)]


def test_vector_variable_is_fine_inside_vec(pack: KnowledgePack) -> None:
    assert check("v = some_vector_field; vec_avg(v)", pack).ok


@pytest.mark.parametrize(
    ("source", "span"),
    [("vec_avg(close)", (8, 13)), ("vec_avg(industry)", (8, 16)), ("vec_avg(rank(close))", (8, 19))],
)
def test_expected_vector(source: str, span: tuple[int, int], pack: KnowledgePack) -> None:
    assert codes(source, pack) == [("EXPECTED_VECTOR", *span)]


def test_unused_assignment(pack: KnowledgePack) -> None:
    result = check("a = rank(close); b = ts_mean(close, 5); b", pack)
    (d,) = result.diagnostics
    assert (d.code, d.start, d.end) == (Code.UNUSED_ASSIGNMENT, 0, 15)
    assert d.message.startswith('Found unused expressions "a = rank(close);"')


def test_overwritten_assignment_is_unused(pack: KnowledgePack) -> None:
    assert codes("a = close; a = open; a", pack) == [("UNUSED_ASSIGNMENT", 0, 9)]


def test_shadows_field(pack: KnowledgePack) -> None:
    assert codes("close = open * 2; rank(close)", pack) == [("SHADOWS_FIELD", 0, 5)]


def test_all_problems_reported_in_source_order(pack: KnowledgePack) -> None:
    source = "x = 1; rank(industry) + ts_mean(close, 0) + vec_avg(close) + nope(1) + some_vector_field"
    assert codes(source, pack) == [
        ("UNUSED_ASSIGNMENT", 0, 5),
        ("GROUP_FIELD_MISUSE", 12, 20),
        ("BAD_LOOKBACK", 39, 40),
        ("EXPECTED_VECTOR", 52, 57),
        ("UNKNOWN_OPERATOR", 61, 65),
        ("VECTOR_FIELD_MISUSE", 71, 88),
    ]


def test_syntax_errors_come_back_as_diagnostics(pack: KnowledgePack) -> None:
    result = check("rank(close", pack)
    assert result.program is None
    assert [(d.code, d.start, d.end) for d in result.diagnostics] == [(Code.PARSE_UNEXPECTED_END, 10, 10)]
    assert result.fields_used == frozenset()
    with pytest.raises(ExpressionError):
        result.raise_for_diagnostics()


def test_validate_accepts_source_or_program(pack: KnowledgePack) -> None:
    assert validate("rank(close)", pack) == validate(parse("rank(close)"), pack)
    assert validate("rank(", pack).program is None


def test_validate_survives_a_hand_built_tree_deeper_than_the_stack(pack: KnowledgePack) -> None:
    node: Call | Name = Name("close")
    for _ in range(5000):
        node = Call("rank", (node,))
    result = validate(Program((), node), pack)
    assert [d.code for d in result.diagnostics] == [Code.TOO_DEEP]


def test_to_dict(pack: KnowledgePack) -> None:
    result: ValidationResult = check("rank(nope)", pack)
    assert result.to_dict() == {
        "ok": False,
        "errors": [
            {
                "code": "UNKNOWN_FIELD",
                "message": 'Attempted to use unknown variable "nope"',
                "location": {"start": 5, "end": 9},
            }
        ],
        "fields_used": [],
        "operators_used": ["rank"],
        "subcategories_used": [],
    }


def test_every_code_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "expression-errors.md").read_text()
    missing = [code.value for code in Code if f"`{code.value}`" not in doc]
    assert missing == []


def test_public_api_is_exactly_this() -> None:
    import brain_agent.expression as expression

    assert sorted(expression.__all__) == sorted(
        [
            "MAX_DEPTH",
            "Code",
            "Diagnostic",
            "Program",
            "ValidationResult",
            "check",
            "parse",
            "unparse",
            "validate",
        ]
    )
