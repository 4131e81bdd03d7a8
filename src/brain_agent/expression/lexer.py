"""Tokens of the Fast Expression language, scanned by one compiled regular expression.

Token kinds: ``num``, ``str``, ``id``, ``bool``, ``eof`` and, for punctuation, the punctuation text
itself (``(``, ``&&``, ``<=``...). Whitespace and ``/* ... */`` comments are skipped.
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple

from brain_agent.expression.diagnostic import Code, Diagnostic, expression_error


class Token(NamedTuple):
    kind: str
    text: str
    start: int
    end: int


_SCANNER = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>/\*.*?\*/)
  | (?P<open_comment>/\*)
  | (?P<num>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<id>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<str>"[^"]*"|'[^']*')
  | (?P<open_str>["'])
  | (?P<op>&&|\|\||<=|>=|==|!=|[-+*/^<>=!?:(),;])
  | (?P<bad>.)
    """,
    re.VERBOSE | re.DOTALL,
)

_HINTS = {"&": " (did you mean '&&'?)", "|": " (did you mean '||'?)", "%": " (use a function, e.g. divide)"}


def tokenize(source: str) -> list[Token]:
    """Scan ``source`` into tokens ending with one ``eof`` token.

    Raises ``ExpressionError`` carrying every lexical problem found (not only the first).
    """
    tokens: list[Token] = []
    problems: list[Diagnostic] = []
    append = tokens.append
    bad_start = -1
    bad_end = -1
    for match in _SCANNER.finditer(source):
        kind = match.lastgroup
        if kind == "ws" or kind == "comment":
            continue
        start, end = match.span()
        if kind == "bad":
            if bad_end == start:  # one diagnostic per run of unexpected characters
                bad_end = end
                continue
            if bad_start >= 0:
                problems.append(_bad_chars(source, bad_start, bad_end))
            bad_start, bad_end = start, end
            continue
        text = match.group()
        if kind == "op":
            append(Token(text, text, start, end))
        elif kind == "id":
            lowered = text.lower()
            append(Token("bool" if lowered in ("true", "false") else "id", text, start, end))
        elif kind == "num":
            if not math.isfinite(float(text)):
                problems.append(Diagnostic(Code.LEX_BAD_NUMBER, f"number {text} is out of range", start, end))
            append(Token("num", text, start, end))
        elif kind == "str":
            append(Token("str", text, start, end))
        elif kind == "open_comment":
            problems.append(
                Diagnostic(Code.LEX_UNTERMINATED_COMMENT, "comment opened with /* is never closed", start, len(source))
            )
            break
        else:  # open_str
            problems.append(
                Diagnostic(Code.LEX_UNTERMINATED_STRING, f"string opened with {text} is never closed", start, len(source))
            )
            break
    if bad_start >= 0:
        problems.append(_bad_chars(source, bad_start, bad_end))
    if problems:
        raise expression_error(problems)
    append(Token("eof", "", len(source), len(source)))
    return tokens


def _bad_chars(source: str, start: int, end: int) -> Diagnostic:
    text = source[start:end]
    hint = _HINTS.get(text, "")
    shown = repr(text) if len(text) <= 20 else repr(text[:20]) + "..."
    noun = "character" if end - start == 1 else "characters"
    return Diagnostic(Code.LEX_UNEXPECTED_CHAR, f"unexpected {noun} {shown}{hint}", start, end)
