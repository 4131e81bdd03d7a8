"""Bind a call's arguments to an operator's parameters (Python-like rules).

Positional arguments fill parameters in order. For a variadic operator the last required positional
parameter repeats (``add(x, y, z)``), and the parameters after it can only be given by keyword. An
optional parameter may be given positionally or by keyword; a keyword names any parameter.
"""

from __future__ import annotations

from dataclasses import dataclass

from brain_agent.expression.ast import Keyword, Node
from brain_agent.expression.diagnostic import Code, Diagnostic
from brain_agent.knowledge import Operator, OperatorArg


@dataclass(frozen=True, slots=True)
class Plan:
    """How one operator takes its arguments, worked out once per operator."""

    operator: Operator
    positional: tuple[OperatorArg, ...]
    variadic_at: int  # index into ``positional`` of the repeating parameter, -1 when not variadic
    by_name: dict[str, OperatorArg]
    required: tuple[OperatorArg, ...]
    simple_from: int
    """With no keywords, any positional count from here up to ``simple_to`` binds without problems."""
    simple_to: int


def plan_for(op: Operator) -> Plan:
    required = tuple(a for a in op.args if not _is_optional(a))
    if op.variadic:
        positional = tuple(a for a in op.args if not a.keyword_only)
        repeating = [i for i, a in enumerate(positional) if not _is_optional(a)]
        variadic_at = repeating[-1] if repeating else len(positional) - 1
        positional = positional[: variadic_at + 1]
    else:
        positional = tuple(op.args)
        variadic_at = -1
    # the fewest positionals that cover every required parameter (required ones given by keyword
    # only cannot be covered positionally, which the empty range below expresses)
    names = [a.name for a in positional]
    last_required = max((names.index(a.name) for a in required if a.name in names), default=-1)
    covered = all(a.name in names for a in required)
    simple_from = last_required + 1 if covered else 1 << 30
    simple_to = 1 << 30 if variadic_at >= 0 else len(positional)
    by_name = {a.name: a for a in op.args}
    return Plan(op, positional, variadic_at, by_name, required, simple_from, simple_to)


def _is_optional(arg: OperatorArg) -> bool:
    return arg.optional or arg.default is not None


@dataclass(slots=True)
class Bound:
    pairs: list[tuple[OperatorArg, Node]]
    """Each argument with the parameter it fills, positional first, then keywords."""
    unbound: list[Node]
    """Arguments that fill nothing (too many, unknown keyword, duplicate); still worth checking."""
    problems: list[Diagnostic]


def bind(plan: Plan, args: tuple[Node, ...], keywords: tuple[Keyword, ...], start: int, end: int) -> Bound:
    """Bind ``args`` and ``keywords`` of a call spanning ``start``..``end``."""
    if not keywords and plan.simple_from <= len(args) <= plan.simple_to:  # the common case
        return Bound(in_order(plan, args), [], [])
    pairs: list[tuple[OperatorArg, Node]] = []
    unbound: list[Node] = []
    problems: list[Diagnostic] = []
    positional = plan.positional
    count = len(positional)
    filled: set[str] = set()
    for index, node in enumerate(args):
        if index < count:
            param = positional[index]
        elif plan.variadic_at >= 0:
            param = positional[plan.variadic_at]
        else:
            unbound.append(node)
            continue
        pairs.append((param, node))
        filled.add(param.name)
    if unbound:
        problems.append(
            Diagnostic(
                Code.ARITY,
                f"{plan.operator.name} takes at most {count} positional argument{_s(count)} "
                f"({plan.operator.signature}), got {len(args)}",
                unbound[0].start,
                unbound[-1].end,
            )
        )
    for keyword in keywords:
        name_end = keyword.start + len(keyword.name)
        param_or_none = plan.by_name.get(keyword.name)
        if param_or_none is None:
            known = ", ".join(a.name for a in plan.operator.args) or "none"
            problems.append(
                Diagnostic(
                    Code.UNKNOWN_KEYWORD,
                    f"{plan.operator.name} has no argument named {keyword.name!r} (arguments: {known})",
                    keyword.start,
                    name_end,
                )
            )
            unbound.append(keyword.value)
        elif keyword.name in filled:
            problems.append(
                Diagnostic(
                    Code.DUPLICATE_ARGUMENT,
                    f"{plan.operator.name}: argument {keyword.name!r} is given more than once",
                    keyword.start,
                    name_end,
                )
            )
            unbound.append(keyword.value)
        else:
            pairs.append((param_or_none, keyword.value))
            filled.add(keyword.name)
    missing = [a.name for a in plan.required if a.name not in filled]
    if missing:
        least = len(plan.required)
        problems.append(
            Diagnostic(
                Code.ARITY,
                f"{plan.operator.name} needs {'at least ' if plan.variadic_at >= 0 else ''}{least} "
                f"argument{_s(least)} ({plan.operator.signature}); missing: {', '.join(missing)}",
                start,
                end,
            )
        )
    return Bound(pairs, unbound, problems)


def in_order(plan: Plan, args: tuple[Node, ...]) -> list[tuple[OperatorArg, Node]]:
    """Pairs for positional-only calls whose count is in ``simple_from..simple_to``."""
    positional = plan.positional
    pairs = list(zip(positional, args, strict=False))
    if len(args) > len(positional):  # the variadic parameter takes the rest
        repeat = positional[plan.variadic_at]
        pairs.extend((repeat, arg) for arg in args[len(positional) :])
    return pairs


def _s(count: int) -> str:
    return "" if count == 1 else "s"
