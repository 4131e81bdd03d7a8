"""The candidate detail (issue 13, item 5) in real Chromium: a real ``run-batch --simulate local`` run in
a store served by a real ``brain-agent serve``; the checks (``web/tests/browser/detail.mjs``) select a
candidate and compare its expression, metrics, failed checks and drawn PnL chart with the server's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_hud import REPO, WEB, prerequisites  # noqa: F401  (the fixture)

from brain_agent.storage.sqlite_store import SQLiteStore
from serving import serve_process

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.timeout(600)
@pytest.mark.usefixtures("prerequisites")
def test_candidate_detail_with_its_pnl_chart(tmp_path: Path) -> None:
    db = tmp_path / "detail.db"
    batch = subprocess.run(
        [sys.executable, "-m", "brain_agent.cli", "run-batch", "--generate", "8", "--seed", "7",
         "--config", str(REPO / "configs" / "demo_budget.json"), "--db", str(db), "--simulate", "local",
         "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert batch.returncode in (0, 3), batch.stderr[-2000:]
    store = SQLiteStore(db)
    run_id = store.list_runs(1)[0]["run_id"]
    store.close()
    with serve_process(db, tmp_path / "serve.log") as (base, _proc):
        proc = subprocess.run(
            ["node", "tests/browser/detail.mjs"],
            cwd=WEB,
            env={**os.environ, "HUD_BASE_URL": base, "DETAIL_RUN": run_id},
            capture_output=True,
            text=True,
            timeout=300,
        )
    results_file = WEB / "test-artifacts" / "detail-results.json"
    detail = results_file.read_text() if results_file.exists() else proc.stdout[-4000:]
    assert proc.returncode == 0, f"{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
    results = json.loads(results_file.read_text())
    assert results and all(r["ok"] for r in results), detail
