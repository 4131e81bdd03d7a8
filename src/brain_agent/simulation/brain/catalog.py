"""Refresh the knowledge pack from BRAIN's ``GET /operators`` and ``GET /data-fields``.

BRAIN's operator items carry a human ``definition`` string (``ts_decay_linear(x, d, dense = false)``);
argument kinds are read from it heuristically (unknown → ``expr``). When the previous pack already
knows an operator, its hand-checked signature is kept and only BRAIN's category, scope, level and
description are taken. Subcategories are derived from the fields' ``subcategory`` objects. The new
pack is staged, validated with the loader, and only then moved over the old files.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from brain_agent.errors import KnowledgePackError, OutputError
from brain_agent.jsonio import probe, write_error, write_json
from brain_agent.knowledge import (
    ArgKind,
    DataField,
    KnowledgePack,
    Operator,
    OperatorArg,
    Subcategory,
    load_knowledge_pack,
)
from brain_agent.knowledge.loader import FIELDS_FILE, OPERATORS_FILE, SUBCATEGORIES_FILE
from brain_agent.simulation.brain.api import BrainApi

LOOKBACK_NAMES = frozenset({"d", "d1", "d2", "lookback", "days", "window", "period", "n"})
GROUP_NAMES = frozenset({"group", "groups", "g", "g1", "g2", "group1", "group2", "grouping"})
GROUP_RETURNING = frozenset({"bucket", "densify", "group_cartesian_product"})
GROUP_TAKING = frozenset({"densify"})
INFIX = ("<=", ">=", "==", "!=", "&&", "||", "<", ">", "+", "-", "*", "/", "^")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_FIELD_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")


@dataclass(frozen=True)
class Signature:
    args: list[OperatorArg]
    variadic: bool = False
    infix: str | None = None


def _split_top(text: str) -> list[str]:
    """Split on commas outside quotes and brackets."""
    parts: list[str] = []
    depth, quote, start = 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _call_span(name: str, definition: str) -> tuple[int, int] | None:
    """(start, end) of the argument text inside ``name(...)``, respecting quotes and nesting."""
    match = re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}\s*\(", definition)
    if not match:
        return None
    depth, quote = 1, ""
    for i in range(match.end(), len(definition)):
        ch = definition[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return match.end(), i
    return None


def _infix_in(text: str) -> str | None:
    match = re.search(r"[A-Za-z0-9_]+\s*(<=|>=|==|!=|&&|\|\||<|>|\+|-|\*|/|\^)\s*[A-Za-z0-9_]+", text)
    return match.group(1) if match else None


def _literal(value: str) -> tuple[ArgKind, str | float | int | bool] | None:
    v = value.strip()
    if v.lower() in ("true", "false"):
        return "bool", v.lower() == "true"
    if _INT.match(v):
        return "int", int(v)
    if _FLOAT.match(v):
        return "number", float(v)
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
        return "string", v[1:-1]
    return None


def _positional_kind(op_name: str, arg_name: str, index: int) -> ArgKind:
    if op_name.startswith("vec_") and index == 0:
        return "vector"
    if op_name in GROUP_TAKING and index == 0:
        return "group"
    if arg_name in GROUP_NAMES:
        return "group"
    if arg_name in LOOKBACK_NAMES:
        return "lookback"
    return "expr"


def parse_definition(name: str, definition: str) -> Signature:
    """Arguments, variadic flag and infix spelling from a BRAIN ``definition`` string."""
    span = _call_span(name, definition)
    if span is None:
        infix = _infix_in(definition)
        if infix:
            pair = [OperatorArg(name="input1", kind="expr"), OperatorArg(name="input2", kind="expr")]
            return Signature(pair, infix=infix)
        return Signature([OperatorArg(name="x", kind="expr")])
    inner, rest = definition[span[0] : span[1]], definition[span[1] + 1 :]
    args: list[OperatorArg] = []
    variadic = False
    seen: set[str] = set()
    for token in _split_top(inner):
        if token.strip(". …") == "" or token.endswith("..."):
            variadic = True
            continue
        eq = re.search(r"(?<![=!<>])=(?!=)", token)
        if eq:
            key = re.sub(r"\W", "", token[: eq.start()]) or f"arg{len(args)}"
            raw = token[eq.end() :].strip()
            literal = _literal(raw)
            if literal is None and _IDENT.fullmatch(raw) and len(raw) <= 2:
                kind: ArgKind = "lookback" if key in LOOKBACK_NAMES or raw in LOOKBACK_NAMES else "number"
                arg = OperatorArg(name=key, kind=kind)
            elif literal is None:
                arg = OperatorArg(name=key, kind="string", default=raw, optional=True, keyword_only=True)
            else:
                lit_kind, default = literal
                if lit_kind == "int" and key in LOOKBACK_NAMES:
                    lit_kind = "lookback"
                arg = OperatorArg(name=key, kind=lit_kind, default=default, optional=True, keyword_only=True)
        else:
            literal = _literal(token)
            if literal is not None:
                arg = OperatorArg(name="x" if "x" not in seen else f"arg{len(args)}", kind=literal[0])
            else:
                idents = _IDENT.findall(token.replace(" ", ""))
                arg_name = idents[-1] if idents else f"arg{len(args)}"
                arg = OperatorArg(name=arg_name, kind=_positional_kind(name, arg_name, len(args)))
        if arg.name in seen:
            arg = arg.model_copy(update={"name": f"{arg.name}{len(args)}"})
        seen.add(arg.name)
        args.append(arg)
    if not args:
        args = [OperatorArg(name="x", kind="expr")]
    return Signature(args, variadic, _infix_in(rest.lstrip(" ,")))


def _category(raw: Any) -> str:
    text = re.sub(r"[^a-z0-9]+", "_", str(raw or "").strip().lower()).strip("_")
    return text or "other"


def operator_from_brain(item: dict[str, Any], curated: Operator | None = None) -> Operator | None:
    """One ``GET /operators`` item as an ``Operator``; None when the name cannot be an operator name."""
    name = item.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        return None
    definition = item.get("definition") if isinstance(item.get("definition"), str) else ""
    description = item.get("description") if isinstance(item.get("description"), str) else ""
    scope = [s for s in item.get("scope") or [] if isinstance(s, str)] or ["REGULAR", "COMBO"]
    common: dict[str, Any] = {
        "name": name,
        "category": _category(item.get("category")),
        "scope": scope,
        "level": "BASE" if item.get("level") == "ALL" else "GENIUS",
        "description": (description or definition or (curated.description if curated else name)).strip(),
    }
    if curated is not None:
        return Operator(
            args=curated.args,
            variadic=curated.variadic,
            returns=curated.returns,
            infix=curated.infix,
            **common,
        )
    sig = parse_definition(name, str(definition or name))
    return Operator(
        args=sig.args,
        variadic=sig.variadic,
        infix=sig.infix,
        returns="group" if name in GROUP_RETURNING else "expr",
        **common,
    )


def _ref_id(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def field_from_brain(item: dict[str, Any], region: str, delay: int) -> DataField | None:
    """One ``GET /data-fields`` item as a ``DataField``; None for ids or types the pack cannot hold."""
    ident = item.get("id")
    ftype = item.get("type")
    if not isinstance(ident, str) or not _FIELD_ID.match(ident) or ftype not in ("MATRIX", "VECTOR", "GROUP"):
        return None
    category = _ref_id(item.get("category")) or "other"
    coverage = item.get("coverage")
    cov = float(coverage) if isinstance(coverage, int | float) else 0.0
    desc = item.get("description")
    item_region = item.get("region")
    item_delay = item.get("delay")
    try:
        return DataField(
            id=ident,
            description=(desc.strip() if isinstance(desc, str) else "") or ident,
            dataset=_ref_id(item.get("dataset")) or "unknown",
            category=category,
            subcategory=_ref_id(item.get("subcategory")) or f"{category}-other",
            type=ftype,
            coverage=min(1.0, max(0.0, cov)),
            region=item_region if isinstance(item_region, str) else region,
            delay=item_delay if isinstance(item_delay, int) else delay,
        )
    except PydanticValidationError:
        return None


def subcategories_from(
    items: Iterable[dict[str, Any]], keep: set[str], previous: KnowledgePack | None
) -> list[Subcategory]:
    out: dict[str, Subcategory] = {}
    for item in items:
        category = _ref_id(item.get("category")) or "other"
        sub = item.get("subcategory")
        sub_id = _ref_id(sub) or f"{category}-other"
        if sub_id in out or sub_id not in keep:
            continue
        raw = sub.get("name") if isinstance(sub, dict) else None
        if not isinstance(raw, str) or not raw.strip():
            cat = item.get("category")
            raw = cat.get("name") if isinstance(cat, dict) else None
        name = raw if isinstance(raw, str) and raw.strip() else sub_id
        old = previous.subcategories.get(sub_id) if previous else None
        out[sub_id] = Subcategory(
            id=sub_id,
            name=name.strip() or sub_id,
            category=category,
            description=old.description if old else "",
        )
    return list(out.values())


@dataclass
class SyncReport:
    output_dir: Path
    operators: int = 0
    fields: int = 0
    subcategories: int = 0
    curated_operators: int = 0
    skipped: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "output_dir": str(self.output_dir),
            "operators": self.operators,
            "fields": self.fields,
            "subcategories": self.subcategories,
            "curated_operators": self.curated_operators,
            "skipped": self.skipped,
        }


def build_pack(
    operators: Sequence[dict[str, Any]],
    fields: Sequence[dict[str, Any]],
    *,
    region: str,
    delay: int,
    previous: KnowledgePack | None = None,
    report: SyncReport,
) -> tuple[list[Operator], list[DataField], list[Subcategory]]:
    ops: dict[str, Operator] = {}
    for item in operators:
        name = item.get("name")
        curated = previous.operators.get(name) if previous and isinstance(name, str) else None
        try:
            op = operator_from_brain(item, curated)
        except PydanticValidationError:
            op = None
        if op is None or op.name in ops:
            report.skipped.append(f"operator {name!r}")
            continue
        ops[op.name] = op
        report.curated_operators += curated is not None
    kept: dict[str, DataField] = {}
    for item in fields:
        f = field_from_brain(item, region, delay)
        if f is None or f.id in kept or f.id in ops:
            report.skipped.append(f"field {item.get('id')!r}")
            continue
        kept[f.id] = f
    subs = subcategories_from(fields, {f.subcategory for f in kept.values()}, previous)
    report.operators, report.fields, report.subcategories = len(ops), len(kept), len(subs)
    return list(ops.values()), list(kept.values()), subs


def check_output_dir(output_dir: Path) -> None:
    """Refuse (exit 2) a pack folder that is a file or a device, or sits under a file."""
    for path in (output_dir, *output_dir.parents):
        found = probe(path, "knowledge pack")
        if found is None:
            continue
        if not stat.S_ISDIR(found.st_mode):
            what = (
                "the knowledge pack folder" if path == output_dir else "a parent of the knowledge pack folder"
            )
            raise OutputError(f"{output_dir}: {what} is not a folder ({path})", file=str(output_dir))
        return


def write_pack(
    output_dir: Path,
    operators: list[Operator],
    fields: list[DataField],
    subcategories: list[Subcategory],
    *,
    version: str,
    source: str,
) -> KnowledgePack:
    """Stage the three files, validate them with the loader, then move them over the old ones."""
    if not operators or not fields:
        raise KnowledgePackError(
            f"{output_dir}: BRAIN returned {len(operators)} operators and {len(fields)} data fields; "
            "refusing to replace the knowledge pack with an empty one"
        )
    check_output_dir(output_dir)
    try:
        output_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.sync-", dir=output_dir.parent))
    except OSError as exc:
        raise write_error(exc, output_dir, "knowledge pack") from None
    try:
        for filename, records in (
            (OPERATORS_FILE, operators),
            (FIELDS_FILE, fields),
            (SUBCATEGORIES_FILE, subcategories),
        ):
            items = [r.model_dump(mode="json", exclude_none=True) for r in records]
            write_json(staging / filename, {"version": version, "source": source, "items": items})
        load_knowledge_pack(staging)
        output_dir.mkdir(parents=True, exist_ok=True)
        for filename in (OPERATORS_FILE, FIELDS_FILE, SUBCATEGORIES_FILE):
            target = output_dir / filename
            # write_json stages through mkstemp (0600); a catalogue is not secret, keep it readable
            os.chmod(staging / filename, stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o644)
            os.replace(staging / filename, target)
    except OSError as exc:
        raise write_error(exc, output_dir, "knowledge pack") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return load_knowledge_pack(output_dir)


def sync_knowledge_pack(
    api: BrainApi,
    output_dir: Path,
    *,
    now: datetime,
    instrument_type: str = "EQUITY",
    region: str = "USA",
    universe: str = "TOP3000",
    delay: int = 1,
    datasets: Sequence[str] = (),
) -> SyncReport:
    """Fetch the catalogue for one (instrument type, region, universe, delay) and write the pack."""
    report = SyncReport(output_dir)
    check_output_dir(output_dir)  # before any request: a bad folder costs no API calls
    try:
        previous: KnowledgePack | None = load_knowledge_pack(output_dir) if output_dir.is_dir() else None
    except KnowledgePackError:
        previous = None
    operators = api.operators()
    base: dict[str, str | int] = {
        "instrumentType": instrument_type,
        "region": region,
        "delay": delay,
        "universe": universe,
    }
    fields: list[dict[str, Any]] = []
    queries = [{**base, "dataset.id": d} for d in datasets] if datasets else [base]
    for params in queries:
        fields.extend(api.data_fields(params))
    ops, flds, subs = build_pack(
        operators, fields, region=region, delay=delay, previous=previous, report=report
    )
    scope = f"{instrument_type}/{region}/{universe}/delay {delay}"
    if datasets:
        scope += f", datasets {', '.join(datasets)}"
    write_pack(
        output_dir,
        ops,
        flds,
        subs,
        version=now.strftime("%Y.%m.%d") + "-brain",
        source=f"GET /operators and GET /data-fields ({scope}) from {api.session.base_url} "
        f"at {now.isoformat()}",
    )
    return report
