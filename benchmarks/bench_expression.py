"""Parse + validate throughput of the Fast Expression front end (expressions per second).

    .venv/bin/python benchmarks/bench_expression.py [--repeats 7] [--copies 200]

Runs a set of typical alphas (about six distinct operators each) ``--copies`` times per round,
``--repeats`` rounds, and reports the median rate for parse only, validate only (on parsed programs)
and both (``check``). Rates are by process CPU time, so other work on a shared machine does not
skew them; the wall-clock median is printed and stored too.
Uses the shipped knowledge pack when ``data/meta/index`` exists, else a small built-in one. Writes
``benchmarks/results/expression.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from brain_agent.expression import Program, check, parse, validate
from brain_agent.knowledge import KnowledgePack, load_knowledge_pack

ROOT = Path(__file__).resolve().parents[1]
PACK_DIR = ROOT / "data" / "meta" / "index"
RESULT = ROOT / "benchmarks" / "results" / "expression.json"

TYPICAL = [
    "rank(ts_delta(close, 5)) * -1 + ts_mean(volume, 20) / adv20",
    "group_neutralize(rank(ts_zscore(returns, 60)), industry) - ts_mean(returns, 5)",
    "Event = volume > adv20; alpha = -ts_delta(close, 3); if_else(Event, rank(alpha), ts_rank(alpha, 10))",
    'group_neutralize(rank(close / vwap), bucket(rank(cap), range="0.1,1,0.1")) * abs(returns)',
    "ts_decay_linear(rank(ts_corr(close, volume, 20)), 10) + winsorize(ts_zscore(cap, 120), std=4)",
    "is_nan(ts_zscore(etz_eps, 252)) ? ts_zscore(est_eps, 252) : ts_zscore(etz_eps, 252) * rank(cap)",
    "trade_when(volume >= ts_mean(volume, 5), rank(-returns), abs(returns) > 0.1) * sign(close - open)",
    "ts_backfill(rank(ts_std_dev(returns, 20)), lookback = 20, k=1) / (1 + ts_sum(volume, 10))",
]


def _fallback_pack() -> KnowledgePack:
    """A pack with just what TYPICAL uses, for running before data/meta/index exists."""
    x, y, d = ({"name": n, "kind": k} for n, k in (("x", "expr"), ("y", "expr"), ("d", "lookback")))

    def op(name: str, args: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        return {"name": name, "category": "c", "args": args, "description": name, **extra}

    ops = [
        op(n, [x, y], infix=s)
        for n, s in (
            ("add", "+"),
            ("subtract", "-"),
            ("multiply", "*"),
            ("divide", "/"),
            ("greater", ">"),
            ("greater_equal", ">="),
        )
    ]
    ops += [op(n, [x]) for n in ("rank", "abs", "sign", "is_nan")]
    ops += [
        op(n, [x, d])
        for n in ("ts_delta", "ts_mean", "ts_zscore", "ts_rank", "ts_decay_linear", "ts_std_dev", "ts_sum")
    ]
    ops += [
        op("ts_corr", [x, y, d]),
        op("if_else", [x, y, {"name": "z", "kind": "expr"}]),
        op("trade_when", [x, y, {"name": "z", "kind": "expr"}]),
        op("group_neutralize", [x, {"name": "group", "kind": "group"}]),
        op("bucket", [x, {"name": "range", "kind": "string", "optional": True}], returns="group"),
        op("winsorize", [x, {"name": "std", "kind": "number", "optional": True, "default": 4}]),
        op(
            "ts_backfill",
            [
                x,
                {"name": "lookback", "kind": "lookback"},
                {"name": "k", "kind": "int", "optional": True, "default": 1},
            ],
        ),
    ]
    names = ["close", "open", "volume", "adv20", "returns", "vwap", "cap", "etz_eps", "est_eps"]
    fields = [
        {
            "id": n,
            "description": n,
            "dataset": "pv1",
            "category": "pv",
            "subcategory": "pv",
            "type": "MATRIX",
            "coverage": 1.0,
        }
        for n in names
    ]
    fields.append(
        {
            "id": "industry",
            "description": "industry",
            "dataset": "pv1",
            "category": "pv",
            "subcategory": "pv",
            "type": "GROUP",
            "coverage": 1.0,
        }
    )
    directory = Path(tempfile.mkdtemp(prefix="bench-pack-"))
    for name, items in (
        ("operators", ops),
        ("fields", fields),
        ("subcategories", [{"id": "pv", "name": "pv", "category": "pv"}]),
    ):
        (directory / f"{name}.json").write_text(json.dumps({"version": "bench", "items": items}))
    return load_knowledge_pack(directory)


def _rate(work: Callable[[], None], count: int, repeats: int) -> dict[str, float]:
    """Expressions per second over ``repeats`` rounds, by process CPU time (the figure that stays
    meaningful on a shared machine) and by wall time."""
    cpu: list[float] = []
    wall: list[float] = []
    for _ in range(repeats):
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        work()
        cpu.append(count / max(time.process_time() - cpu_start, 1e-9))
        wall.append(count / (time.perf_counter() - wall_start))
    return {
        "median": statistics.median(cpu),
        "min": min(cpu),
        "max": max(cpu),
        "wall_median": statistics.median(wall),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--copies", type=int, default=200, help="passes over the expression set per round")
    parser.add_argument("--output", type=Path, default=RESULT)
    args = parser.parse_args(argv)

    shipped = (PACK_DIR / "operators.json").is_file()
    pack = load_knowledge_pack(PACK_DIR) if shipped else _fallback_pack()
    sources = TYPICAL * args.copies
    for source in TYPICAL:  # the set must be valid, or "validate" would time the error path
        result = check(source, pack)
        if not result.ok:
            print(f"not valid against the pack: {source}\n  {result.diagnostics[0]}", file=sys.stderr)
            return 1
    programs: list[Program] = [parse(s) for s in sources]

    def parse_all() -> None:
        for source in sources:
            parse(source)

    def validate_all() -> None:
        for program in programs:
            validate(program, pack)

    def both() -> None:
        for source in sources:
            check(source, pack)

    count = len(sources)
    results = {
        "parse": _rate(parse_all, count, args.repeats),
        "validate": _rate(validate_all, count, args.repeats),
        "parse+validate": _rate(both, count, args.repeats),
    }
    operators = statistics.mean(len(r.operators_used) for r in (check(s, pack) for s in TYPICAL))
    print(f"{count} expressions x {args.repeats} rounds, pack: {'shipped' if shipped else 'built-in'}")
    print(f"{'stage':<16}{'median expr/s':>15}{'min':>10}{'max':>10}{'wall median':>13}   (CPU time)")
    for stage, rate in results.items():
        print(
            f"{stage:<16}{rate['median']:>15,.0f}{rate['min']:>10,.0f}{rate['max']:>10,.0f}"
            f"{rate['wall_median']:>13,.0f}"
        )
    report = {
        "benchmark": "expression",
        "expressions_per_round": count,
        "distinct_expressions": len(TYPICAL),
        "mean_distinct_operators": operators,
        "repeats": args.repeats,
        "pack": "shipped" if shipped else "built-in",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "rates_per_second": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
