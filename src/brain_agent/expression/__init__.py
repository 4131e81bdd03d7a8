"""Fast Expression: lexer, parser, canonical printer and validator against the knowledge pack.

>>> program = parse("g = bucket(rank(cap), range=\\"0,1,0.1\\"); group_neutralize(rank(close), g)")
>>> unparse(program)
'g = bucket(rank(cap), range="0,1,0.1"); group_neutralize(rank(close), g)'

``parse`` raises ``ExpressionError`` (its ``errors`` are ``Diagnostic`` objects); ``check`` and
``validate`` never raise for a bad expression and return every problem as a ``Diagnostic``.
"""

from brain_agent.expression.ast import Program
from brain_agent.expression.diagnostic import Code, Diagnostic
from brain_agent.expression.parser import MAX_DEPTH, parse
from brain_agent.expression.unparse import unparse
from brain_agent.expression.validator import ValidationResult, check, validate

__all__ = [
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
