"""Load and validate the knowledge pack directory (``data/meta/index``).

Files: ``operators.json``, ``fields.json``, ``subcategories.json``; each a JSON object
``{"version": ..., "items": [...]}``. A broken entry is reported by file, index and key.
"""

from __future__ import annotations

import hashlib
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from brain_agent.errors import InputError, KnowledgePackError, clip, shorten
from brain_agent.jsonio import check_size, parse_json, probe
from brain_agent.knowledge.models import DataField, Operator, Subcategory

OPERATORS_FILE = "operators.json"
FIELDS_FILE = "fields.json"
SUBCATEGORIES_FILE = "subcategories.json"

_M = TypeVar("_M", bound=BaseModel)


@dataclass(frozen=True)
class KnowledgePack:
    directory: Path
    operators: dict[str, Operator]
    fields: dict[str, DataField]
    subcategories: dict[str, Subcategory]
    digest: str = ""
    infix: dict[str, Operator] = field(default_factory=dict)

    def fields_in(self, subcategory: str) -> list[DataField]:
        return [f for f in self.fields.values() if f.subcategory == subcategory]

    def summary(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory),
            "operators": len(self.operators),
            "fields": len(self.fields),
            "subcategories": len(self.subcategories),
            "digest": self.digest,
        }


def _read_items(path: Path) -> tuple[list[Any], bytes]:
    try:
        found = probe(path, "knowledge pack")
    except InputError as exc:
        raise KnowledgePackError(exc.message, **exc.details) from None
    if found is not None and stat.S_ISREG(found.st_mode):
        try:
            check_size(path, found, "knowledge pack")
        except InputError as exc:
            raise KnowledgePackError(exc.message, **exc.details) from None
    if found is None or not stat.S_ISREG(found.st_mode):
        raise KnowledgePackError(f"{path}: knowledge pack file is missing", file=str(path))
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise KnowledgePackError(f"{path}: cannot read: {exc.strerror or exc}", file=str(path)) from None
    try:
        doc = parse_json(raw, str(path), "knowledge pack")
    except InputError as exc:  # not UTF-8, invalid JSON, too deep, NaN: same message, pack error class
        raise KnowledgePackError(exc.message, **exc.details) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise KnowledgePackError(f"{path}: expected an object with an 'items' list", file=str(path))
    return doc["items"], raw


def _parse(path: Path, items: list[Any], model: type[_M], key: str) -> dict[str, _M]:
    out: dict[str, _M] = {}
    for index, item in enumerate(items):
        name = clip(str(item.get(key, f"#{index}"))) if isinstance(item, dict) else f"#{index}"
        try:
            record = model.model_validate(item)
        except PydanticValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"]) or "(entry)"
            raise KnowledgePackError(
                f"{path}: entry {index} ({name!s}): key '{loc}': {first['msg']} "
                f"(value: {shorten(first.get('input'))})",
                file=str(path),
                index=index,
                key=loc,
            ) from None
        ident = getattr(record, key)
        if ident in out:
            raise KnowledgePackError(
                f"{path}: entry {index}: duplicate {key} {shorten(ident)}",
                file=str(path),
                index=index,
                key=key,
            )
        out[ident] = record
    return out


def load_knowledge_pack(directory: str | Path) -> KnowledgePack:
    """Read, validate and cross-check the pack in ``directory``."""
    root = Path(directory)
    try:
        found = probe(root, "knowledge pack")
    except InputError as exc:
        raise KnowledgePackError(exc.message, **exc.details) from None
    if found is None or not stat.S_ISDIR(found.st_mode):
        raise KnowledgePackError(f"{root}: knowledge pack directory does not exist", file=str(root))
    digest = hashlib.sha256()
    op_items, raw = _read_items(root / OPERATORS_FILE)
    digest.update(raw)
    field_items, raw = _read_items(root / FIELDS_FILE)
    digest.update(raw)
    sub_items, raw = _read_items(root / SUBCATEGORIES_FILE)
    digest.update(raw)
    operators = _parse(root / OPERATORS_FILE, op_items, Operator, "name")
    fields = _parse(root / FIELDS_FILE, field_items, DataField, "id")
    subcategories = _parse(root / SUBCATEGORIES_FILE, sub_items, Subcategory, "id")
    for index, f in enumerate(fields.values()):
        if f.subcategory not in subcategories:
            raise KnowledgePackError(
                f"{root / FIELDS_FILE}: entry {index} ({clip(f.id)}): key 'subcategory': "
                f"unknown subcategory {shorten(f.subcategory)} (not in {SUBCATEGORIES_FILE})",
                file=str(root / FIELDS_FILE),
                index=index,
                key="subcategory",
            )
    clash = set(operators) & set(fields)
    if clash:
        raise KnowledgePackError(f"{root}: names are both operators and fields: {shorten(sorted(clash))}")
    infix = {op.infix: op for op in operators.values() if op.infix}
    return KnowledgePack(root, operators, fields, subcategories, digest.hexdigest()[:16], infix)
