"""Diagnostics: one problem in a Fast Expression, with a stable code and character offsets.

The codes are the one list of everything the lexer, parser and validator can report; they are
documented in ``docs/expression-errors.md``. Offsets follow BRAIN's error ``location``: ``start`` and
``end`` are character offsets into the source text, ``end`` exclusive.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from brain_agent.errors import ExpressionError


class Code(StrEnum):
    """Stable diagnostic codes. Never rename one; add new ones at the end of their group."""

    # lexer
    LEX_UNEXPECTED_CHAR = "LEX_UNEXPECTED_CHAR"
    LEX_UNTERMINATED_STRING = "LEX_UNTERMINATED_STRING"
    LEX_UNTERMINATED_COMMENT = "LEX_UNTERMINATED_COMMENT"
    LEX_BAD_NUMBER = "LEX_BAD_NUMBER"
    # parser
    PARSE_UNEXPECTED_TOKEN = "PARSE_UNEXPECTED_TOKEN"
    PARSE_UNEXPECTED_END = "PARSE_UNEXPECTED_END"
    PARSE_EMPTY = "PARSE_EMPTY"
    PARSE_NO_RESULT = "PARSE_NO_RESULT"
    PARSE_POSITIONAL_AFTER_KEYWORD = "PARSE_POSITIONAL_AFTER_KEYWORD"
    UNUSED_EXPRESSION = "UNUSED_EXPRESSION"
    TOO_DEEP = "TOO_DEEP"
    # validator
    UNKNOWN_OPERATOR = "UNKNOWN_OPERATOR"
    UNKNOWN_FIELD = "UNKNOWN_FIELD"
    ARITY = "ARITY"
    UNKNOWN_KEYWORD = "UNKNOWN_KEYWORD"
    DUPLICATE_ARGUMENT = "DUPLICATE_ARGUMENT"
    BAD_LOOKBACK = "BAD_LOOKBACK"
    BAD_CONSTANT = "BAD_CONSTANT"
    GROUP_FIELD_MISUSE = "GROUP_FIELD_MISUSE"
    EXPECTED_GROUP = "EXPECTED_GROUP"
    VECTOR_FIELD_MISUSE = "VECTOR_FIELD_MISUSE"
    EXPECTED_VECTOR = "EXPECTED_VECTOR"
    UNUSED_ASSIGNMENT = "UNUSED_ASSIGNMENT"
    SHADOWS_FIELD = "SHADOWS_FIELD"
    BAD_ARGUMENT = "BAD_ARGUMENT"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: Code
    message: str
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        """BRAIN-like shape: ``{"code", "message", "location": {"start", "end"}}``."""
        return {
            "code": self.code.value,
            "message": self.message,
            "location": {"start": self.start, "end": self.end},
        }

    def __str__(self) -> str:
        return f"{self.code.value} at {self.start}-{self.end}: {self.message}"


def expression_error(diagnostics: list[Diagnostic]) -> ExpressionError:
    """One ``ExpressionError`` carrying every diagnostic, sorted into source order."""
    ordered = sorted(diagnostics, key=lambda d: (d.start, d.end))
    message = str(ordered[0])
    if len(ordered) > 1:
        message += f" (+{len(ordered) - 1} more)"
    return ExpressionError(message, errors=ordered)
