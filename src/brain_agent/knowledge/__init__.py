"""The BRAIN operator and data-field catalogue."""

from brain_agent.knowledge.loader import KnowledgePack, load_knowledge_pack
from brain_agent.knowledge.models import ArgKind, DataField, FieldType, Operator, OperatorArg, Subcategory

__all__ = [
    "ArgKind",
    "DataField",
    "FieldType",
    "KnowledgePack",
    "Operator",
    "OperatorArg",
    "Subcategory",
    "load_knowledge_pack",
]
