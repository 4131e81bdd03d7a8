"""Fast Expression syntax tree.

Every node carries ``start`` and ``end``: character offsets into the source text (end exclusive), the
same convention as BRAIN's error ``location``. Nodes are immutable and hashable, so equal
sub-expressions can be found and computed once (the simulator relies on this).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Number:
    value: float
    is_int: bool
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class String:
    value: str
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Bool:
    value: bool
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Name:
    """A data field or a variable assigned earlier in the program."""

    id: str
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Keyword:
    name: str
    value: Node
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Call:
    func: str
    args: tuple[Node, ...]
    keywords: tuple[Keyword, ...] = ()
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "-", "+" or "!"
    operand: Node
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # + - * / ^ < <= == != > >= && ||
    left: Node
    right: Node
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Ternary:
    cond: Node
    then: Node
    otherwise: Node
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Assign:
    name: str
    value: Node
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Program:
    """``assignments`` run in order; ``result`` (the last statement) is the alpha."""

    assignments: tuple[Assign, ...]
    result: Node
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


Node = Number | String | Bool | Name | Call | Unary | Binary | Ternary
