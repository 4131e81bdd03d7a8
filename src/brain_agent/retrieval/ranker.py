"""Rank a knowledge pack for an idea: lexical relevance (BM25 over names and descriptions) plus a
subcategory match bonus; explore ideas also get a bonus for what the store has seen least.

Deterministic: equal scores break ties by id.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Literal

from brain_agent.ideas import IdeaSpec
from brain_agent.ideas.spec import require_known_subcategories
from brain_agent.knowledge import KnowledgePack
from brain_agent.retrieval.pack import (
    RankedField,
    RankedOperator,
    RankedSubcategory,
    RetrievalPack,
    TopKModel,
)

DEFAULT_TOPK = TopKModel(fields=40, operators=30, subcategories=5)
# Lexical relevance is normalised to [0, 1] per dimension; these weights are on that scale.
FIELD_TARGET_BONUS = 1.0
SUBCATEGORY_TARGET_BONUS = 2.0
FIELD_NOVELTY_WEIGHT = 0.5
SUBCATEGORY_NOVELTY_WEIGHT = 1.0
COVERAGE_WEIGHT = 0.1
BASE_LEVEL_BONUS = 0.15
ALWAYS_FIELDS = ("market", "sector", "industry", "subindustry")

# A few finance words that should pull in operators or fields whose text doesn't say them.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "reversal": ("delta", "returns", "rank", "reverse"),
    "revert": ("delta", "returns", "mean"),
    "momentum": ("mean", "returns", "delta", "sum"),
    "trend": ("mean", "regression", "delta"),
    "volatility": ("std", "dev", "volatility", "implied"),
    "value": ("book", "earnings", "sales", "cap", "equity"),
    "cheap": ("book", "earnings", "cap"),
    "quality": ("income", "assets", "debt", "equity", "return"),
    "liquidity": ("volume", "adv20", "turnover"),
    "volume": ("volume", "adv20"),
    "sentiment": ("sentiment", "news", "social"),
    "neutralise": ("group", "neutralize", "subindustry", "industry"),
    "neutralize": ("group", "neutralize", "subindustry", "industry"),
    "sector": ("group", "sector", "industry"),
    "analyst": ("estimate", "analyst", "revision"),
    "revisions": ("estimate", "revision"),
    "short": ("short", "interest", "borrow"),
    "options": ("implied", "option", "volatility"),
}
_WORD = re.compile(r"[a-z][a-z0-9]*")


def _tokens(text: str) -> list[str]:
    words = _WORD.findall(text.lower().replace("_", " ").replace("-", " "))
    return [w[:-1] if len(w) > 4 and w.endswith("s") and not w.endswith("ss") else w for w in words]


def _query(idea: IdeaSpec) -> Counter[str]:
    text = " ".join([idea.title, idea.hypothesis, " ".join(idea.tags), " ".join(idea.target_subcategories)])
    terms = Counter(_tokens(text))
    for word in list(terms):
        for extra in _SYNONYMS.get(word, ()):
            terms[extra] += 1
    return terms


class _BM25:
    def __init__(self, docs: Mapping[str, list[str]], k1: float = 1.2, b: float = 0.75) -> None:
        self.docs = {key: Counter(tokens) for key, tokens in docs.items()}
        self.lengths = {key: len(tokens) for key, tokens in docs.items()}
        n = max(len(docs), 1)
        self.avg = (sum(self.lengths.values()) / n) or 1.0
        df: Counter[str] = Counter()
        for tokens in docs.values():
            df.update(set(tokens))
        self.idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self.k1, self.b = k1, b

    def score(self, key: str, query: Counter[str]) -> float:
        doc, length, total = self.docs[key], self.lengths[key], 0.0
        for term, q in query.items():
            tf = doc.get(term, 0)
            if tf:
                norm = tf * (self.k1 + 1) / (tf + self.k1 * (1 - self.b + self.b * length / self.avg))
                total += self.idf.get(term, 0.0) * norm * (1 + math.log(q))
        return total


def _normalised(index: _BM25, query: Counter[str]) -> dict[str, float]:
    raw = {key: index.score(key, query) for key in index.docs}
    top = max(raw.values(), default=0.0) or 1.0
    return {key: value / top for key, value in raw.items()}


def _sorted(items: Iterable[tuple[float, str]]) -> list[tuple[float, str]]:
    return sorted(items, key=lambda pair: (-pair[0], pair[1]))


def build_retrieval_pack(
    idea: IdeaSpec,
    pack: KnowledgePack,
    *,
    field_usage: Mapping[str, int] | None = None,
    subcategory_usage: Mapping[str, int] | None = None,
    default_topk: TopKModel = DEFAULT_TOPK,
    operator_level: Literal["BASE", "GENIUS"] = "BASE",
) -> RetrievalPack:
    """Rank everything in ``pack`` for ``idea``. Usage counts (from the store) only matter for explore.

    ``operator_level`` is the account's BRAIN level: ``BASE`` offers base operators only (what every
    account may use), ``GENIUS`` offers all of them."""
    require_known_subcategories([idea], pack.subcategories, f"knowledge pack {pack.directory}")
    levels = {"BASE"} if operator_level == "BASE" else {"BASE", "GENIUS"}
    query = _query(idea)
    explore = idea.lane == "explore"
    field_seen = field_usage or {}
    sub_seen = subcategory_usage or {}
    targets = set(idea.target_subcategories)

    subs = pack.subcategories
    fields = {f.id: f for f in pack.fields.values() if f.type != "GROUP" or f.id not in ALWAYS_FIELDS}
    field_lex = _normalised(
        _BM25(
            {
                f.id: _tokens(f"{f.id} {f.description} {subs[f.subcategory].name} {f.dataset}")
                for f in fields.values()
            }
        ),
        query,
    )
    field_scores: dict[str, float] = {}
    for f in fields.values():
        score = field_lex[f.id] + COVERAGE_WEIGHT * f.coverage
        score += FIELD_TARGET_BONUS if f.subcategory in targets else 0.0
        if explore:
            score += FIELD_NOVELTY_WEIGHT / (1.0 + field_seen.get(f.id, 0))
        field_scores[f.id] = round(score, 6)

    sub_lex = _normalised(
        _BM25({s.id: _tokens(f"{s.id} {s.name} {s.category} {s.description}") for s in subs.values()}), query
    )
    sub_scores: dict[str, float] = {}
    for s in subs.values():
        best = sorted((field_lex[f.id] for f in fields.values() if f.subcategory == s.id), reverse=True)[:5]
        score = 0.5 * sub_lex[s.id] + 0.5 * (sum(best) / 5)
        score += SUBCATEGORY_TARGET_BONUS if s.id in targets else 0.0
        if explore:
            score += SUBCATEGORY_NOVELTY_WEIGHT / (1.0 + sub_seen.get(s.id, 0))
        sub_scores[s.id] = round(score, 6)

    op_lex = _normalised(
        _BM25({o.name: _tokens(f"{o.name} {o.category} {o.description}") for o in pack.operators.values()}),
        query,
    )
    op_scores = {
        o.name: round(op_lex[o.name] + (BASE_LEVEL_BONUS if o.level == "BASE" else 0.0), 6)
        for o in pack.operators.values()
        if "REGULAR" in o.scope and o.level in levels
    }

    return RetrievalPack(
        idea=idea,
        knowledge_pack={"directory": str(pack.directory), "digest": pack.digest},
        default_topk=default_topk,
        subcategories=[
            RankedSubcategory(
                id=s, name=subs[s].name, category=subs[s].category, description=subs[s].description, score=sc
            )
            for sc, s in _sorted((v, k) for k, v in sub_scores.items())
        ],
        fields=[
            RankedField(
                id=f,
                type=fields[f].type,
                subcategory=fields[f].subcategory,
                dataset=fields[f].dataset,
                description=fields[f].description,
                score=sc,
            )
            for sc, f in _sorted((v, k) for k, v in field_scores.items())
        ],
        operators=[
            RankedOperator(
                name=o,
                category=pack.operators[o].category,
                signature=pack.operators[o].signature,
                description=pack.operators[o].description,
                score=sc,
            )
            for sc, o in _sorted((v, k) for k, v in op_scores.items())
        ],
        always_fields=[
            RankedField(
                id=pack.fields[g].id,
                type=pack.fields[g].type,
                subcategory=pack.fields[g].subcategory,
                dataset=pack.fields[g].dataset,
                description=pack.fields[g].description,
                score=0.0,
            )
            for g in ALWAYS_FIELDS
            if g in pack.fields
        ],
    )
