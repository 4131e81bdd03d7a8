"""Check a parsed program against the knowledge pack.

Every name must be a data field or a variable assigned earlier (case-sensitive); every call a known
operator with its arguments in the right slots:

- ``expr`` slots take values: MATRIX fields, numbers, operator results. A GROUP field or a group
  result there is ``GROUP_FIELD_MISUSE``, a VECTOR field ``VECTOR_FIELD_MISUSE``;
- ``group`` slots take GROUP fields, group-returning operators (``bucket``...) or variables bound to
  them; ``vector`` slots take VECTOR fields;
- ``lookback`` is a positive integer literal; ``int``/``number``/``bool``/``string`` are literals of
  that type (a sign in front of a number is fine).

Infix operators are checked as the operator the pack maps them to (``+`` as ``add``). All problems are
reported, in source order. ``validate`` never raises for a bad expression.
"""

from __future__ import annotations

import difflib
import math
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from brain_agent.errors import ExpressionError
from brain_agent.expression import domain
from brain_agent.expression.ast import (
    Assign,
    Binary,
    Bool,
    Call,
    Name,
    Node,
    Number,
    Program,
    String,
    Ternary,
    Unary,
)
from brain_agent.expression.binding import Plan, bind, in_order, plan_for
from brain_agent.expression.diagnostic import Code, Diagnostic, expression_error
from brain_agent.expression.parser import MAX_DEPTH, parse
from brain_agent.expression.unparse import unparse
from brain_agent.knowledge import KnowledgePack

Where = tuple[str, str]
"""Where a node sits, for messages: (operator or symbol, parameter name or "")."""

# What an expression produces.
_VALUE, _GROUP, _VECTOR, _NUMBER, _STRING, _BOOL, _UNKNOWN = (
    "value",
    "group",
    "vector",
    "number",
    "string",
    "bool",
    "unknown",
)
_NUMERIC = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_FIELD_KIND = {"MATRIX": _VALUE, "GROUP": _GROUP, "VECTOR": _VECTOR}
_EXPR_OK = frozenset({_VALUE, _NUMBER, _BOOL, _UNKNOWN})
_NOUN = {
    _VALUE: "a value (a MATRIX field or an operator result)",
    _GROUP: "a group",
    _VECTOR: "a VECTOR field",
    _NUMBER: "a number",
    _STRING: "a string",
    _BOOL: "a boolean",
}


@dataclass(frozen=True)
class ValidationResult:
    diagnostics: tuple[Diagnostic, ...]
    program: Program | None
    fields_used: frozenset[str] = frozenset()
    operators_used: frozenset[str] = frozenset()
    subcategories_used: frozenset[str] = frozenset()

    @property
    def ok(self) -> bool:
        return not self.diagnostics

    def raise_for_diagnostics(self) -> None:
        """Raise ``ExpressionError`` with every diagnostic when the expression is invalid."""
        if self.diagnostics:
            raise expression_error(list(self.diagnostics))

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "errors": [d.to_dict() for d in self.diagnostics],
            "fields_used": sorted(self.fields_used),
            "operators_used": sorted(self.operators_used),
            "subcategories_used": sorted(self.subcategories_used),
        }


def check(source: str, pack: KnowledgePack) -> ValidationResult:
    """Parse and validate ``source``; syntax errors come back as diagnostics, never raised."""
    try:
        program = parse(source)
    except ExpressionError as exc:
        return ValidationResult(tuple(exc.errors), None)
    return validate(program, pack)


def validate(program_or_source: Program | str, pack: KnowledgePack) -> ValidationResult:
    """Validate a parsed ``Program`` (or source text, which is parsed first) against ``pack``."""
    if isinstance(program_or_source, str):
        return check(program_or_source, pack)
    program = program_or_source
    walker = _Walker(_index_for(pack))
    try:
        walker.run(program)
    except RecursionError:  # only a hand-built tree can get here: parse() caps the height
        walker.problems.append(
            Diagnostic(
                Code.TOO_DEEP,
                f"the expression is nested more than {MAX_DEPTH} levels deep",
                program.start,
                program.end,
            )
        )
    problems = sorted(walker.problems, key=lambda d: (d.start, d.end))
    fields = frozenset(walker.fields_used)
    return ValidationResult(
        tuple(problems),
        program,
        fields,
        frozenset(walker.operators_used),
        frozenset(pack.fields[f].subcategory for f in fields),
    )


@dataclass
class _PackIndex:
    """Per-pack lookups built once: argument plans and a case-insensitive field index for hints."""

    pack: KnowledgePack
    plans: dict[str, Plan] = field(default_factory=dict)
    infix_plans: dict[str, Plan] = field(default_factory=dict)
    fields_by_lower: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, pack: KnowledgePack) -> _PackIndex:
        index = cls(pack)
        index.plans = {name: plan_for(op) for name, op in pack.operators.items()}
        index.infix_plans = {symbol: index.plans[op.name] for symbol, op in pack.infix.items()}
        index.fields_by_lower = {f.lower(): f for f in pack.fields}
        return index


_INDEXES: OrderedDict[int, _PackIndex] = OrderedDict()
_INDEX_SLOTS = 8


def _index_for(pack: KnowledgePack) -> _PackIndex:
    key = id(pack)
    index = _INDEXES.get(key)
    if index is None or index.pack is not pack:
        index = _PackIndex.build(pack)
        _INDEXES[key] = index
        while len(_INDEXES) > _INDEX_SLOTS:
            _INDEXES.popitem(last=False)
    return index


@dataclass(slots=True)
class _Binding:
    assign: Assign
    kind: str
    used: bool = False


class _Walker:
    def __init__(self, index: _PackIndex) -> None:
        self.index = index
        self.pack = index.pack
        self.problems: list[Diagnostic] = []
        self.fields_used: set[str] = set()
        self.operators_used: set[str] = set()
        self.variables: dict[str, _Binding] = {}
        self.last_assigned: dict[str, int] = {}  # name -> index of its last assignment
        self.position = 0  # index of the statement being checked

    def run(self, program: Program) -> None:
        bindings: list[_Binding] = []
        self.last_assigned = {a.name: i for i, a in enumerate(program.assignments)}
        for position, assign in enumerate(program.assignments):
            self.position = position
            kind = self._visit(assign.value)
            if assign.name in self.pack.fields:
                self._report(
                    Code.SHADOWS_FIELD,
                    f"{assign.name!r} is a data field; assigning to it would hide the field, "
                    "pick another name",
                    assign.start,
                    assign.start + len(assign.name),
                )
            binding = _Binding(assign, kind)
            self.variables[assign.name] = binding
            bindings.append(binding)
        self.position = len(program.assignments)
        self._slot("expr", program.result, ("the alpha", ""))
        for binding in bindings:
            if not binding.used:
                assign = binding.assign
                self._report(
                    Code.UNUSED_ASSIGNMENT,
                    f'Found unused expressions "{unparse(assign)};": '
                    f"{assign.name!r} is assigned but never used",
                    assign.start,
                    assign.end,
                )

    def _report(self, code: Code, message: str, start: int, end: int) -> None:
        self.problems.append(Diagnostic(code, message, start, end))

    # -- what a node produces ------------------------------------------------------------------

    def _visit(self, node: Node) -> str:
        if isinstance(node, Call):
            return self._call(node)
        if isinstance(node, Name):
            return self._name(node)
        if isinstance(node, Number):
            return _NUMBER
        if isinstance(node, Binary):
            plan = self.index.infix_plans.get(node.op)
            if plan is None:
                self._slot("expr", node.left, (node.op, ""))
                self._slot("expr", node.right, (node.op, ""))
            else:
                self.operators_used.add(plan.operator.name)
                self._bound(plan, (node.left, node.right), node)
            return _VALUE
        if isinstance(node, Unary):
            if node.op != "!" and _literal(node) is not None:
                return _NUMBER
            self._slot("expr", node.operand, (node.op, ""))
            return _VALUE
        if isinstance(node, Ternary):
            self._slot("expr", node.cond, ("?:", ""))
            self._slot("expr", node.then, ("?:", ""))
            self._slot("expr", node.otherwise, ("?:", ""))
            return _VALUE
        if isinstance(node, String):
            return _STRING
        if isinstance(node, Bool):
            return _BOOL
        return _UNKNOWN

    def _name(self, node: Name) -> str:
        name = node.id
        binding = self.variables.get(name)
        if binding is not None:
            binding.used = True
            return binding.kind
        data_field = self.pack.fields.get(name)
        if data_field is not None:
            self.fields_used.add(name)
            return _FIELD_KIND.get(data_field.type, _UNKNOWN)
        self._report(Code.UNKNOWN_FIELD, self._unknown_name_message(name), node.start, node.end)
        return _UNKNOWN

    def _unknown_name_message(self, name: str) -> str:
        message = f'Attempted to use unknown variable "{name}"'
        if self.last_assigned.get(name, -1) > self.position:
            return message + "; it is assigned later, assign it before using it"
        if name in self.pack.operators:
            return message + f"; {name} is an operator, call it as {self.pack.operators[name].signature}"
        lowered = name.lower()
        for variable in self.variables:
            if variable.lower() == lowered:
                return message + f"; did you mean the variable {variable!r}? names are case-sensitive"
        near = self.index.fields_by_lower.get(lowered)
        if near is not None:
            return message + f"; did you mean the field {near!r}? names are case-sensitive"
        return message

    def _call(self, node: Call) -> str:
        plan = self.index.plans.get(node.func)
        if plan is None:
            self._report(
                Code.UNKNOWN_OPERATOR,
                _unknown_operator_message(node.func, self.pack),
                node.start,
                node.start + len(node.func),
            )
            for arg in node.args:
                self._visit(arg)
            for keyword in node.keywords:
                self._visit(keyword.value)
            return _UNKNOWN
        self.operators_used.add(node.func)
        self._bound(plan, node.args, node, node.keywords)
        return _GROUP if plan.operator.returns == "group" else _VALUE

    def _bound(self, plan: Plan, args: tuple[Node, ...], node: Node, keywords: tuple[Any, ...] = ()) -> None:
        owner = plan.operator.name
        if not keywords and plan.simple_from <= len(args) <= plan.simple_to:  # fast path, no problems
            pairs = in_order(plan, args)
        else:
            bound = bind(plan, args, keywords, node.start, node.end)
            self.problems.extend(bound.problems)
            pairs = bound.pairs
            for arg in bound.unbound:
                self._visit(arg)
        for param, arg in pairs:
            self._slot(param.kind, arg, (owner, param.name))
        if owner in domain.EXACTLY_ONE:
            problem = domain.check_exactly_one(owner, {param.name for param, _ in pairs})
            if problem is not None:
                self._report(Code.BAD_ARGUMENT, problem, node.start, node.end)

    # -- does a node fit a slot ----------------------------------------------------------------

    def _slot(self, kind: str, node: Node, where: Where) -> None:
        if kind == "expr":
            got = self._visit(node)
            if got not in _EXPR_OK:
                self._misuse(got, node, where)
        elif kind == "group":
            got = self._visit(node)
            if got != _GROUP and got != _UNKNOWN:
                self._report(
                    Code.EXPECTED_GROUP,
                    f"{_place(where)} expects a group (a GROUP field such as industry, or bucket(...)), "
                    f"got {_NOUN.get(got, got)}",
                    node.start,
                    node.end,
                )
        elif kind == "vector":
            got = self._visit(node)
            if got != _VECTOR and got != _UNKNOWN:
                self._report(
                    Code.EXPECTED_VECTOR,
                    f"{_place(where)} expects a VECTOR field, got {_NOUN.get(got, got)}",
                    node.start,
                    node.end,
                )
        else:
            self._constant(kind, node, where)

    def _misuse(self, got: str, node: Node, where: Where) -> None:
        if got == _GROUP:
            self._report(
                Code.GROUP_FIELD_MISUSE,
                f"{_place(where)} expects a value but got a group; groups only go in a group argument "
                "(e.g. group_neutralize(x, industry))",
                node.start,
                node.end,
            )
        elif got == _VECTOR:
            self._report(
                Code.VECTOR_FIELD_MISUSE,
                f"{_place(where)} expects a value but got a VECTOR field; reduce it first with a vec_* "
                "operator (e.g. vec_avg(...))",
                node.start,
                node.end,
            )
        else:
            self._report(
                Code.BAD_CONSTANT,
                f"{_place(where)} expects a value, got {_NOUN.get(got, got)}",
                node.start,
                node.end,
            )

    def _constant(self, kind: str, node: Node, where: Where) -> None:
        if isinstance(node, Name) and node.id in self.variables:
            self.variables[node.id].used = True  # reported below; not also "unused"
        literal = _literal(node)
        if kind == "lookback":
            if literal is None or not literal[1] or literal[0] <= 0:
                self._report(
                    Code.BAD_LOOKBACK,
                    f"{_place(where)} is a lookback: it must be a positive integer literal such as 20, "
                    f"got {_describe(node)}",
                    node.start,
                    node.end,
                )
            elif (problem := domain.check_lookback(literal[0])) is not None:
                self._report(Code.BAD_LOOKBACK, f"{_place(where)} {problem}", node.start, node.end)
            return
        if literal is None and isinstance(node, String):
            literal = _numeric_string(node.value)  # BRAIN's own docs write kth_element(x, d, k="1")
        if kind == "int":
            fits = literal is not None and literal[1]
        elif kind == "number":
            fits = literal is not None
        elif kind == "bool":
            fits = isinstance(node, Bool)
        elif kind == "string":
            fits = isinstance(node, String)
        else:  # a kind this validator does not know: accept anything rather than invent a rule
            self._visit(node)
            return
        if not fits:
            article = "an" if kind == "int" else "a"
            hint = f' (quote it: "{node.id}")' if kind == "string" and isinstance(node, Name) else ""
            self._report(
                Code.BAD_CONSTANT,
                f"{_place(where)} must be {article} {kind} literal, got {_describe(node)}{hint}",
                node.start,
                node.end,
            )
            return
        value: object = node.value if isinstance(node, String | Bool) else (literal[0] if literal else None)
        problem = domain.check_value(where[0], where[1], value)
        if problem is not None:
            self._report(Code.BAD_ARGUMENT, f"{_place(where)} {problem}", node.start, node.end)


def _place(where: Where) -> str:
    """``rank(x)`` for a parameter, ``+`` or ``the alpha`` otherwise; built only for a message."""
    owner, param = where
    return f"{owner}({param})" if param else owner


def _literal(node: Node) -> tuple[float, bool] | None:
    """``(value, is_int)`` of a number literal, with any leading signs applied; else None."""
    sign = 1.0
    while isinstance(node, Unary):
        if node.op == "-":
            sign = -sign
        elif node.op != "+":
            return None
        node = node.operand
    if isinstance(node, Number):
        return sign * node.value, node.is_int
    return None


def _numeric_string(text: str) -> tuple[float, bool] | None:
    """``(value, is_int)`` when ``text`` is exactly one number literal (signs allowed), else None."""
    match = _NUMERIC.fullmatch(text.strip())
    if match is None:
        return None
    value = float(match.group())
    if not math.isfinite(value):
        return None
    return value, not any(c in match.group() for c in ".eE")


def _describe(node: Node) -> str:
    literal = _literal(node)
    if literal is not None:
        return f"the number {unparse(node)}"
    if isinstance(node, String):
        return f"the string {unparse(node)}"
    if isinstance(node, Bool):
        return f"the boolean {unparse(node)}"
    if isinstance(node, Name):
        return f"the name {node.id!r}"
    return "an expression"


def _unknown_operator_message(name: str, pack: KnowledgePack) -> str:
    message = f'Attempted to use unknown operator "{name}"'
    if name in pack.fields:
        return message + f"; {name} is a data field, not an operator"
    near = difflib.get_close_matches(name, list(pack.operators), n=3, cutoff=0.75)
    if near:
        return message + f"; did you mean {', '.join(near)}?"
    return message
