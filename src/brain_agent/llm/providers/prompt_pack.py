"""Read the retrieval pack back out of an alpha-maker prompt (what a fake model "sees").

Prompt format contract (the prompt renderer writes to it):

- sections headed exactly ``## Data fields``, ``## Operators``, ``## Subcategories``;
- a field line is ``- <id> (<MATRIX|VECTOR|GROUP>): <description>``;
- an operator line is ``- <signature>: <description>`` with a signature such as
  ``ts_rank(x, d, constant=0)``; ``...`` marks a variadic argument, ``name=default`` an optional one;
- a subcategory line is ``- <id>...`` (anything after the id is ignored);
- an optional ``## Idea`` section: ``- <key>: <value>`` lines (``lane``, ``title``, ``hypothesis``,
  ``tags``...) and free text, both kept, so a fake model can write to the idea.

Any other section or line is ignored. Argument kinds are guessed from argument names, since the prompt
carries none: ``d``/``lookback``/``days``/``window`` are positive integers, ``k`` a small positive
integer, ``group`` takes a GROUP field, ``x``/``y``/``input1``/... take an expression (a VECTOR field
for the ``vec_*`` operators). Operators with a required argument of any other name are left out, so
the fake never guesses wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

SlotKind = Literal["expr", "vector", "group", "lookback", "int"]

_HEADING = re.compile(r"^##\s+(.+?)\s*$")
_FIELD_LINE = re.compile(r"^\s*[-*]\s+`?([A-Za-z_][A-Za-z0-9_]*)`?\s*\((MATRIX|VECTOR|GROUP)\)\s*(?::|$)")
_OPERATOR_LINE = re.compile(r"^\s*[-*]\s+`?([a-z_][a-z0-9_]*)\((.*?)\)`?\s*(?::|$)")
_IDEA_LINE = re.compile(r"^\s*[-*]\s+([A-Za-z_ ]+?)\s*:\s*(.*)$")
_SUBCATEGORY_LINE = re.compile(r"^\s*[-*]\s+`?([A-Za-z0-9_][A-Za-z0-9_.\-]*)`?")

_LOOKBACK_NAMES = frozenset({"d", "lookback", "days", "window", "period", "n", "w"})
_GROUP_NAMES = frozenset({"group", "groups", "g"})
_INT_NAMES = frozenset({"k"})
_EXPR_NAMES = frozenset(
    {"x", "y", "z", "a", "b", "input", "expr", "value", "alpha", "signal", "base", "weight"}
)
_INPUT_N = re.compile(r"^input\d+$")
# Operators whose names break the heuristics: group-returning ones (never wrapped around an
# expression) and ``ts_step(x)``, whose ``x`` is an int literal.
_NOT_USED = frozenset({"bucket", "densify", "group_cartesian_product", "ts_step"})


@dataclass(frozen=True)
class PromptField:
    id: str
    type: str
    description: str = ""


@dataclass(frozen=True)
class PromptOperator:
    name: str
    slots: tuple[SlotKind, ...]
    """Kinds of the required positional arguments, in order (optional ones are left out)."""
    variadic: bool = False


@dataclass
class PromptPack:
    fields: list[PromptField] = field(default_factory=list)
    operators: list[PromptOperator] = field(default_factory=list)
    subcategories: list[str] = field(default_factory=list)
    skipped_operators: list[str] = field(default_factory=list)
    idea: dict[str, str] = field(default_factory=dict)
    """``- key: value`` lines of the ``## Idea`` section (keys lower-cased)."""
    idea_text: str = ""
    """All of the ``## Idea`` section's text (keys' values and free lines), for reading its intent."""

    @property
    def lane(self) -> str:
        return self.idea.get("lane", "").strip().lower()

    def operator(self, name: str) -> PromptOperator | None:
        return next((op for op in self.operators if op.name == name), None)

    def fields_of(self, kind: str) -> list[str]:
        return [f.id for f in self.fields if f.type == kind]


def split_args(text: str) -> list[str]:
    """Split a signature's argument list on top-level commas (quotes and brackets respected)."""
    parts: list[str] = []
    depth = 0
    quote = ""
    current: list[str] = []
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    tail = "".join(current).strip()
    if tail:
        parts.append(tail)
    return parts


def _slot_kind(op_name: str, arg: str) -> SlotKind | None:
    name = arg.lower()
    if name in _LOOKBACK_NAMES:
        return "lookback"
    if name in _GROUP_NAMES:
        return "group"
    if name in _INT_NAMES:
        return "int"
    if name in _EXPR_NAMES or _INPUT_N.match(name):
        return "vector" if op_name.startswith("vec_") else "expr"
    return None


def parse_operator(name: str, args_text: str) -> PromptOperator | None:
    """The operator's required slots, or None when an argument cannot be filled safely."""
    if name in _NOT_USED:
        return None
    slots: list[SlotKind] = []
    variadic = False
    for arg in split_args(args_text):
        if arg in ("...", "…"):
            variadic = True
            continue
        if "=" in arg:
            continue  # optional or keyword-only: BRAIN uses its default
        kind = _slot_kind(name, arg)
        if kind is None:
            return None
        slots.append(kind)
    if not slots:
        return None
    return PromptOperator(name=name, slots=tuple(slots), variadic=variadic)


def parse_prompt_pack(prompt: str) -> PromptPack:
    pack = PromptPack()
    section = ""
    seen_fields: set[str] = set()
    seen_ops: set[str] = set()
    for line in prompt.splitlines():
        heading = _HEADING.match(line)
        if heading:
            section = heading.group(1).strip().lower()
            continue
        if section == "idea":
            m = _IDEA_LINE.match(line)
            if m:
                pack.idea[m.group(1).strip().lower()] = m.group(2).strip()
            text = m.group(2) if m else line.strip()
            if text:
                pack.idea_text = f"{pack.idea_text} {text}".strip()
        elif section == "data fields":
            m = _FIELD_LINE.match(line)
            if m and m.group(1) not in seen_fields:
                seen_fields.add(m.group(1))
                pack.fields.append(PromptField(m.group(1), m.group(2), line[m.end() :].strip()))
        elif section == "operators":
            m = _OPERATOR_LINE.match(line)
            if m and m.group(1) not in seen_ops:
                seen_ops.add(m.group(1))
                op = parse_operator(m.group(1), m.group(2))
                if op is None:
                    pack.skipped_operators.append(m.group(1))
                else:
                    pack.operators.append(op)
        elif section == "subcategories":
            m = _SUBCATEGORY_LINE.match(line)
            if m and m.group(1) not in pack.subcategories:
                pack.subcategories.append(m.group(1))
    return pack
