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
from brain_agent.expression.lexer import END, KIND, START, TEXT, Token, tokenize

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

    def _next(self) -> Token:
        token = self.tokens[self.pos]
        if self.pos < self.last:
            self.pos += 1
        return token

    def _unexpected(self, token: Token, expected: str) -> _Failure:
        if token[KIND] == "eof":
            return _Failure(
                Diagnostic(Code.PARSE_UNEXPECTED_END, f"Unexpected end of input: {expected}", *_span(token))
            )
        what = _DESCRIBE.get(token[KIND], "")
        shown = f"{what} {token[TEXT]!r}" if what else repr(token[TEXT])
        return _Failure(
            Diagnostic(Code.PARSE_UNEXPECTED_TOKEN, f"unexpected {shown}: {expected}", *_span(token))
        )

    # -- statements ----------------------------------------------------------------------------

    def program(self) -> Program:
        problems: list[Diagnostic] = []
        statements: list[Assign | Node] = []
        tokens = self.tokens
        while True:
            while tokens[self.pos][KIND] == ";":
                self._next()
            if tokens[self.pos][KIND] == "eof":
                break
            try:
                statements.append(self._statement())
                token = tokens[self.pos]
                if token[KIND] not in (";", "eof"):
                    raise self._unexpected(token, "expected an operator, ';' or the end of the expression")
            except _Failure as failure:
                problems.append(failure.diagnostic)
                self.nesting = 0
                while tokens[self.pos][KIND] not in (";", "eof"):
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
        if token[KIND] == "id" and self.tokens[self.pos + 1][KIND] == "=":  # an id is never the eof
            self.pos += 2
            value, _ = self._expr(0)
            return Assign(token[TEXT], value, token[START], value.end)
        node, _ = self._expr(0)
        return node

    # -- expressions: every method returns (node, height) --------------------------------------
    # Hot path: token checks are inlined rather than going through helpers.

    def _expr(self, rbp: int) -> tuple[Node, int]:
        self.nesting += 1
        tokens = self.tokens
        if self.nesting > MAX_DEPTH:
            raise self._too_deep(tokens[self.pos][START], tokens[self.pos][END])
        left, height = self._prefix()
        while True:
            op = tokens[self.pos][KIND]
            lbp = _BINARY_BP.get(op, 0)
            if lbp <= rbp:
                break
            self.pos += 1  # an operator, so not the eof
            if op == "?":
                then, h1 = self._expr(0)
                if tokens[self.pos][KIND] != ":":
                    raise self._unexpected(
                        tokens[self.pos], "expected ':' in 'condition ? value : otherwise'"
                    )
                self.pos += 1
                otherwise, h2 = self._expr(0)
                left = Ternary(left, then, otherwise, left.start, otherwise.end)
                height = max(height, h1, h2) + 1
            else:
                right, h = self._expr(_UNARY_BP if op == "^" else lbp)
                left = Binary(op, left, right, left.start, right.end)
                height = (height if height > h else h) + 1
            if height > MAX_DEPTH:
                raise self._too_deep(left.start, left.end)
        self.nesting -= 1
        return left, height

    def _prefix(self) -> tuple[Node, int]:
        tokens = self.tokens
        token = tokens[self.pos]
        kind = token[KIND]
        if kind not in _PREFIX:  # not consumed, so recovery resumes at this token (it may be ';')
            raise self._unexpected(token, "expected a number, a name, a call or '('")
        self.pos += 1  # never past eof: eof is not in _PREFIX
        if kind == "id":
            if tokens[self.pos][KIND] == "(":
                return self._call(token)
            return Name(token[TEXT], token[START], token[END]), 1
        if kind == "num":
            text = token[TEXT]
            is_int = "." not in text and "e" not in text and "E" not in text
            return Number(float(text), is_int, token[START], token[END]), 1
        if kind == "(":
            inner, height = self._expr(0)
            closing = tokens[self.pos]
            if closing[KIND] != ")":
                raise self._unexpected(closing, f"expected ')' to close the '(' at {token[START]}")
            self.pos += 1
            return _respan(inner, token[START], closing[END]), height
        if kind == "-" or kind == "+" or kind == "!":
            operand, height = self._expr(_UNARY_BP)
            return Unary(kind, operand, token[START], operand.end), height + 1
        if kind == "str":
            return String(token[TEXT][1:-1], token[START], token[END]), 1
        # kind == "bool"
        return Bool(token[TEXT].lower() == "true", token[START], token[END]), 1

    def _call(self, name: Token) -> tuple[Node, int]:
        tokens = self.tokens
        self.pos += 1  # "("
        args: list[Node] = []
        keywords: list[Keyword] = []
        height = 0
        if tokens[self.pos][KIND] != ")":
            while True:
                token = tokens[self.pos]
                if token[KIND] == "id" and tokens[self.pos + 1][KIND] == "=":
                    self.pos += 2
                    value, h = self._expr(0)
                    keywords.append(Keyword(token[TEXT], value, token[START], value.end))
                else:
                    value, h = self._expr(0)
                    if keywords:
                        raise _Failure(
                            Diagnostic(
                                Code.PARSE_POSITIONAL_AFTER_KEYWORD,
                                f"positional argument after a keyword argument in {name[TEXT]}(...); "
                                "put positional arguments first",
                                value.start,
                                value.end,
                            )
                        )
                    args.append(value)
                if h > height:
                    height = h
                if tokens[self.pos][KIND] != ",":
                    break
                self.pos += 1
        closing = tokens[self.pos]
        if closing[KIND] != ")":
            raise self._unexpected(
                closing, f"expected ')' or ',' in the arguments of {name[TEXT]}(...) opened at {name[END]}"
            )
        self.pos += 1
        return Call(name[TEXT], tuple(args), tuple(keywords), name[START], closing[END]), height + 1

    def _too_deep(self, start: int, end: int) -> _Failure:
        return _Failure(
            Diagnostic(
                Code.TOO_DEEP, f"the expression is nested more than {MAX_DEPTH} levels deep", start, end
            )
        )


def _span(token: Token) -> tuple[int, int]:
    return token[START], token[END]


def _respan(node: Node, start: int, end: int) -> Node:
    """Widen a parenthesised node's span to include its brackets, so an enclosing node's span and a
    diagnostic on ``(a + b)`` cover the brackets too. (Spelled out: ``dataclasses.replace`` is slow.)"""
    if isinstance(node, Call):
        return Call(node.func, node.args, node.keywords, start, end)
    if isinstance(node, Binary):
        return Binary(node.op, node.left, node.right, start, end)
    if isinstance(node, Unary):
        return Unary(node.op, node.operand, start, end)
    if isinstance(node, Name):
        return Name(node.id, start, end)
    if isinstance(node, Number):
        return Number(node.value, node.is_int, start, end)
    if isinstance(node, Ternary):
        return Ternary(node.cond, node.then, node.otherwise, start, end)
    if isinstance(node, String):
        return String(node.value, start, end)
    return Bool(node.value, start, end)
