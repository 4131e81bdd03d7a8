"""Does the mock model find the synthetic market's planted effects? And is its invalid share what it says?

    .venv/bin/python benchmarks/bench_mock.py [--batches 20] [--ideas 10] [--invalid-share 0.15]

Runs demo-like batches (the demo's budget file, ``--generate N --seed S``, local simulator), one fresh
store per seed, with the mock as it is ("new") and with a stand-in for the mock before it read the idea
("old": the same provider answering with ``write_expression``, a free composition of the prompt's pack).
Per batch it takes each lane's best Sharpe; prints medians and how often exploit beat explore and the
old mock, and writes benchmarks/results/mock.json. Then it asks the mock for 2,000 alphas and counts the
invalid answers against the configured share.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from brain_agent.agents.batch import BatchOptions, run_batch
from brain_agent.cli.budget import load_budget
from brain_agent.expression import check
from brain_agent.generation.prompt import SYSTEM_PROMPT, render_alpha_prompt
from brain_agent.ideas import generate_ideas
from brain_agent.knowledge import load_knowledge_pack
from brain_agent.llm.base import LLMRequest
from brain_agent.llm.providers.mock import MockProvider, _invalid_alpha, write_expression
from brain_agent.llm.providers.prompt_pack import parse_prompt_pack
from brain_agent.retrieval import build_retrieval_pack
from brain_agent.settings import default_configs_dir, default_knowledge_pack_dir
from brain_agent.simulation.backend import SimulationSettings
from brain_agent.simulation.factory import close_backend, make_backend
from brain_agent.simulation.runner import simulate_candidates
from brain_agent.storage import SQLiteStore
from brain_agent.storage.run_queries import run_candidates
from brain_agent.telemetry.alpha_yield import outcome_of

RESULTS = Path(__file__).resolve().parent / "results"


class OldMock(MockProvider):
    """The mock before it read the idea: a free composition of the pack, whatever the idea says."""

    def _alpha(self, prompt: str, rng: random.Random, invalid: bool) -> str:
        pack = parse_prompt_pack(prompt)
        expression = write_expression(pack, rng)
        if invalid or expression is None:
            return _invalid_alpha(pack, rng, expression)
        return f"```\n{expression}\n```\nRationale: a combination of the listed fields."


def one_batch(provider: MockProvider, seed: int, ideas: int, workdir: Path) -> dict[str, Any]:
    knowledge = load_knowledge_pack(default_knowledge_pack_dir())
    config, prices, _ = load_budget(default_configs_dir() / "demo_budget.json", model=provider.model)
    db = workdir / f"{type(provider).__name__}-{seed}.db"
    store = SQLiteStore(db)
    backend = make_backend("local", db_path=db, knowledge_pack=knowledge)
    settings = SimulationSettings()
    try:
        report = run_batch(
            store,
            generate_ideas(ideas, knowledge, seed=seed, explore_share=config.explore_ratio),
            BatchOptions(
                config=config,
                prices=prices,
                knowledge_pack=knowledge,
                provider=provider,
                seed=seed,
                simulate=lambda cands: simulate_candidates(store, cands, backend, settings),
            ),
        )
    except ValueError as exc:  # the local simulator's NaN-PnL crash on overflowing alphas (reported)
        return {
            "seed": seed,
            "crashed": str(exc),
            "candidates": 0,
            "valid": 0,
            "best": {},
            "best_expression": {},
        }
    finally:
        close_backend(backend)
    best: dict[str, float | None] = {"exploit": None, "explore": None}
    expressions: dict[str, str | None] = {"exploit": None, "explore": None}
    for cand in run_candidates(store, report.run_id):
        o = outcome_of(cand, cand["simulation"])
        current = best.get(o.lane)
        if o.sharpe is not None and (current is None or o.sharpe > current):
            best[o.lane], expressions[o.lane] = o.sharpe, o.expression
    return {
        "seed": seed,
        "candidates": report.candidates,
        "valid": report.valid,
        "best": best,
        "best_expression": expressions,
    }


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 3) if present else None


def invalid_share(share: float, n: int) -> dict[str, Any]:
    """Ask the mock ``n`` times (different ideas and seeds) and count answers the validator rejects."""
    knowledge = load_knowledge_pack(default_knowledge_pack_dir())
    ideas = generate_ideas(40, knowledge, seed=0)
    packs = [(idea, build_retrieval_pack(idea, knowledge)) for idea in ideas]
    bad = 0
    for i in range(n):
        idea, pack = packs[i % len(packs)]
        prompt = render_alpha_prompt(idea, pack, pack.default_topk.as_topk())
        text = (
            MockProvider(seed=i, invalid_share=share)
            .complete(LLMRequest(prompt=prompt, system=SYSTEM_PROMPT, purpose="alpha"))
            .text
        )
        parts = text.split("```")
        if len(parts) < 3 or not check(parts[1].strip(), knowledge).ok:
            bad += 1
    return {"configured": share, "answers": n, "invalid": bad, "observed": round(bad / n, 4)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--ideas", type=int, default=10)
    parser.add_argument("--invalid-share", type=float, default=0.15)
    parser.add_argument("--answers", type=int, default=2000)
    args = parser.parse_args()
    started = time.perf_counter()
    rows: dict[str, list[dict[str, Any]]] = {"new": [], "old": []}
    with tempfile.TemporaryDirectory(prefix="bench-mock-") as tmp:
        for seed in range(1, args.batches + 1):
            for name, cls in (("new", MockProvider), ("old", OldMock)):
                provider = cls(seed=seed, invalid_share=args.invalid_share)
                rows[name].append(one_batch(provider, seed, args.ideas, Path(tmp)))
    summary: dict[str, Any] = {}
    for name, all_batches in rows.items():
        batches = [b for b in all_batches if "crashed" not in b]
        overall = [max((v for v in b["best"].values() if v is not None), default=None) for b in batches]
        summary[name] = {
            "median_best_sharpe_exploit": _median([b["best"]["exploit"] for b in batches]),
            "median_best_sharpe_explore": _median([b["best"]["explore"] for b in batches]),
            "median_best_sharpe_batch": _median(overall),
            "crashed": len(all_batches) - len(batches),
            "valid_share": round(
                sum(b["valid"] for b in batches) / max(1, sum(b["candidates"] for b in batches)), 3
            ),
        }
    pairs = [
        (n, o)
        for n, o in zip(rows["new"], rows["old"], strict=True)
        if "crashed" not in n and "crashed" not in o
    ]
    new = [n for n, _ in pairs]

    def beats(a: float | None, b: float | None) -> bool:
        return a is not None and (b is None or a > b)

    wins = {
        "exploit_beats_explore": sum(beats(b["best"]["exploit"], b["best"]["explore"]) for b in new),
        "exploit_beats_old_mock_batch_best": sum(
            beats(n["best"]["exploit"], max((v for v in o["best"].values() if v is not None), default=None))
            for n, o in pairs
        ),
        "batches": len(new),
    }
    shares = [invalid_share(s, args.answers) for s in (0.0, args.invalid_share, 0.5)]
    print(
        f"{args.batches} demo-like batches ({args.ideas} ideas, demo budget, local simulator): "
        "median best Sharpe"
    )
    print(f"{'mock':<5} {'exploit':>8} {'explore':>8} {'batch':>8} {'valid':>6} {'crashed':>8}")
    for name, s in summary.items():
        print(
            f"{name:<5} {s['median_best_sharpe_exploit']!s:>8} {s['median_best_sharpe_explore']!s:>8} "
            f"{s['median_best_sharpe_batch']!s:>8} {s['valid_share']:>6} {s['crashed']:>8}"
        )
    print(
        f"exploit beat explore in {wins['exploit_beats_explore']}/{wins['batches']} batches; "
        f"beat the old mock's best in {wins['exploit_beats_old_mock_batch_best']}/{wins['batches']}"
    )
    print("invalid answers: configured → observed")
    for s in shares:
        print(f"  {s['configured']:.2f} → {s['observed']:.4f} ({s['invalid']}/{s['answers']})")
    RESULTS.mkdir(exist_ok=True)
    out = {
        "batches": args.batches,
        "ideas": args.ideas,
        "invalid_share": args.invalid_share,
        "summary": summary,
        "wins": wins,
        "invalid_shares": shares,
        "per_batch": rows,
        "seconds": round(time.perf_counter() - started, 1),
        "python": platform.python_version(),
    }
    (RESULTS / "mock.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"→ {RESULTS / 'mock.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
