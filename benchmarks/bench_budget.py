"""Budget layer benchmarks: gate overhead per call, ladder time on a 500-field pack, estimator error.

    .venv/bin/python benchmarks/bench_budget.py [--calls 300] [--runs 3]
    .venv/bin/python benchmarks/bench_budget.py --fit   # refit generation/budget/rough_table.py

Prints tables and writes benchmarks/results/budget.json. Targets: gate p50 ≤ 2 ms for a 12k-token
prompt; calibrated rough-estimator median error ≤ 3 %.

"before" rows run the pre-chunking code paths side by side with "after" in the same loop (same
load): :class:`WholeTextEstimator` counts whole prompts (exact) or runs the old rough estimator
(:func:`legacy_rough_tokens`, copied verbatim). Estimator corpora are split once, by a fixed seed,
into a *fit* half (used to fit the rough table with ``--fit`` and to learn calibration factors)
and a *held-out* half (only measured).
"""

from __future__ import annotations

import argparse
import collections
import importlib
import inspect
import json
import math
import os
import platform
import random
import re
import statistics
import tempfile
import time
from collections.abc import Callable
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
from brain_agent.generation.budget.tokens import (
    _PIECE,
    _WORD_CAP,
    CalibrationState,
    _piece_milli,
    rough_shape,
)
from brain_agent.generation.prompt import SYSTEM_PROMPT, render_alpha_prompt
from brain_agent.ideas import IdeaSpec
from brain_agent.knowledge import load_knowledge_pack
from brain_agent.llm.base import LLMRequest, LLMResponse, Usage
from brain_agent.llm.providers.mock import write_expression
from brain_agent.llm.providers.prompt_pack import parse_prompt_pack
from brain_agent.llm.tokenizer import count_tokens, encoding_for_model, get_encoding
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
from brain_agent.storage.heartbeat import Heartbeats

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


# -- "before": the pre-chunking estimator, for side-by-side rows ----------------------------------
_LEGACY_PIECE = re.compile(
    r"(?P<word>_?[A-Za-z]+)|(?P<num>[0-9]+)|(?P<nl>\s*\n)|(?P<ws>[ \t]+)|(?P<punct>[^\sA-Za-z0-9]+)"
)


def legacy_rough_tokens(text: str) -> int:
    """The rough estimator as it was before the shape table (verbatim), for "before" rows."""
    if not text:
        return 0
    total = 0.0
    for match in _LEGACY_PIECE.finditer(text):
        kind = match.lastgroup
        n = match.end() - match.start()
        if kind == "word":
            total += 1.0 + 0.2 * max(0, n - 8)
        elif kind == "num":
            total += 1.4 * -(-n // 3)
        elif kind == "nl":
            total += 1.2
        elif kind == "ws":
            total += 0.1 if n > 1 else 0.0
        else:
            total += 0.7 + 0.35 * (n - 1)
    return max(1, round(total))


class WholeTextEstimator(TokenEstimator):
    """The estimator before this change: whole-text BPE counts, the legacy rough formula (the
    whole-prompt memo shared by the gate and the wrapper was already there)."""

    def _count(self, text: str, model: str) -> tuple[int, bool]:
        if self.method == "rough":
            return legacy_rough_tokens(text), False
        encoding, exact = encoding_for_model(model)
        return count_tokens(text, encoding), exact


class ZeroProvider:
    name, model = "zero", "gpt-4o-mini"

    def complete(self, request: LLMRequest) -> LLMResponse:
        return LLMResponse(
            "```\nrank(close)\n```", Usage(uncached_input=100, output=10), 0.0, self.name, self.model
        )


def _gate(tmp: str, name: str, method: str, estimator: TokenEstimator, **cfg: Any) -> BudgetGate:
    config = parse_budget_config({"estimator": method, **cfg})
    store = SQLiteStore(Path(tmp) / f"{name}.db")
    gate = BudgetGate.open(config, store, load_price_table(PRICES))
    gate.estimator = estimator
    return gate


def _row(method: str, version: str, what: str, tokens: int, values: list[float]) -> dict[str, Any]:
    return {
        "estimator": method,
        "version": version,
        "path": what,
        "prompt_tokens": tokens,
        "calls": len(values),
        "p50_ms": round(statistics.median(values), 3),
        "p99_ms": round(pct(values, 0.99), 3),
    }


def bench_gate(calls: int) -> list[dict[str, Any]]:
    """Per call: ``plan`` (estimate + snapshot check + ladder) → ``reserve`` → ``settle`` on a real
    SQLite file. Each call's prompt differs from every earlier one in its last line (as successive
    ideas' prompts share the pack lines), so the whole-prompt memo never hits. "after, cold" clears
    the line memo before every call (the first prompt of a process); "after" keeps it (steady state).
    All variants run interleaved in one loop, so they see the same machine load."""
    pack = synthetic_pack(500, 80, 20)
    topk = TopK(40, 30, 5)
    for n in range(40, 501, 10):  # pick the Top-K whose prompt is ~12k tokens
        topk = TopK(n, 40, 20)
        if count_tokens(SYSTEM_PROMPT + render_alpha_prompt(IDEA, pack, topk)) >= 12_000:
            break
    prompt = SYSTEM_PROMPT + render_alpha_prompt(IDEA, pack, topk)
    tokens = count_tokens(prompt)
    ctx = CallContext(
        run_id="bench", batch_id="bench", lane="exploit", model="gpt-4o-mini", trusted_usage=True
    )
    caps = {
        "max_prompt_tokens": 16_000,
        "max_tokens_per_batch": 10**9,
        "max_tokens_per_day": 10**9,
        "max_tokens_per_week": None,
        "max_cost_per_day": None,
        "max_cost_per_week": None,
        "expansion_reserve_tokens": 0,
    }
    rows: list[dict[str, Any]] = []
    for method in ("exact", "rough"):
        with tempfile.TemporaryDirectory() as tmp:
            m = "exact" if method == "exact" else "rough"
            variants: dict[str, tuple[BudgetGate, bool]] = {
                "before": (_gate(tmp, "b", method, WholeTextEstimator(m, None, 0.05), **caps), False),
                "after, cold": (_gate(tmp, "c", method, TokenEstimator(m, None, 0.05), **caps), True),
                "after": (_gate(tmp, "a", method, TokenEstimator(m, None, 0.05), **caps), False),
            }
            core: dict[str, list[float]] = {v: [] for v in variants}
            full: dict[str, list[float]] = {v: [] for v in variants}
            est_only: dict[str, list[float]] = {v: [] for v in variants}
            parts: dict[str, list[float]] = {
                "estimate": [],
                "snapshot+check": [],
                "reserve": [],
                "settle": [],
                "heartbeat register+unregister": [],
                "single-flight claim+finish": [],
            }
            for i in range(calls):
                for version, (gate, cold) in variants.items():
                    estimator = gate.estimator
                    text = f"{prompt}(call {i} {version})\n"
                    if cold:
                        _clear_line_memo(estimator)
                    t0 = time.perf_counter()
                    decision = gate.plan(ctx, topk, lambda _k, t=text: t)
                    assert decision.estimate is not None and not decision.blocked
                    t1 = time.perf_counter()
                    hold = gate.reserve(ctx, decision.estimate.tokens)
                    t2 = time.perf_counter()
                    gate.settle(
                        hold, Usage(uncached_input=decision.estimate.tokens, output=100), Decimal("0.001")
                    )
                    t3 = time.perf_counter()
                    core[version].append((t3 - t0) * 1000)
                    if version == "after":
                        parts["reserve"].append((t2 - t1) * 1000)
                        parts["settle"].append((t3 - t2) * 1000)
                        keeper = Heartbeats.for_store(gate.store)
                        t0 = time.perf_counter()
                        with keeper.hold(hold.reservation_id, gate.config.lease_seconds):
                            pass
                        parts["heartbeat register+unregister"].append((time.perf_counter() - t0) * 1000)
                        t0 = time.perf_counter()
                        gate.ledger.claim_flight(f"k{i}", now=time.time(), lease_seconds=300)
                        gate.ledger.finish_flight(f"k{i}")
                        parts["single-flight claim+finish"].append((time.perf_counter() - t0) * 1000)
                        fresh = f"{prompt}(estimate {i})\n"
                        t0 = time.perf_counter()
                        estimator.estimate(fresh, "gpt-4o-mini")
                        parts["estimate"].append((time.perf_counter() - t0) * 1000)
                        t0 = time.perf_counter()
                        gate.plan(ctx, topk, lambda _k, t=fresh: t)  # estimate memoised: the check
                        parts["snapshot+check"].append((time.perf_counter() - t0) * 1000)
                    if cold:
                        _clear_line_memo(estimator)
                    fresh = f"{prompt}(estimate only {i} {version})\n"
                    t0 = time.perf_counter()
                    estimator.estimate(fresh, "gpt-4o-mini")
                    est_only[version].append((time.perf_counter() - t0) * 1000)
                    if cold:
                        _clear_line_memo(estimator)
                    text = f"{prompt}(wrapped {i} {version})\n"
                    t0 = time.perf_counter()
                    decision = gate.plan(ctx, topk, lambda _k, t=text: t)
                    wrapped = BudgetedProvider(ZeroProvider(), gate, ctx)
                    wrapped.complete(LLMRequest(prompt=decision.prompt or "", max_tokens=1000, seed=i))
                    full[version].append((time.perf_counter() - t0) * 1000)
            for version in variants:
                rows.append(_row(method, version, "estimate only", tokens, est_only[version]))
                rows.append(_row(method, version, "plan+reserve+settle", tokens, core[version]))
                rows.append(
                    _row(
                        method,
                        version,
                        "plan+gated call (cache, flight, heartbeat, reserve, settle, log, events)",
                        tokens,
                        full[version],
                    )
                )
            if method == "exact":
                for what, values in parts.items():
                    rows.append(_row(method, "after", f"  part: {what}", tokens, values))
    return rows


def _clear_line_memo(estimator: TokenEstimator) -> None:
    for counter in estimator._counters.values():
        counter.clear()
    estimator._rough_chunk.cache_clear()
    _piece_milli.cache_clear()


def bench_ladder(repeats: int = 7) -> list[dict[str, Any]]:
    """A full ladder walk from 500/80/20 (every step re-renders and re-estimates the prompt); a new
    idea id per walk, so no whole prompt repeats. "after" keeps its line memo between walks."""
    pack = synthetic_pack(500, 80, 20)
    rows = []
    ctx = CallContext(run_id="b", batch_id="b", lane="exploit", model="gpt-4o-mini")
    for method in ("exact", "rough"):
        m = "exact" if method == "exact" else "rough"
        with tempfile.TemporaryDirectory() as tmp:
            variants = {
                "before": _gate(tmp, "b", method, WholeTextEstimator(m), max_prompt_tokens=1_000),
                "after": _gate(tmp, "a", method, TokenEstimator(m), max_prompt_tokens=1_000),
            }
            times: dict[str, list[float]] = {v: [] for v in variants}
            chosen: dict[str, Any] = {}
            start = TopK(500, 80, 20)
            for i in range(repeats):
                idea = IdeaSpec(id=f"walk-{i}", title=IDEA.title, hypothesis=IDEA.hypothesis)
                for version, gate in variants.items():
                    t0 = time.perf_counter()
                    d = gate.plan(
                        ctx, start, lambda k, idea=idea: SYSTEM_PROMPT + render_alpha_prompt(idea, pack, k)
                    )
                    times[version].append((time.perf_counter() - t0) * 1000)
                    chosen[version] = (len(d.outcome.steps), d.outcome.chosen)
            for version, values in times.items():
                steps, topk = chosen[version]
                rows.append(
                    {
                        "estimator": method,
                        "version": version,
                        "start_topk": "500/80/20",
                        "steps_walked": steps,
                        "chosen": topk.to_dict() if topk else None,
                        "p50_ms": round(statistics.median(values), 2),
                        "max_ms": round(max(values), 2),
                    }
                )
    return rows


# Standard-library modules whose docstrings give a larger, varied English prose sample (fixed for a
# given Python version; the machine block of the results records it).
STDLIB_MODULES = (  # noqa: SIM905
    "argparse asyncio calendar collections concurrent.futures configparser contextlib csv "
    "dataclasses datetime decimal difflib email.message enum fractions ftplib functools gettext gzip "
    "hashlib heapq hmac http.client http.cookiejar imaplib inspect io ipaddress itertools json "
    "locale logging mailbox multiprocessing optparse os pathlib pickle pprint queue random re sched "
    "secrets selectors shelve shutil smtplib socket socketserver sqlite3 ssl statistics string "
    "subprocess tarfile tempfile textwrap threading timeit trace traceback typing unittest "
    "urllib.parse urllib.request uuid warnings weakref xml.dom.minidom zipfile zoneinfo"
).split()


def stdlib_prose() -> list[str]:
    """Prose paragraphs (≥ 200 characters, ≥ 85 % letters and spaces, no code or lists) from the
    docstrings of :data:`STDLIB_MODULES` and their public members."""
    seen: set[str] = set()
    out: list[str] = []
    for name in STDLIB_MODULES:
        module = importlib.import_module(name)
        for obj in [module, *(getattr(module, a) for a in sorted(dir(module)) if not a.startswith("_"))]:
            doc = inspect.getdoc(obj) or ""
            for para in (p.strip() for p in doc.split("\n\n")):
                if len(para) < 200 or para in seen:
                    continue
                if any(line.startswith((" ", ">>>", "-", "*", "|", ".. ")) for line in para.split("\n")):
                    continue
                if sum(ch.isalpha() or ch == " " for ch in para) < 0.85 * len(para):
                    continue
                seen.add(para)
                out.append(para)
    return out


def corpora() -> dict[str, list[str]]:
    """Texts by content class. "prose" is the old 67-text sample (repo docs paragraphs and pack
    subcategory descriptions); "prose: stdlib" adds 383 docstring paragraphs."""
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
        "prose: stdlib": stdlib_prose(),
        "expressions": [e for e in exprs if e],
        "json packs": json_docs,
        "alpha prompts": prompts,
    }


def split_corpora() -> dict[str, tuple[list[str], list[str]]]:
    """Each corpus shuffled with a fixed seed and cut in two: (fit half, held-out half)."""
    out = {}
    for kind, texts in corpora().items():
        shuffled = list(texts)
        random.Random(1).shuffle(shuffled)
        half = max(1, len(shuffled) // 2)
        out[kind] = (shuffled[:half], shuffled[half:] or shuffled)
    docs, stdlib = out["prose"], out["prose: stdlib"]
    out["prose: all"] = (docs[0] + stdlib[0], docs[1] + stdlib[1])
    return out


def fit_halves(data: dict[str, tuple[list[str], list[str]]]) -> list[str]:
    """Every fit-half text once ("prose: all" repeats the two prose corpora)."""
    return [t for kind, (fit, _) in data.items() if kind != "prose: all" for t in fit]


def fit_rough_table(fit_texts: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """Mean o200k tokens per piece shape (milli-tokens) and, per word/punctuation family, the mean
    extra per character past the length cap. Shapes seen fewer than 5 times are left out (the
    estimator prices them 1 token)."""
    enc = get_encoding()
    total: dict[str, int] = collections.Counter()
    seen: dict[str, int] = collections.Counter()
    extra_tokens: dict[str, float] = collections.Counter()
    extra_chars: dict[str, int] = collections.Counter()
    for text in fit_texts:
        for match in _PIECE.finditer(text):
            piece = match.group()
            key, extra = rough_shape(piece)
            n = len(enc.encode_ordinary(piece))
            if extra:
                family = key[:3]
                extra_tokens[family] += n
                extra_chars[family] += extra
                seen[family + "#"] += 1
            else:
                total[key] += n
                seen[key] += 1
    weights = {k: round(1000 * total[k] / seen[k]) for k in sorted(total) if seen[k] >= 5}
    slopes = {}
    for family in sorted(extra_chars):
        at_cap = weights.get(f"{family}{_WORD_CAP}")  # words only; punctuation keeps the fallback
        if seen[family + "#"] >= 5 and at_cap is not None:
            per_char = (1000 * extra_tokens[family] - at_cap * seen[family + "#"]) / extra_chars[family]
            slopes[family] = max(0, round(per_char))
    return weights, slopes


def write_rough_table(weights: dict[str, int], slopes: dict[str, int]) -> Path:
    path = REPO / "src" / "brain_agent" / "generation" / "budget" / "rough_table.py"
    lines = [
        '"""Prices of :func:`~brain_agent.generation.budget.tokens.rough_tokens` piece shapes, in',
        "thousandths of a token: the mean ``o200k_base`` count per shape on the *fit* half of the",
        "benchmark corpora. Generated by ``benchmarks/bench_budget.py --fit``; do not edit by hand.",
        "",
        "Keys: ``w`` word + prefix (``s`` space, ``p`` symbol, ``n`` none) + case (``l`` lower, ``c``",
        "capitalised, ``u`` upper/mixed, ``x`` non-ASCII) + letters (capped at 12); ``d`` digit group;",
        "``p`` punctuation + leading space (``s``/``n``) + length (capped at 6) + ``n`` trailing newline",
        "+ ``x`` non-ASCII; ``l`` newline run; ``s`` space run. ``SLOPES``: per character past the cap.",
        '"""',
        "",
        "WEIGHTS: dict[str, int] = {",
        *(f'    "{k}": {v},' for k, v in weights.items()),
        "}",
        "SLOPES: dict[str, int] = {",
        *(f'    "{k}": {v},' for k, v in slopes.items()),
        "}",
        "FALLBACK_SLOPE = 250",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


Estimator = Callable[[str], float]


def bench_estimator() -> list[dict[str, Any]]:
    """Median |error| vs exact o200k on the fit and held-out halves. Calibration factors are learned
    on fit halves only (the estimator's own running mean in log space, no margin): "per class" from
    the same corpus, "one factor" from all corpora pooled (one model sees mixed content)."""
    data = split_corpora()
    estimators: dict[str, Estimate_] = {
        "chars/4": (lambda t: len(t) / 4, False),
        "rough before": (legacy_rough_tokens, False),
        "rough before, calibrated per class": (legacy_rough_tokens, True),
        "rough after": (rough_tokens, False),
        "rough after, calibrated per class": (rough_tokens, True),
        "rough after, one factor": (rough_tokens, None),
    }
    exact = {t: count_tokens(t) for fit, test in data.values() for t in (*fit, *test)}

    def factor(fn: Estimator, texts: list[str]) -> float:
        state = CalibrationState("m", "rough")
        for t in texts:
            state = state.update(max(1, round(fn(t))), exact[t], max_samples=10**9)
        return state.factor

    pooled = fit_halves(data)
    one_factor = {name: factor(fn, pooled) for name, (fn, cal) in estimators.items() if cal is None}
    rows = []
    for kind, (fit, test) in data.items():
        for name, (fn, cal) in estimators.items():
            f = 1.0 if cal is False else (factor(fn, fit) if cal else one_factor[name])

            def errors(texts: list[str], fn: Estimator = fn, f: float = f) -> list[float]:
                return [(math.ceil(round(fn(t)) * f) - exact[t]) / exact[t] for t in texts]

            fit_err, test_err = errors(fit), errors(test)
            rows.append(
                {
                    "corpus": kind,
                    "texts fit/held-out": f"{len(fit)}/{len(test)}",
                    "estimator": name,
                    "fit_med_abs_err_pct": round(100 * statistics.median(abs(e) for e in fit_err), 2),
                    "heldout_med_abs_err_pct": round(100 * statistics.median(abs(e) for e in test_err), 2),
                    "heldout_bias_pct": round(100 * statistics.median(test_err), 2),
                    "heldout_p90_abs_err_pct": round(100 * pct([abs(e) for e in test_err], 0.9), 2),
                }
            )
    return rows


Estimate_ = tuple[Estimator, bool | None]


def table(title: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n## {title}")
    if not rows:
        return
    cols = list(rows[0])
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in cols]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
    for r in rows:
        print("  ".join(str(r[c]).ljust(w) for c, w in zip(cols, widths, strict=True)))


def median_of_runs(runs: list[list[dict[str, Any]]], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows of the first run with each timing replaced by the median over runs (the per-run values
    kept in ``*_runs``): on a shared 2-core machine one run's p50 moves with the load."""
    out = []
    for i, row in enumerate(runs[0]):
        merged = dict(row)
        for key in keys:
            values = [run[i][key] for run in runs]
            merged[key] = round(statistics.median(values), 3)
            merged[f"{key}_runs"] = values
        out.append(merged)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3, help="repeat the timed sections, report medians")
    parser.add_argument("--fit", action="store_true", help="refit rough_table.py on the fit halves")
    args = parser.parse_args()
    if args.fit:
        weights, slopes = fit_rough_table(fit_halves(split_corpora()))
        print(f"wrote {write_rough_table(weights, slopes)} ({len(weights)} shapes, {len(slopes)} slopes)")
        return
    gate_runs = [bench_gate(args.calls) for _ in range(args.runs)]
    ladder_runs = [bench_ladder() for _ in range(args.runs)]
    result = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_avg_1m": round(os.getloadavg()[0], 2),
            "runs": args.runs,
        },
        "gate_overhead": median_of_runs(gate_runs, ("p50_ms", "p99_ms")),
        "ladder_500_fields": median_of_runs(ladder_runs, ("p50_ms", "max_ms")),
        "estimator_error": bench_estimator(),
    }
    short = [{k: v for k, v in r.items() if not k.endswith("_runs")} for r in result["gate_overhead"]]
    table(f"gate overhead per call (SQLite, WAL; median of {args.runs} runs)", short)
    short = [{k: v for k, v in r.items() if not k.endswith("_runs")} for r in result["ladder_500_fields"]]
    table(f"ladder on a 500-field pack (full walk; median of {args.runs} runs)", short)
    table("estimator error vs exact o200k", result["estimator_error"])
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "budget.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
