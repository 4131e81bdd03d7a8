"""The HUD's "all live runs" (issue 10, item 4) in real Chromium: two ``run-batch`` OS processes
write to one PostgreSQL store while a real ``serve --db postgresql://…`` serves the built HUD; the
checks (``web/tests/browser/fleet.mjs``) pick the fleet view and compare it with the server's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_hud import REPO, WEB, _live_config, _missing

from serving import serve_process

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _batch(db: str, seed: int, config: Path) -> subprocess.Popen[bytes]:
    args = ["run-batch", "--generate", "60", "--seed", str(seed), "--config", str(config), "--db", db]
    return subprocess.Popen(
        [sys.executable, "-m", "brain_agent.cli", *args, "--pace", "1.0", "--simulate", "local", "--json"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.timeout(600)
def test_hud_follows_all_live_runs_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    missing = _missing()
    if missing and os.environ.get("CI"):
        pytest.fail(f"browser test prerequisites missing under CI: {', '.join(missing)}")
    if missing:
        pytest.skip(f"browser test prerequisites missing: {', '.join(missing)}")
    config = _live_config(tmp_path)
    with serve_process(pg_url, tmp_path / "serve.log") as (base, _proc):  # type: ignore[arg-type]
        batches = [_batch(pg_url, 21, config), _batch(pg_url, 22, config)]
        try:
            proc = subprocess.run(
                ["node", "tests/browser/fleet.mjs"],
                cwd=WEB,
                env={**os.environ, "HUD_BASE_URL": base, "FLEET_RUNS": "2"},
                capture_output=True,
                text=True,
                timeout=300,
            )
        finally:
            for b in batches:
                b.kill()
                b.wait()
    results_file = WEB / "test-artifacts" / "fleet-results.json"
    detail = results_file.read_text() if results_file.exists() else proc.stdout[-4000:]
    assert proc.returncode == 0, f"{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
    results = json.loads(results_file.read_text())
    assert results and all(r["ok"] for r in results), detail
