"""The alpha maker: prompt → LLM → extract the expression → validate → a candidate record.

An answer without an expression is not a crash: the candidate gets ``error_code = NO_EXPRESSION``
and keeps the raw text; the caller decides (the CLI exits 2, a batch moves on).
"""

from __future__ import annotations

import re
import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from brain_agent.errors import ExpressionError
from brain_agent.expression import check, parse
from brain_agent.ideas import IdeaSpec, Lane
from brain_agent.knowledge import KnowledgePack
from brain_agent.llm.base import LLMProvider, LLMRequest
from brain_agent.retrieval import RetrievalPack, TopK
from brain_agent.storage import Store, new_id
from brain_agent.telemetry import events as ev

from .prompt import SYSTEM_PROMPT, render_alpha_prompt

NO_EXPRESSION = "NO_EXPRESSION"
DEFAULT_MAX_COMPLETION_TOKENS = 1024
CandidateStatus = Literal["valid", "invalid", "needs_repair", "simulated", "simulation_failed"]

_FENCE = re.compile(r"```[ \t]*([A-Za-z_-]*)[ \t]*\n?(.*?)```", re.DOTALL)
_LABEL = re.compile(r"^\s*(?:alpha|expression|fast expression)\s*[:=]\s*", re.IGNORECASE)


class Candidate(BaseModel):
    """What run-alpha-maker writes and the simulator reads."""

    model_config = ConfigDict(extra="allow")

    candidate_id: str
    run_id: str | None = None
    idea_id: str
    lane: Lane
    expression: str | None
    status: CandidateStatus
    valid: bool
    error_code: str | None = None
    diagnostics: list[dict[str, Any]] = Field(default_factory=list)
    fields: list[str] = Field(default_factory=list)
    operators: list[str] = Field(default_factory=list)
    subcategories: list[str] = Field(default_factory=list)
    topk: dict[str, int]
    usage: dict[str, int] = Field(default_factory=dict)
    llm: dict[str, Any] = Field(default_factory=dict)
    rationale: str | None = None
    raw_text: str = ""
    created_at: float = Field(default_factory=time.time)


def extract_expression(text: str) -> tuple[str | None, str | None]:
    """The expression and the rationale in an LLM answer: a fenced block first, else the first line
    that parses. ``(None, None)`` when there is none."""
    for match in _FENCE.finditer(text):
        body = match.group(2).strip()
        if body:
            rest = (text[: match.start()] + text[match.end() :]).strip()
            return body, (rest.splitlines()[0].strip() if rest else None)
    for line in text.splitlines():
        candidate = _LABEL.sub("", line.strip().strip("`"))
        if "(" not in candidate:
            continue
        try:
            parse(candidate)
        except ExpressionError:
            continue
        return candidate, None
    return None, None


def build_candidate(
    text: str,
    idea: IdeaSpec,
    knowledge_pack: KnowledgePack,
    topk: TopK,
    *,
    run_id: str | None,
    candidate_id: str | None = None,
) -> Candidate:
    expression, rationale = extract_expression(text)
    base: dict[str, Any] = {
        "candidate_id": candidate_id or new_id("cand"),
        "run_id": run_id,
        "idea_id": idea.id,
        "lane": idea.lane,
        "topk": topk.to_dict(),
        "raw_text": text,
        "rationale": rationale,
    }
    if expression is None:
        diag = {"code": NO_EXPRESSION, "message": "the answer holds no Fast Expression", "location": None}
        return Candidate(
            **base,
            expression=None,
            status="invalid",
            valid=False,
            error_code=NO_EXPRESSION,
            diagnostics=[diag],
        )
    result = check(expression, knowledge_pack)
    return Candidate(
        **base,
        expression=expression,
        status="valid" if result.ok else "invalid",
        valid=result.ok,
        error_code=None if result.ok else result.diagnostics[0].code,
        diagnostics=[d.to_dict() for d in result.diagnostics],
        fields=sorted(result.fields_used),
        operators=sorted(result.operators_used),
        subcategories=sorted(result.subcategories_used),
    )


def make_candidate(
    provider: LLMProvider,
    idea: IdeaSpec,
    pack: RetrievalPack,
    knowledge_pack: KnowledgePack,
    topk: TopK,
    *,
    store: Store | None,
    run_id: str | None,
    prompt: str | None = None,
    max_tokens: int = DEFAULT_MAX_COMPLETION_TOKENS,
    seed: int | None = None,
) -> Candidate:
    """Ask ``provider`` for an alpha, validate it, save it and emit ``candidate.created``."""
    prompt = prompt if prompt is not None else render_alpha_prompt(idea, pack, topk)
    request = LLMRequest(
        prompt=prompt, system=SYSTEM_PROMPT, max_tokens=max_tokens, seed=seed, purpose="alpha"
    )
    response = provider.complete(request)
    candidate = build_candidate(response.text, idea, knowledge_pack, topk, run_id=run_id)
    candidate.usage = response.usage.to_dict()
    candidate.llm = {
        "provider": response.provider,
        "model": response.model,
        "latency_ms": round(response.latency_s * 1000, 3),
        "cache_hit": response.cache_hit,
    }
    if store is not None:
        store.save_candidate(candidate.model_dump())
        if run_id is not None:
            store.append_event(
                run_id,
                ev.CANDIDATE_CREATED,
                {
                    "candidate_id": candidate.candidate_id,
                    "expression": candidate.expression,
                    "valid": candidate.valid,
                    "error_code": candidate.error_code,
                    "fields": candidate.fields,
                    "operators": candidate.operators,
                    "subcategories": candidate.subcategories,
                    "topk": candidate.topk,
                },
                step="alpha",
                idea_id=idea.id,
                lane=idea.lane,
            )
    return candidate
