"""Canonical text for a tree: ``parse(unparse(p)) == p`` for every parsed program.

One spelling per tree: binary operators and ``?:`` spaced, ``, `` between arguments, keywords as
``name=value`` after the positional arguments, brackets only where precedence needs them, statements
joined by ``; ``, strings in double quotes (single quotes when the text holds a double quote). Comments
and the original spacing are not kept, so equal trees give equal text (a good cache key).
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

_TERNARY, _OR, _AND, _COMPARE, _ADD, _MUL, _UNARY, _POWER, _ATOM = range(1, 10)
_BINARY_PREC = {
    "||": _OR,
    "&&": _AND,
    "<": _COMPARE,
    "<=": _COMPARE,
    "==": _COMPARE,
    "!=": _COMPARE,
    ">": _COMPARE,
    ">=": _COMPARE,
    "+": _ADD,
    "-": _ADD,
    "*": _MUL,
    "/": _MUL,
    "^": _POWER,
}


def unparse(node: Program | Assign | Keyword | Node) -> str:
    """The canonical source text of ``node`` (a whole program, a statement or one expression)."""
    if isinstance(node, Program):
        statements = [unparse(a) for a in node.assignments]
        statements.append(_text(node.result, 0))
        return "; ".join(statements)
    if isinstance(node, Assign):
        return f"{node.name} = {_text(node.value, 0)}"
    if isinstance(node, Keyword):
        return f"{node.name}={_text(node.value, 0)}"
    return _text(node, 0)


def _prec(node: Node) -> int:
    if isinstance(node, Binary):
        return _BINARY_PREC.get(node.op, _OR)
    if isinstance(node, Ternary):
        return _TERNARY
    if isinstance(node, Unary):
        return _UNARY
    if isinstance(node, Number) and node.value < 0:
        return _UNARY
    return _ATOM


def _text(node: Node, min_prec: int) -> str:
    """``node``'s text, bracketed when its precedence is below ``min_prec``."""
    text = _bare(node)
    return f"({text})" if _prec(node) < min_prec else text


def _operand(node: Node, min_prec: int) -> str:
    """Like ``_text``, but a signed operand after an operator is always bracketed: ``a * (-b)``,
    ``-(-a)``, ``2^(-1)``. Our grammar would read them bare; bracketing is the spelling every
    Fast Expression reader accepts."""
    if _prec(node) == _UNARY:
        return f"({_bare(node)})"
    return _text(node, min_prec)


def _bare(node: Node) -> str:
    if isinstance(node, Name):
        return node.id
    if isinstance(node, Number):
        return _number(node)
    if isinstance(node, Call):
        parts = [_text(arg, 0) for arg in node.args]
        parts.extend(unparse(keyword) for keyword in node.keywords)
        return f"{node.func}({', '.join(parts)})"
    if isinstance(node, Binary):
        prec = _BINARY_PREC.get(node.op, _OR)
        if node.op == "^":  # right-associative; the right side may be a unary
            return f"{_text(node.left, _POWER + 1)}^{_operand(node.right, _UNARY)}"
        return f"{_text(node.left, prec)} {node.op} {_operand(node.right, prec + 1)}"
    if isinstance(node, Unary):
        return f"{node.op}{_operand(node.operand, _UNARY)}"
    if isinstance(node, Ternary):
        cond = _text(node.cond, _OR)
        return f"{cond} ? {_text(node.then, 0)} : {_text(node.otherwise, 0)}"
    if isinstance(node, String):
        quote = "'" if '"' in node.value else '"'
        return f"{quote}{node.value}{quote}"
    if isinstance(node, Bool):
        return "true" if node.value else "false"
    raise TypeError(f"not a Fast Expression node: {type(node).__name__}")


def _number(node: Number) -> str:
    if node.is_int and node.value.is_integer():
        return str(int(node.value))
    return repr(float(node.value))
