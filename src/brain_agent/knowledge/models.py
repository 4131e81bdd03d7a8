"""The knowledge pack's records: operators, data fields, subcategories.

Argument kinds (``OperatorArg.kind``):

- ``expr``: a MATRIX-valued expression (a MATRIX field, a number, another operator's result);
- ``vector``: a VECTOR field (only the ``vec_*`` operators take one);
- ``group``: a GROUP field or a group-producing operator (``bucket``, ``densify``, ...);
- ``lookback``: a positive integer constant (days);
- ``int``, ``number``, ``bool``, ``string``: constants of that type.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ArgKind = Literal["expr", "vector", "group", "lookback", "int", "number", "bool", "string"]
FieldType = Literal["MATRIX", "VECTOR", "GROUP"]
Level = Literal["BASE", "GENIUS"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OperatorArg(_Record):
    name: str = Field(min_length=1)
    kind: ArgKind
    default: str | float | int | bool | None = None
    """Present when the argument is optional; the value BRAIN uses when it is left out."""
    optional: bool = False
    keyword_only: bool = False
    """True for arguments that are normally written as ``name=value`` (e.g. ``filter``, ``rate``)."""


class Operator(_Record):
    name: str = Field(pattern=r"^[a-z_][a-z0-9_]*$")
    category: str = Field(min_length=1)
    args: list[OperatorArg]
    variadic: bool = False
    """The last positional argument may repeat (``add(x, y, z)``, ``max(a, b, c)``)."""
    returns: Literal["expr", "group"] = "expr"
    infix: str | None = None
    """The infix spelling when there is one (``+`` for ``add``)."""
    scope: list[str] = Field(default_factory=lambda: ["REGULAR", "COMBO"])
    level: Level = "BASE"
    description: str = Field(min_length=1)

    @property
    def signature(self) -> str:
        parts: list[str] = []
        for arg in self.args:
            if arg.optional or arg.keyword_only:
                default = arg.default
                if isinstance(default, bool):
                    shown: object = str(default).lower()
                elif isinstance(default, str):
                    shown = f'"{default}"'
                else:
                    shown = default
                parts.append(f"{arg.name}={shown}" if default is not None else f"{arg.name}=…")
            else:
                parts.append(arg.name)
        if self.variadic:
            parts.insert(len([a for a in self.args if not (a.optional or a.keyword_only)]), "...")
        return f"{self.name}({', '.join(parts)})"


class DataField(_Record):
    id: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    description: str = Field(min_length=1)
    dataset: str = Field(min_length=1)
    category: str = Field(min_length=1)
    subcategory: str = Field(min_length=1)
    type: FieldType
    coverage: float = Field(ge=0.0, le=1.0)
    region: str = "USA"
    delay: int = 1


class Subcategory(_Record):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    category: str = Field(min_length=1)
    description: str = ""
