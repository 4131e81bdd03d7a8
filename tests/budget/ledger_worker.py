"""A worker process for the multi-process ledger tests (run as a script, never imported by pytest).

usage: ledger_worker.py DB MODE WORKER_ID CALLS CONFIG_JSON
MODE ``hammer``: reserve → (settle ≤ reserved | release) in a loop; prints one JSON line per
acknowledged settle and one summary line.
MODE ``hold``: settle two calls, keep three holds, print READY and sleep until killed.
"""

from __future__ import annotations

import json
import random
import sys
import time
from decimal import Decimal

from brain_agent.errors import BudgetBlockedError
from brain_agent.generation.budget import BudgetGate, CallContext, load_price_table, parse_budget_config
from brain_agent.llm.base import Usage
from brain_agent.storage import open_store


def main() -> None:
    db, mode, worker, calls, config_json, prices = sys.argv[1:7]
    gate = BudgetGate.open(
        parse_budget_config(json.loads(config_json)), open_store(db), load_price_table(prices)
    )
    rng = random.Random(int(worker))
    ctx = CallContext(run_id=f"run-{worker}", batch_id=f"batch-{worker}", lane="exploit", model="gpt-4o-mini")
    out = sys.stdout
    if mode == "hammer":
        refused = 0
        for _ in range(int(calls)):
            prompt = rng.randint(200, 2000)
            try:
                hold = gate.reserve(ctx, prompt, 500)
            except BudgetBlockedError:
                refused += 1
                continue
            time.sleep(rng.random() * 0.002)
            if rng.random() < 0.2:
                gate.release(hold, "simulated failure")
                continue
            used = Usage(uncached_input=prompt - rng.randint(0, 100), output=rng.randint(1, 500))
            if gate.settle(hold, used, Decimal(0)):
                out.write(json.dumps({"settled": hold.reservation_id, "tokens": used.total_tokens}) + "\n")
                out.flush()
        out.write(json.dumps({"done": worker, "refused": refused}) + "\n")
    else:
        for _ in range(2):
            hold = gate.reserve(ctx, 1000, 500)
            gate.settle(hold, Usage(uncached_input=1000, output=200), Decimal(0))
            out.write(json.dumps({"settled": hold.reservation_id, "tokens": 1200}) + "\n")
        held = [gate.reserve(ctx, 1000, 500).reservation_id for _ in range(3)]
        out.write(json.dumps({"held": held}) + "\n")
        out.write("READY\n")
        out.flush()
        time.sleep(600)


if __name__ == "__main__":
    main()
