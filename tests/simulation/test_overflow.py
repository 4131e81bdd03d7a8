"""An alpha whose values overflow (ts_product of ts_product...) is a simulation ERROR with a code, not a
NaN PnL that crashed the batch."""

from __future__ import annotations

from pathlib import Path

from brain_agent.knowledge import load_knowledge_pack
from brain_agent.simulation.backend import SimulationSettings
from brain_agent.simulation.factory import make_backend
from brain_agent.simulation.runner import simulate_candidates
from brain_agent.storage import SQLiteStore

KNOWLEDGE = Path(__file__).resolve().parents[2] / "data" / "meta" / "index"
# A free composition the mock wrote (benchmarks/bench_mock.py, seed 18): its values reach ~1e113.
OVERFLOWING = (
    "group_mean(last_diff_value(ts_covariance(ts_product(ts_mean(ts_product(ins_net_value, 60), 10), 60), "
    "ins_buy_value, 10), 10), ins_buyer_count, industry)"
)


def test_overflowing_alpha_is_an_error_and_others_still_complete(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    backend = make_backend("local", db_path=db, knowledge_pack=load_knowledge_pack(KNOWLEDGE))
    candidates = [
        {"candidate_id": "c1", "expression": OVERFLOWING, "valid": True},
        {"candidate_id": "c2", "expression": "rank(-ts_delta(close, 5))", "valid": True},
    ]
    records = simulate_candidates(SQLiteStore(db), candidates, backend, SimulationSettings())
    by_id = {r["candidate_id"]: r for r in records}
    assert by_id["c1"]["status"] == "ERROR"
    assert by_id["c1"]["error"]["code"] == "NUMERIC_OVERFLOW"
    assert "overflow" in by_id["c1"]["error"]["message"]
    assert by_id["c2"]["status"] == "COMPLETE" and by_id["c2"]["result"]["is"]["sharpe"] > 1
