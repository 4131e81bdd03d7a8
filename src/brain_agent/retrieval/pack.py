"""The retrieval pack: ranked fields, operators and subcategories for one idea, and Top-K selection."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from brain_agent.ideas import IdeaSpec
from brain_agent.jsonio import read_model

PACK_VERSION = 1


@dataclass(frozen=True, order=True)
class TopK:
    """How many of each dimension go into a prompt."""

    fields: int
    operators: int
    subcategories: int

    def to_dict(self) -> dict[str, int]:
        return {"fields": self.fields, "operators": self.operators, "subcategories": self.subcategories}


class _Ranked(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    score: float
    description: str


class RankedField(_Ranked):
    id: str
    type: str
    subcategory: str
    dataset: str


class RankedOperator(_Ranked):
    name: str
    category: str
    signature: str


class RankedSubcategory(_Ranked):
    id: str
    name: str
    category: str


class TopKModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: int = Field(ge=1)
    operators: int = Field(ge=1)
    subcategories: int = Field(ge=1)

    def as_topk(self) -> TopK:
        return TopK(self.fields, self.operators, self.subcategories)


class Selection(BaseModel):
    """What a prompt at a given Top-K contains. ``always_fields`` (the grouping fields) are not counted."""

    model_config = ConfigDict(frozen=True)

    subcategories: list[RankedSubcategory]
    fields: list[RankedField]
    always_fields: list[RankedField]
    operators: list[RankedOperator]


class RetrievalPack(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = PACK_VERSION
    idea: IdeaSpec
    knowledge_pack: dict[str, str]
    default_topk: TopKModel
    subcategories: list[RankedSubcategory]
    fields: list[RankedField]
    operators: list[RankedOperator]
    always_fields: list[RankedField] = Field(default_factory=list)

    @property
    def max_topk(self) -> TopK:
        return TopK(len(self.fields), len(self.operators), len(self.subcategories))

    def select(self, topk: TopK) -> Selection:
        """First ``topk.subcategories`` subcategories; the best ``topk.fields`` fields among them
        (topped up from the rest of the ranking when they hold fewer); the best ``topk.operators``."""
        subs = self.subcategories[: topk.subcategories]
        chosen = {s.id for s in subs}
        inside = [f for f in self.fields if f.subcategory in chosen]
        if len(inside) < topk.fields:
            inside += [f for f in self.fields if f.subcategory not in chosen][: topk.fields - len(inside)]
        return Selection(
            subcategories=subs,
            fields=inside[: topk.fields],
            always_fields=self.always_fields,
            operators=self.operators[: topk.operators],
        )


def load_retrieval_pack(path: str | Path) -> RetrievalPack:
    return read_model(RetrievalPack, path, "retrieval pack")
