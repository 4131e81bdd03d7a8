"""Parse Fast Expression source into a ``Program``.

A Pratt parser over the token list. Precedence, lowest to highest: ternary ``?:`` (right), ``||``,
``&&``, comparisons ``< <= == != > >=`` (left), ``+ -``, ``* /``, unary ``- + !``, ``^`` (right;
``-a^b`` is ``-(a^b)`` and ``a^-b`` is allowed), then calls and primaries.

Statements are separated by ``;``; every statement but the last must be an assignment and the last is
the alpha. On an error the parser skips to the next ``;`` and carries on, so one ``ExpressionError``
reports a problem in every broken statement. The tree height and the nesting are capped at
``MAX_DEPTH`` so no consumer of the tree can run out of Python stack.
"""

from __future__ import annotations

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
from brain_agent.expression.diagnostic import Code, Diagnostic, expression_error
from brain_agent.expression.lexer import Token, tokenize

MAX_DEPTH = 100
"""Largest tree height (and bracket / operator nesting) a parsed program may have."""

_TERNARY_BP = 1
_UNARY_BP = 7
_POWER_BP = 8
_BINARY_BP = {
    "||": 2,
    "&&": 3,
    "<": 4,
    "<=": 4,
    "==": 4,
    "!=": 4,
    ">": 4,
    ">=": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
    "^": _POWER_BP,
    "?": _TERNARY_BP,
}
_PREFIX = frozenset({"id", "num", "(", "-", "+", "!", "str", "bool"})
_DESCRIBE = {"num": "number", "str": "string", "id": "name", "bool": "boolean"}


class _Failure(Exception):
    """Internal: abandons the current statement. Never leaves this module."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def parse(source: str) -> Program:
    """Parse ``source``; raise ``ExpressionError`` listing every lexical or syntax problem."""
    return _Parser(source, tokenize(source)).program()


class _Parser:
    def __init__(self, source: str, tokens: list[Token]) -> None:
        self.source = source
        self.tokens = tokens
        self.pos = 0
        self.nesting = 0
        self.last = len(tokens) - 1  # index of the eof token

    # -- token helpers -------------------------------------------------------------------------

    def _peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.pos + ahead, self.last)]

    def _next(self) -> Token:
        token = self.tokens[self.pos]
        if self.pos < self.last:
            self.pos += 1
        return token

    def _expect(self, kind: str, context: str) -> Token:
        token = self.tokens[self.pos]
        if token.kind != kind:
            raise self._unexpected(token, f"expected '{kind}' {context}")
        return self._next()

    def _unexpected(self, token: Token, expected: str) -> _Failure:
        if token.kind == "eof":
            return _Failure(Diagnostic(Code.PARSE_UNEXPECTED_END, f"Unexpected end of input: {expected}", *_span(token)))
        what = _DESCRIBE.get(token.kind, "")
        shown = f"{what} {token.text!r}" if what else repr(token.text)
        return _Failure(Diagnostic(Code.PARSE_UNEXPECTED_TOKEN, f"unexpected {shown}: {expected}", *_span(token)))

    # -- statements ----------------------------------------------------------------------------

    def program(self) -> Program:
        problems: list[Diagnostic] = []
        statements: list[Assign | Node] = []
        tokens = self.tokens
        while True:
            while tokens[self.pos].kind == ";":
                self._next()
            if tokens[self.pos].kind == "eof":
                break
            try:
                statements.append(self._statement())
                token = tokens[self.pos]
                if token.kind not in (";", "eof"):
                    raise self._unexpected(token, "expected an operator, ';' or the end of the expression")
            except _Failure as failure:
                problems.append(failure.diagnostic)
                self.nesting = 0
                while tokens[self.pos].kind not in (";", "eof"):
                    self._next()
        if not statements and not problems:
            problems.append(Diagnostic(Code.PARSE_EMPTY, "the expression is empty", 0, len(self.source)))
        assignments: list[Assign] = []
        for statement in statements[:-1]:
            if isinstance(statement, Assign):
                assignments.append(statement)
            else:
                text = self.source[statement.start : statement.end]
                problems.append(
                    Diagnostic(
                        Code.UNUSED_EXPRESSION,
                        f'Found unused expressions "{text};": only the last statement may be a bare '
                        "expression; assign this one to a name or remove it",
                        statement.start,
                        statement.end,
                    )
                )
        if statements and isinstance(statements[-1], Assign):
            last = statements[-1]
            problems.append(
                Diagnostic(
                    Code.PARSE_NO_RESULT,
                    f"the last statement assigns {last.name!r}; the last statement must be the alpha "
                    f"expression (e.g. end with '; {last.name}')",
                    last.start,
                    last.end,
                )
            )
        if problems:
            raise expression_error(problems)
        result = statements[-1]
        assert not isinstance(result, Assign)
        return Program(tuple(assignments), result, 0, len(self.source))

    def _statement(self) -> Assign | Node:
        token = self.tokens[self.pos]
        if token.kind == "id" and self._peek(1).kind == "=":
            self._next()
            self._next()
            value, _ = self._expr(0)
            return Assign(token.text, value, token.start, value.end)
        node, _ = self._expr(0)
        return node

    # -- expressions: every method returns (node, height) --------------------------------------

    def _expr(self, rbp: int) -> tuple[Node, int]:
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise self._too_deep(self.tokens[self.pos].start, self.tokens[self.pos].end)
        left, height = self._prefix()
        tokens = self.tokens
        while True:
            op = tokens[self.pos].kind
            lbp = _BINARY_BP.get(op, 0)
            if lbp <= rbp:
                break
            self._next()
            if op == "?":
                then, h1 = self._expr(0)
                self._expect(":", "in a ternary 'condition ? value : otherwise'")
                otherwise, h2 = self._expr(0)
                left = Ternary(left, then, otherwise, left.start, otherwise.end)
                height = max(height, h1, h2) + 1
            else:
                right, h = self._expr(_UNARY_BP if op == "^" else lbp)
                left = Binary(op, left, right, left.start, right.end)
                height = max(height, h) + 1
            if height > MAX_DEPTH:
                raise self._too_deep(left.start, left.end)
        self.nesting -= 1
        return left, height

    def _prefix(self) -> tuple[Node, int]:
        token = self.tokens[self.pos]
        kind = token.kind
        if kind not in _PREFIX:  # not consumed, so recovery resumes at this token (it may be ';')
            raise self._unexpected(token, "expected a number, a name, a call or '('")
        self.pos += 1  # never past eof: eof is not in _PREFIX
        if kind == "id":
            if self.tokens[self.pos].kind == "(":
                return self._call(token)
            return Name(token.text, token.start, token.end), 1
        if kind == "num":
            text = token.text
            is_int = "." not in text and "e" not in text and "E" not in text
            return Number(float(text), is_int, token.start, token.end), 1
        if kind == "(":
            inner, height = self._expr(0)
            closing = self._expect(")", f"to close the '(' at {token.start}")
            return _respan(inner, token.start, closing.end), height
        if kind in ("-", "+", "!"):
            operand, height = self._expr(_UNARY_BP)
            return Unary(kind, operand, token.start, operand.end), height + 1
        if kind == "str":
            return String(token.text[1:-1], token.start, token.end), 1
        # kind == "bool"
        return Bool(token.text.lower() == "true", token.start, token.end), 1

    def _call(self, name: Token) -> tuple[Node, int]:
        self._next()  # "("
        args: list[Node] = []
        keywords: list[Keyword] = []
        height = 0
        tokens = self.tokens
        if tokens[self.pos].kind != ")":
            while True:
                token = tokens[self.pos]
                if token.kind == "id" and self._peek(1).kind == "=":
                    self._next()
                    self._next()
                    value, h = self._expr(0)
                    keywords.append(Keyword(token.text, value, token.start, value.end))
                else:
                    value, h = self._expr(0)
                    if keywords:
                        raise _Failure(
                            Diagnostic(
                                Code.PARSE_POSITIONAL_AFTER_KEYWORD,
                                f"positional argument after a keyword argument in {name.text}(...); "
                                "put positional arguments first",
                                value.start,
                                value.end,
                            )
                        )
                    args.append(value)
                height = max(height, h)
                if tokens[self.pos].kind != ",":
                    break
                self._next()
        closing = self._expect(")", f"or ',' in the arguments of {name.text}(...) opened at {name.end}")
        return Call(name.text, tuple(args), tuple(keywords), name.start, closing.end), height + 1

    def _too_deep(self, start: int, end: int) -> _Failure:
        return _Failure(
            Diagnostic(Code.TOO_DEEP, f"the expression is nested more than {MAX_DEPTH} levels deep", start, end)
        )


def _span(token: Token) -> tuple[int, int]:
    return token.start, token.end


def _respan(node: Node, start: int, end: int) -> Node:
    """Widen a parenthesised node's span to include its brackets (BRAIN reports it that way)."""
    # Every node type has start/end as its last two fields; rebuilding keeps the class frozen.
    fields = [getattr(node, name) for name in node.__dataclass_fields__ if name not in ("start", "end")]
    return type(node)(*fields, start, end)  # type: ignore[arg-type]
