"""Evaluate a parsed Fast Expression over a panel, vectorised, sharing repeated sub-expressions.

Assignments are inlined first (``a = ts_mean(close, 5); rank(a)`` becomes ``rank(ts_mean(close, 5))``),
so every sub-tree means the same thing wherever it appears. AST nodes compare and hash equal when
their structure is equal (offsets excluded), so a batch counts its sub-trees and computes each one
that occurs more than once only once. Given a :class:`SubexpressionCache`, every sub-tree's value
goes there instead (LRU by bytes), so repeats are shared across batches and runs in the process.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np

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
from brain_agent.simulation.errors import EvaluationError, UnsupportedOperatorError
from brain_agent.simulation.local import kernels as k
from brain_agent.simulation.local.cache import SubexpressionCache
from brain_agent.simulation.local.operators import INFIX, OPERATORS, REQUIRED, UNSUPPORTED, OpSpec, Param
from brain_agent.simulation.local.panel import BoolArray, FloatArray, GroupValue, Panel, VectorValue

Value = Any  # FloatArray | float | GroupValue | VectorValue | str | bool
_CACHEABLE = (Call, Unary, Binary, Ternary, Name)


def inline(program: Program) -> Node:
    """The program's result with every assigned name replaced by its (inlined) definition."""
    env: dict[str, Node] = {}
    for assign in program.assignments:
        env[assign.name] = _subst(assign.value, env)
    return _subst(program.result, env)


def _subst(node: Node, env: dict[str, Node]) -> Node:
    if not env:
        return node
    if isinstance(node, Name):
        return env.get(node.id, node)
    if isinstance(node, Call):
        args = tuple(_subst(a, env) for a in node.args)
        kws = tuple(dataclasses.replace(kw, value=_subst(kw.value, env)) for kw in node.keywords)
        return dataclasses.replace(node, args=args, keywords=kws)
    if isinstance(node, Unary):
        return dataclasses.replace(node, operand=_subst(node.operand, env))
    if isinstance(node, Binary):
        return dataclasses.replace(node, left=_subst(node.left, env), right=_subst(node.right, env))
    if isinstance(node, Ternary):
        return dataclasses.replace(
            node,
            cond=_subst(node.cond, env),
            then=_subst(node.then, env),
            otherwise=_subst(node.otherwise, env),
        )
    return node


def walk(node: Node | Keyword | Assign) -> Iterable[Node]:
    """Every node of a tree, parents first."""
    if isinstance(node, Keyword | Assign):
        yield from walk(node.value)
        return
    yield node
    if isinstance(node, Call):
        for a in node.args:
            yield from walk(a)
        for kw in node.keywords:
            yield from walk(kw.value)
    elif isinstance(node, Unary):
        yield from walk(node.operand)
    elif isinstance(node, Binary):
        yield from walk(node.left)
        yield from walk(node.right)
    elif isinstance(node, Ternary):
        yield from walk(node.cond)
        yield from walk(node.then)
        yield from walk(node.otherwise)


def operator_count(node: Node) -> int:
    """Operators in a tree (calls, infix and prefix operators, the ternary), as BRAIN counts them."""
    return sum(
        1 for n in walk(node) if isinstance(n, Call | Unary | Binary | Ternary) and not _is_negative_number(n)
    )


def _is_negative_number(node: Node) -> bool:
    return isinstance(node, Unary) and node.op in "-+" and isinstance(node.operand, Number)


class Evaluator:
    """Evaluates trees over ``panel`` restricted to ``universe`` (cells outside are NaN when
    ``pasteurize``). One evaluator per (panel, universe, options); its cache lives for one batch."""

    def __init__(
        self,
        panel: Panel,
        universe: BoolArray,
        *,
        pasteurize: bool = True,
        nan_handling: bool = False,
        cache: SubexpressionCache | None = None,
        universe_name: str | None = None,
    ) -> None:
        self.panel = panel
        self.universe = universe
        self.pasteurize = pasteurize
        self.nan_handling = nan_handling
        self.shape = panel.shape
        self.cache = cache if cache is not None and cache.max_bytes > 0 and universe_name else None
        # what a value depends on besides its expression: the panel's fields (a token that changes
        # whenever they do), the universe and the settings that change what fields look like
        self._context = (panel.derived("cache_token", object), universe_name, pasteurize, nan_handling)
        self._fields: dict[str, Value] = {}
        self._cache: dict[Node, Value] = {}
        self._shared: set[Node] = set()
        self.hits = 0
        self.computed = 0

    # -- batches -----------------------------------------------------------------------------------
    def prepare_batch(self, trees: list[Node], shared: frozenset[int] = frozenset()) -> None:
        """Count the batch's sub-trees; those occurring more than once are computed once. ``shared``:
        hashes of sub-trees other jobs of the same batch also have (jobs sent to worker processes one
        at a time), treated as shared too."""
        counts: Counter[Node] = Counter()
        for tree in trees:
            counts.update(n for n in walk(tree) if isinstance(n, _CACHEABLE))
        self._shared = {n for n, c in counts.items() if c > 1 or hash(n) in shared}

    def end_batch(self) -> None:
        self._cache.clear()
        self._shared = set()

    def evaluate_batch(self, trees: list[Node]) -> list[FloatArray | EvaluationError]:
        """Evaluate each tree to an alpha matrix (or the error it raised), sharing repeated sub-trees."""
        self.prepare_batch(trees)
        out: list[FloatArray | EvaluationError] = []
        try:
            for tree in trees:
                try:
                    out.append(self.alpha(tree))
                except EvaluationError as exc:
                    out.append(exc)
        finally:
            self.end_batch()
        return out

    def alpha(self, tree: Node) -> FloatArray:
        value = self.eval(tree)
        if isinstance(value, GroupValue):
            raise EvaluationError(
                "the alpha is a group (e.g. bucket(...)), not a value per instrument; "
                "use it as a group argument",
                error_code="TYPE_MISMATCH",
                start=tree.start,
                end=tree.end,
            )
        if isinstance(value, VectorValue):
            raise _vector_misuse(tree)
        if isinstance(value, str | bool):
            raise EvaluationError(
                "the alpha must be numeric", error_code="TYPE_MISMATCH", start=tree.start, end=tree.end
            )
        return self._full(value)

    # -- nodes -------------------------------------------------------------------------------------
    def eval(self, node: Node) -> Value:
        if self.cache is not None and isinstance(node, _CACHEABLE):
            key = (self._context, node)
            found = self.cache.get(key)
            if found is not None:
                self.hits += 1
                return found
            value = self._eval(node)
            self.computed += 1
            self.cache.put(key, value, shared=node in self._shared)
            return value
        shared = node in self._shared
        if shared and node in self._cache:
            self.hits += 1
            return self._cache[node]
        value = self._eval(node)
        self.computed += 1
        if shared:
            self._cache[node] = value
        return value

    def _eval(self, node: Node) -> Value:
        if isinstance(node, Number):
            return float(node.value)
        if isinstance(node, Bool):
            return bool(node.value)
        if isinstance(node, String):
            return node.value
        if isinstance(node, Name):
            return self._field(node)
        if isinstance(node, Unary):
            if node.op == "+":
                return self._matrix_arg(node.operand, elementwise=True)
            name = "reverse" if node.op == "-" else "not"
            return self._apply(OPERATORS[name], [self._matrix_arg(node.operand, elementwise=True)], node)
        if isinstance(node, Binary):
            spec = OPERATORS[INFIX[node.op]]
            args = [
                self._matrix_arg(node.left, elementwise=True),
                self._matrix_arg(node.right, elementwise=True),
            ]
            args += [p.default for p in spec.params[2:]]
            return self._apply(spec, args, node)
        if isinstance(node, Ternary):
            args = [self._matrix_arg(n, elementwise=True) for n in (node.cond, node.then, node.otherwise)]
            return self._apply(OPERATORS["if_else"], args, node)
        if isinstance(node, Call):
            return self._call(node)
        raise EvaluationError(f"cannot evaluate {type(node).__name__}", start=node.start, end=node.end)

    def _field(self, node: Name) -> Value:
        cached = self._fields.get(node.id)
        if cached is not None:
            return cached
        try:
            raw = self.panel.get(node.id)
        except KeyError:
            raise EvaluationError(
                f'Attempted to use unknown variable "{node.id}"',
                error_code="UNKNOWN_FIELD",
                start=node.start,
                end=node.end,
                field=node.id,
            ) from None
        mask = self.universe if self.pasteurize else self.panel.listed
        value: Value
        if isinstance(raw, GroupValue):
            value = GroupValue(codes=np.where(mask, raw.codes, -1), n_groups=raw.n_groups)
        elif isinstance(raw, VectorValue):
            value = VectorValue(data=np.where(mask[:, :, None], raw.data, np.nan))
        else:
            value = k.pasteurize(raw, mask)  # double, whatever precision the panel keeps
        if self.cache is None:  # with a cache, the cache holds fields (within its budget)
            self._fields[node.id] = value
        return value

    def _call(self, node: Call) -> Value:
        spec = OPERATORS.get(node.func)
        if spec is None:
            raise UnsupportedOperatorError(
                node.func, UNSUPPORTED.get(node.func, ""), start=node.start, end=node.end
            )
        bound = self._bind(spec, node)
        return self._apply(spec, bound, node)

    def _bind(self, spec: OpSpec, node: Call) -> list[Value]:
        params = spec.params
        given: dict[str, Node] = {}
        if spec.variadic:
            n_x = sum(1 for p in params if p.kind == "x")
            if len(node.args) < n_x:
                raise _arity(spec, node, f"needs at least {n_x} inputs, got {len(node.args)}")
            xs = [self._matrix_arg(a, elementwise=True) for a in node.args]
            rest = [p for p in params if p.kind != "x"]
        else:
            if len(node.args) > len(params):
                raise _arity(spec, node, f"takes at most {len(params)} arguments, got {len(node.args)}")
            for param, positional in zip(params, node.args, strict=False):
                given[param.name] = positional
            xs, rest = [], list(params)
        for kw in node.keywords:
            param = _match_keyword(spec, kw)
            if param.name in given:
                raise EvaluationError(
                    f"{spec.name}: argument {param.name!r} given twice",
                    error_code="BAD_ARGUMENT",
                    start=kw.start,
                    end=kw.end,
                )
            given[param.name] = kw.value
        values: list[Value] = list(xs)
        elementwise = spec.category == "elementwise"
        for param in rest:
            arg = given.get(param.name)
            if arg is None:
                if param.default is REQUIRED:
                    raise _arity(spec, node, f"missing argument {param.name!r}")
                values.append(param.default)
            else:
                values.append(self._coerce(spec, param, arg, elementwise))
        return values

    def _coerce(self, spec: OpSpec, param: Param, arg: Node, elementwise: bool) -> Value:
        kind = param.kind
        if kind == "x":
            return self._matrix_arg(arg, elementwise=elementwise)
        if kind == "g":
            value = self.eval(arg)
            if isinstance(value, GroupValue):
                return value
            if isinstance(value, np.ndarray):
                return k.matrix_to_group(value)
            raise EvaluationError(
                f"{spec.name}: argument {param.name!r} must be a group "
                "(a GROUP field, bucket(...), densify(...))",
                error_code="TYPE_MISMATCH",
                start=arg.start,
                end=arg.end,
            )
        if kind == "v":
            value = self.eval(arg)
            if not isinstance(value, VectorValue):
                raise EvaluationError(
                    f"{spec.name}: argument {param.name!r} must be a VECTOR field",
                    error_code="TYPE_MISMATCH",
                    start=arg.start,
                    end=arg.end,
                )
            return value.data
        if kind == "s":
            if isinstance(arg, String):
                return arg.value
            if isinstance(arg, Name):  # bare words such as driver=gaussian
                return arg.id
            raise _bad_constant(spec, param, arg, "a string")
        if kind == "b":
            if isinstance(arg, Bool):
                return arg.value
            if isinstance(arg, Number) and arg.value in (0, 1):
                return bool(arg.value)
            if isinstance(arg, Name) and arg.id.lower() in ("true", "false"):
                return arg.id.lower() == "true"
            raise _bad_constant(spec, param, arg, "true or false")
        value = self.eval(arg)
        if not isinstance(value, float):
            raise _bad_constant(spec, param, arg, "a constant number")
        if kind == "n":
            return value
        if not float(value).is_integer():
            raise _bad_constant(spec, param, arg, "an integer")
        number = int(value)
        if kind == "d" and number < 1:
            raise _bad_constant(spec, param, arg, "a lookback of at least 1 day")
        if kind == "d0" and number < 0:
            raise _bad_constant(spec, param, arg, "an integer ≥ 0")
        return number

    def _matrix_arg(self, node: Node, *, elementwise: bool) -> Value:
        value = self.eval(node)
        if isinstance(value, GroupValue):
            raise EvaluationError(
                "a group (GROUP field or bucket/densify result) can only be "
                "the group argument of group_* operators",
                error_code="TYPE_MISMATCH",
                start=node.start,
                end=node.end,
            )
        if isinstance(value, VectorValue):
            raise _vector_misuse(node)
        if isinstance(value, bool):
            return 1.0 if value else 0.0
        if isinstance(value, str):
            raise EvaluationError(
                "a string cannot be used as a value",
                error_code="TYPE_MISMATCH",
                start=node.start,
                end=node.end,
            )
        if elementwise:
            return value
        return self._full(value)

    def _full(self, value: Value) -> FloatArray:
        if isinstance(value, np.ndarray):
            return np.broadcast_to(value, self.shape) if value.shape != self.shape else value
        return np.full(self.shape, float(value))

    def _apply(self, spec: OpSpec, args: list[Value], node: Node) -> Value:
        try:
            if spec.name == "ts_step":
                return k.ts_step(self.shape)
            out = spec.fn(*args)
            if spec.name == "pasteurize":
                out = np.where(self.universe, self._full(out), np.nan)
        except k.ArgumentError as exc:
            raise EvaluationError(
                f"{spec.name}: {exc}", error_code="BAD_ARGUMENT", start=node.start, end=node.end
            ) from None
        if self.nan_handling and isinstance(out, np.ndarray) and out.shape == self.shape:
            if spec.category == "ts":
                out = np.where(np.isnan(out) & self.universe, 0.0, out)
            elif spec.category == "group" and spec.name not in ("group_extra",):
                group = next(a for a in args if isinstance(a, GroupValue))
                out = k.group_extra(out, 1.0 + 0.0 * out, group)
        return out


def _match_keyword(spec: OpSpec, kw: Keyword) -> Param:
    wanted = kw.name.lower()
    for param in spec.params:
        if wanted == param.name.lower() or wanted in (a.lower() for a in param.aliases):
            return param
    names = ", ".join(p.name for p in spec.params)
    raise EvaluationError(
        f"{spec.name}: unknown keyword argument {kw.name!r} (it takes {names})",
        error_code="BAD_ARGUMENT",
        start=kw.start,
        end=kw.end,
    )


def _arity(spec: OpSpec, node: Node, message: str) -> EvaluationError:
    return EvaluationError(f"{spec.name}: {message}", error_code="ARITY", start=node.start, end=node.end)


def _bad_constant(spec: OpSpec, param: Param, arg: Node, expected: str) -> EvaluationError:
    return EvaluationError(
        f"{spec.name}: argument {param.name!r} must be {expected}",
        error_code="BAD_ARGUMENT",
        start=arg.start,
        end=arg.end,
    )


def _vector_misuse(node: Node) -> EvaluationError:
    return EvaluationError(
        "a VECTOR field must be reduced with a vec_* operator (vec_avg, vec_sum, ...) before other use",
        error_code="TYPE_MISMATCH",
        start=node.start,
        end=node.end,
    )
