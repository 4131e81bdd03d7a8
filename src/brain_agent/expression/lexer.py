"""Tokens of the Fast Expression language, scanned by one compiled regular expression.

Token kinds: ``num``, ``str``, ``id``, ``bool``, ``eof`` and, for punctuation, the punctuation text
itself (``(``, ``&&``, ``<=``...). Whitespace and ``/* ... */`` comments are skipped.
"""

from __future__ import annotations

import math
import re
from typing import Final

from brain_agent.expression.diagnostic import Code, Diagnostic, expression_error

Token = tuple[str, str, int, int]
"""``(kind, text, start, end)``; a plain tuple because building one is the lexer's hot path."""
KIND: Final = 0
TEXT: Final = 1
START: Final = 2
END: Final = 3


_SCANNER = re.compile(
    r"""
    (?>(?:\s+|/\*.*?\*/)*)                  # skipped: whitespace and closed comments (atomic)
    (?:
        (?P<id>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<open_comment>/\*)
      | (?P<op>&&|\|\||<=|>=|==|!=|[-+*/^<>=!?:(),;])
      | (?P<num>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
      | (?P<str>"[^"]*"|'[^']*')
      | (?P<eof>\Z)
      | (?P<open_str>["'])
      | (?P<bad>.)
    )
    """,
    re.VERBOSE | re.DOTALL,
)

_HINTS = {"&": " (did you mean '&&'?)", "|": " (did you mean '||'?)", "%": " (use a function, e.g. divide)"}
_BOOLS = frozenset({"true", "false"})


# The fast path: no comments in the text. Every position matches (a token, the end, or any one
# character), so matches tile the text and findall never searches ahead; nothing backtracks.
_FAST = re.compile(
    r"""(\s*)(
        [A-Za-z_][A-Za-z0-9_]*
      | [0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?
      | "[^"]*"|'[^']*'
      | &&|\|\||<=|>=|==|!=|[-+*/^<>=!?:(),;]
      | \Z
      | .
    )""",
    re.VERBOSE | re.DOTALL,
)
_KIND_BY_FIRST = {
    **{c: "id" for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"},
    **{c: "num" for c in "0123456789"},
    '"': "str",
    "'": "str",
}
_PUNCTUATION = {p: p for p in ("&&", "||", "<=", ">=", "==", "!=", *"-+*/^<>=!?:(),;")}


def tokenize(source: str) -> list[Token]:
    """Scan ``source`` into tokens ending with one ``eof`` token.

    Raises ``ExpressionError`` carrying every lexical problem found (not only the first).
    """
    tokens = None if "/*" in source else _fast_tokenize(source)
    return tokens if tokens is not None else _careful_tokenize(source)


def _fast_tokenize(source: str) -> list[Token] | None:
    """The common case, with one C-level ``findall``; None when the text needs ``_careful_tokenize``
    (a character no token starts with, an unterminated string, a huge number, a ``.5`` number)."""
    tokens: list[Token] = []
    append = tokens.append
    kinds = _KIND_BY_FIRST
    position = 0
    for skipped, text in _FAST.findall(source):
        if not text:  # the end
            break
        start = position + len(skipped)
        position = start + len(text)
        kind = kinds.get(text[0])
        if kind is None:
            kind = _PUNCTUATION.get(text)
            if kind is None:
                return None
        elif kind == "id":
            if text.lower() in _BOOLS:
                kind = "bool"
        elif kind == "num":
            if (len(text) > 300 or "e" in text or "E" in text) and not math.isfinite(float(text)):
                return None
        elif len(text) < 2:  # a lone quote: an unterminated string
            return None
        append((kind, text, start, position))
    append(("eof", "", len(source), len(source)))
    return tokens


def _careful_tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    problems: list[Diagnostic] = []
    append = tokens.append
    bad_start = -1
    bad_end = -1
    for match in _SCANNER.finditer(source):
        kind = match.lastgroup
        if kind == "id":
            text = match.group(kind)
            start, end = match.span(kind)
            if 4 <= len(text) <= 5 and text.lower() in ("true", "false"):
                append(("bool", text, start, end))
            else:
                append(("id", text, start, end))
            continue
        if kind == "op":
            text = match.group(kind)
            start, end = match.span(kind)
            append((text, text, start, end))
            continue
        assert kind is not None  # every alternative of the token group is named
        start, end = match.span(kind)
        if kind == "num":
            text = match.group(kind)
            if not math.isfinite(float(text)):
                problems.append(Diagnostic(Code.LEX_BAD_NUMBER, f"number {text} is out of range", start, end))
            append(("num", text, start, end))
        elif kind == "str":
            append(("str", match.group(kind), start, end))
        elif kind == "bad":
            if bad_end == start:  # one diagnostic per run of unexpected characters
                bad_end = end
                continue
            if bad_start >= 0:
                problems.append(_bad_chars(source, bad_start, bad_end))
            bad_start, bad_end = start, end
        elif kind == "eof":
            break
        elif kind == "open_comment":
            problems.append(
                Diagnostic(
                    Code.LEX_UNTERMINATED_COMMENT,
                    "comment opened with /* is never closed",
                    start,
                    len(source),
                )
            )
            break
        else:  # open_str
            problems.append(
                Diagnostic(
                    Code.LEX_UNTERMINATED_STRING,
                    f"string opened with {match.group(kind)} is never closed",
                    start,
                    len(source),
                )
            )
            break
    if bad_start >= 0:
        problems.append(_bad_chars(source, bad_start, bad_end))
    if problems:
        raise expression_error(problems)
    append(("eof", "", len(source), len(source)))
    return tokens


def _bad_chars(source: str, start: int, end: int) -> Diagnostic:
    text = source[start:end]
    hint = _HINTS.get(text, "")
    shown = repr(text) if len(text) <= 20 else repr(text[:20]) + "..."
    noun = "character" if end - start == 1 else "characters"
    return Diagnostic(Code.LEX_UNEXPECTED_CHAR, f"unexpected {noun} {shown}{hint}", start, end)
