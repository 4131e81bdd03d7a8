"""Batch KPIs (spec §3.3): coverage, novelty, and a structural novelty measure.

- **coverage**: unique subcategories among the batch's valid candidates, and their share of the
  subcategories the knowledge pack offers.
- **novelty**: share of valid candidates whose operator/field combination (the set of operators
  and the set of fields they use) never appeared in any earlier candidate in the store, nor earlier
  in the same batch.
- **structural novelty**: share of valid candidates whose largest subtree shared with history
  (earlier candidates, compared by canonical text ``unparse(node)``, i.e. Merkle-style hashing)
  has at most ``SUBTREE_THRESHOLD`` nodes (QuantaAlpha's default 5; AlphaAgent uses 8). The mean
  largest shared subtree is reported too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from brain_agent.errors import ExpressionError
from brain_agent.expression import parse, unparse
from brain_agent.expression.ast import Binary, Call, Keyword, Node, Program, Ternary, Unary

SUBTREE_THRESHOLD = 5


def combination(candidate: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return tuple(sorted(candidate.get("operators") or [])), tuple(sorted(candidate.get("fields") or []))


def subtrees(expression: str) -> dict[str, int]:
    """Canonical text → node count for every compound subtree (calls and operators) of the alpha."""
    try:
        program = parse(expression)
    except ExpressionError:
        return {}
    out: dict[str, int] = {}

    def walk(node: Node | Keyword) -> int:
        if isinstance(node, Keyword):
            return walk(node.value)
        if isinstance(node, Call):
            size = 1 + sum(walk(a) for a in node.args) + sum(walk(k) for k in node.keywords)
        elif isinstance(node, Unary):
            size = 1 + walk(node.operand)
        elif isinstance(node, Binary):
            size = 1 + walk(node.left) + walk(node.right)
        elif isinstance(node, Ternary):
            size = 1 + walk(node.cond) + walk(node.then) + walk(node.otherwise)
        else:
            return 1
        out[unparse(node)] = size
        return size

    _walk_program(program, walk)
    return out


def _walk_program(program: Program, walk: Any) -> None:
    for assign in program.assignments:
        walk(assign.value)
    walk(program.result)


def _usable(candidates: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in candidates if c.get("valid") and c.get("expression")]


def batch_kpis(
    batch: Sequence[dict[str, Any]],
    history: Sequence[dict[str, Any]],
    available_subcategories: int,
    threshold: int = SUBTREE_THRESHOLD,
) -> dict[str, Any]:
    """KPIs of ``batch`` against ``history`` (earlier candidates), both lists of candidate records."""
    current = _usable(batch)
    seen_combos = {combination(c) for c in _usable(history)}
    seen_trees: dict[str, int] = {}
    for c in _usable(history):
        seen_trees.update(subtrees(str(c["expression"])))
    subcats: set[str] = set()
    novel = structural = 0
    largest_shared: list[int] = []
    for c in current:
        subcats.update(c.get("subcategories") or [])
        key = combination(c)
        if key not in seen_combos:
            novel += 1
        seen_combos.add(key)
        trees = subtrees(str(c["expression"]))
        shared = max((size for text, size in trees.items() if text in seen_trees), default=0)
        largest_shared.append(shared)
        if shared <= threshold:
            structural += 1
        seen_trees.update(trees)
    n = len(current)
    return {
        "candidates": len(batch),
        "valid": n,
        "coverage": len(subcats),
        "coverage_share": round(len(subcats) / available_subcategories, 4)
        if available_subcategories
        else 0.0,
        "subcategories": sorted(subcats),
        "novelty": round(novel / n, 4) if n else 0.0,
        "structural_novelty": round(structural / n, 4) if n else 0.0,
        "mean_largest_shared_subtree": round(sum(largest_shared) / n, 3) if n else 0.0,
        "subtree_threshold": threshold,
    }
