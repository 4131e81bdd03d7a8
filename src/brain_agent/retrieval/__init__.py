"""Retrieval: rank the knowledge pack for an idea into a retrieval pack."""

from brain_agent.retrieval.market import restrict_to_fields
from brain_agent.retrieval.pack import (
    RankedField,
    RankedOperator,
    RankedSubcategory,
    RetrievalPack,
    Selection,
    TopK,
    TopKModel,
    load_retrieval_pack,
)
from brain_agent.retrieval.ranker import ALWAYS_FIELDS, DEFAULT_TOPK, build_retrieval_pack

__all__ = [
    "ALWAYS_FIELDS",
    "DEFAULT_TOPK",
    "RankedField",
    "RankedOperator",
    "RankedSubcategory",
    "RetrievalPack",
    "Selection",
    "TopK",
    "TopKModel",
    "build_retrieval_pack",
    "load_retrieval_pack",
    "restrict_to_fields",
]
