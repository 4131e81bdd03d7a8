"""Budget layer benchmarks: gate overhead per call, ladder time on a 500-field pack, estimator error.

    .venv/bin/python benchmarks/bench_budget.py [--calls 300]

Prints tables and writes benchmarks/results/budget.json. Targets: gate p50 ≤ 2 ms for a 12k-token
prompt; calibrated rough-estimator median error ≤ 3 %.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from brain_agent.generation.budget import (
    BudgetedProvider,
    BudgetGate,
    CallContext,
    TokenEstimator,
    load_price_table,
    parse_budget_config,
    rough_tokens,
)
from brain_agent.generation.prompt import SYSTEM_PROMPT, render_alpha_prompt
from brain_agent.ideas import IdeaSpec
from brain_agent.knowledge import load_knowledge_pack
from brain_agent.llm.base import LLMRequest, LLMResponse, Usage
from brain_agent.llm.providers.mock import write_expression
from brain_agent.llm.providers.prompt_pack import parse_prompt_pack
from brain_agent.llm.tokenizer import count_tokens
from brain_agent.retrieval import (
    RankedField,
    RankedOperator,
    RankedSubcategory,
    RetrievalPack,
    TopK,
    build_retrieval_pack,
)
from brain_agent.retrieval.pack import TopKModel
from brain_agent.storage import SQLiteStore

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
KNOWLEDGE = REPO / "data" / "meta" / "index"
PRICES = REPO / "configs" / "prices.json"
IDEA = IdeaSpec(
    id="bench", title="Reversal after liquidity shocks", hypothesis="Prices overshoot and revert."
)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def synthetic_pack(n_fields: int, n_ops: int, n_subs: int, seed: int = 0) -> RetrievalPack:
    rng = random.Random(seed)
    words = [
        "price",
        "volume",
        "earnings",
        "revision",
        "analyst",
        "sentiment",
        "option",
        "implied",
        "volatility",
        "liquidity",
    ]
    subs = [
        RankedSubcategory(
            id=f"sub-{i}",
            name=f"Subcategory {i}",
            category="cat",
            score=1.0 - i / 100,
            description=" ".join(rng.choices(words, k=12)),
        )
        for i in range(n_subs)
    ]
    fields = [
        RankedField(
            id=f"fnd_{i:04d}_{rng.choice(words)}",
            type="MATRIX",
            subcategory=f"sub-{i % n_subs}",
            dataset="fundamental6",
            score=1.0 - i / 10_000,
            description=" ".join(rng.choices(words, k=rng.randint(8, 20))),
        )
        for i in range(n_fields)
    ]
    ops = [
        RankedOperator(
            name=f"ts_op_{i}",
            category="Time Series",
            signature=f"ts_op_{i}(x, d)",
            score=1.0,
            description=" ".join(rng.choices(words, k=10)),
        )
        for i in range(n_ops)
    ]
    return RetrievalPack(
        idea=IDEA,
        knowledge_pack={"digest": "synthetic"},
        default_topk=TopKModel(fields=n_fields, operators=n_ops, subcategories=n_subs),
        subcategories=subs,
        fields=fields,
        operators=ops,
    )


class ZeroProvider:
    name, model = "zero", "gpt-4o-mini"

    def complete(self, request: LLMRequest) -> LLMResponse:
        return LLMResponse(
            "```\nrank(close)\n```", Usage(uncached_input=100, output=10), 0.0, self.name, self.model
        )


def bench_gate(calls: int) -> list[dict[str, Any]]:
    pack = synthetic_pack(500, 80, 20)
    # pick the Top-K whose prompt is ~12k tokens
    topk = TopK(40, 30, 5)
    for n in range(40, 501, 10):
        topk = TopK(n, 40, 20)
        if count_tokens(SYSTEM_PROMPT + render_alpha_prompt(IDEA, pack, topk)) >= 12_000:
            break
    prompt = SYSTEM_PROMPT + render_alpha_prompt(IDEA, pack, topk)
    tokens = count_tokens(prompt)
    rows = []
    for method in ("exact", "rough"):
        with tempfile.TemporaryDirectory() as tmp:
            cfg = parse_budget_config(
                {
                    "estimator": method,
                    "max_prompt_tokens": 16_000,
                    "max_tokens_per_batch": 10**9,
                    "max_tokens_per_day": 10**9,
                    "expansion_reserve_tokens": 0,
                }
            )
            store = SQLiteStore(Path(tmp) / "bench.db")
            gate = BudgetGate.open(cfg, store, load_price_table(PRICES))
            ctx = CallContext(run_id="bench", batch_id="bench", lane="exploit", model="gpt-4o-mini")
            core: list[float] = []
            full: list[float] = []
            estimate_only: list[float] = []
            for i in range(calls):
                text = f"{prompt}\n(call {i})"  # a fresh prompt per call: no memo hits across calls
                t0 = time.perf_counter()
                decision = gate.plan(ctx, topk, lambda _k, t=text: t)
                assert decision.estimate is not None and not decision.blocked
                hold = gate.reserve(ctx, decision.estimate.tokens)
                gate.settle(
                    hold, Usage(uncached_input=decision.estimate.tokens, output=100), Decimal("0.001")
                )
                core.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                gate.estimator.estimate(f"{prompt}\n(estimate {i})", "gpt-4o-mini")
                estimate_only.append((time.perf_counter() - t0) * 1000)
                text = f"{prompt}\n(wrapped {i})"
                t0 = time.perf_counter()
                decision = gate.plan(ctx, topk, lambda _k, t=text: t)
                wrapped = BudgetedProvider(ZeroProvider(), gate, ctx)
                wrapped.complete(LLMRequest(prompt=decision.prompt or "", max_tokens=1000, seed=i))
                full.append((time.perf_counter() - t0) * 1000)
            for what, values in (
                ("estimate only", estimate_only),
                ("plan+reserve+settle", core),
                ("plan+BudgetedProvider (cache, log, events)", full),
            ):
                rows.append(
                    {
                        "estimator": method,
                        "path": what,
                        "prompt_tokens": tokens,
                        "calls": calls,
                        "p50_ms": round(statistics.median(values), 3),
                        "p99_ms": round(pct(values, 0.99), 3),
                    }
                )
    return rows


def bench_ladder(repeats: int = 5) -> list[dict[str, Any]]:
    pack = synthetic_pack(500, 80, 20)
    rows = []
    for method in ("exact", "rough"):
        with tempfile.TemporaryDirectory() as tmp:
            cfg = parse_budget_config({"estimator": method, "max_prompt_tokens": 1_000})
            gate = BudgetGate.open(cfg, SQLiteStore(Path(tmp) / "l.db"), load_price_table(PRICES))
            ctx = CallContext(run_id="b", batch_id="b", lane="exploit", model="gpt-4o-mini")
            times = []
            steps = 0
            start = TopK(500, 80, 20)
            for _ in range(repeats):
                t0 = time.perf_counter()
                d = gate.plan(ctx, start, lambda k: SYSTEM_PROMPT + render_alpha_prompt(IDEA, pack, k))
                times.append((time.perf_counter() - t0) * 1000)
                steps = len(d.outcome.steps)
            rows.append(
                {
                    "estimator": method,
                    "start_topk": "500/80/20",
                    "steps_walked": steps,
                    "chosen": d.outcome.chosen.to_dict() if d.outcome.chosen else None,
                    "p50_ms": round(statistics.median(times), 2),
                    "max_ms": round(max(times), 2),
                }
            )
    return rows


def corpora() -> dict[str, list[str]]:
    rng = random.Random(7)
    prose: list[str] = []
    for path in sorted((REPO / "docs").rglob("*.md")):
        for para in path.read_text(encoding="utf-8").split("\n\n"):
            if len(para) > 200 and not para.lstrip().startswith(("|", "```", "{")):
                prose.append(para)
    knowledge = load_knowledge_pack(KNOWLEDGE)
    for sub in knowledge.subcategories.values():
        if sub.description:
            prose.append(sub.description * 3)
    ideas = [
        IdeaSpec(
            id=f"i{i}",
            title=f"Idea {i}",
            hypothesis="momentum reversal value quality volatility",
            target_subcategories=[s],
            lane="explore" if i % 3 == 0 else "exploit",
        )
        for i, s in enumerate(sorted(knowledge.subcategories))
    ]
    packs = [build_retrieval_pack(i, knowledge) for i in ideas]
    json_docs = [p.model_dump_json(indent=2)[: rng.randint(3000, 12000)] for p in packs]
    exprs = []
    for p in packs:
        parsed = parse_prompt_pack(render_alpha_prompt(p.idea, p, p.default_topk.as_topk()))
        block = [write_expression(parsed, rng) for _ in range(6)]
        exprs.append("\n".join(e for e in block if e))
    prompts = [SYSTEM_PROMPT + render_alpha_prompt(p.idea, p, p.default_topk.as_topk()) for p in packs]
    return {
        "prose": prose,
        "expressions": [e for e in exprs if e],
        "json packs": json_docs,
        "alpha prompts": prompts,
    }


def bench_estimator() -> list[dict[str, Any]]:
    rows = []
    data = corpora()
    for kind, texts in data.items():
        rng = random.Random(1)
        texts = list(texts)
        rng.shuffle(texts)
        half = max(1, len(texts) // 2)
        train, test = texts[:half], texts[half:] or texts
        est = TokenEstimator("rough", safety_margin=0.0)
        for t in train:
            est.observe(t, "unknown-model", count_tokens(t))
        errors: dict[str, list[float]] = {"chars/4": [], "rough": [], "rough calibrated": []}
        for t in test:
            exact = count_tokens(t)
            errors["chars/4"].append((len(t) / 4 - exact) / exact)
            errors["rough"].append((rough_tokens(t) - exact) / exact)
            errors["rough calibrated"].append((est.estimate(t, "unknown-model").tokens - exact) / exact)
        for name, errs in errors.items():
            rows.append(
                {
                    "corpus": kind,
                    "texts": len(test),
                    "estimator": name,
                    "median_bias_pct": round(100 * statistics.median(errs), 2),
                    "median_abs_err_pct": round(100 * statistics.median(abs(e) for e in errs), 2),
                    "p90_abs_err_pct": round(100 * pct([abs(e) for e in errs], 0.9), 2),
                }
            )
    return rows


def table(title: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n## {title}")
    if not rows:
        return
    cols = list(rows[0])
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in cols]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
    for r in rows:
        print("  ".join(str(r[c]).ljust(w) for c, w in zip(cols, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    result = {
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "gate_overhead": bench_gate(args.calls),
        "ladder_500_fields": bench_ladder(),
        "estimator_error": bench_estimator(),
    }
    table("gate overhead per call (SQLite, WAL)", result["gate_overhead"])
    table("ladder on a 500-field pack (full walk)", result["ladder_500_fields"])
    table("estimator error vs exact o200k", result["estimator_error"])
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "budget.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
