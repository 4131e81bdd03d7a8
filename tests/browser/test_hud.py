"""The HUD in a real browser (Debian Chromium, SwiftShader WebGL2, driven by playwright-core) against a
real ``brain-agent serve`` while a real ``run-batch`` appends events from another process.

The checks themselves live in ``web/tests/browser/run.mjs`` (canvas renders, numbers move, protection
overlay, radar subcategories, replay); this test supplies the real server and the live batch. Under CI
every prerequisite is required; on a developer machine without Chromium or a built HUD it is skipped
with the reason.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from serving import serve_process

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "web"
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _missing() -> list[str]:
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    if shutil.which("node") is None:
        missing.append("node")
    if not (WEB / "node_modules" / "playwright-core").is_dir():
        missing.append("web/node_modules (cd web && npm ci)")
    if not (WEB / "out" / "index.html").is_file():
        missing.append("the built HUD web/out (make web)")
    return missing


@pytest.fixture(scope="module")
def prerequisites() -> None:
    missing = _missing()
    if missing and os.environ.get("CI"):
        pytest.fail(f"browser test prerequisites missing under CI: {', '.join(missing)}")
    if missing:
        pytest.skip(f"browser test prerequisites missing: {', '.join(missing)}")


@pytest.fixture
def served(prerequisites: None, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    db = tmp_path / "hud.db"
    with serve_process(db, tmp_path / "serve.log") as (base, _proc):
        yield base, db


def _live_config(tmp: Path) -> Path:
    """The demo's small prompt cap (every call falls back, so protection keeps firing) with a batch cap
    that lasts about 90 s at this pace: live traffic for the first checks, then pressure near the
    cap (the heat check)."""
    config = json.loads((REPO / "configs" / "demo_budget.json").read_text())
    config.update(max_tokens_per_batch=90_000, max_tokens_per_day=2_000_000)
    shutil.copyfile(REPO / "configs" / "prices.json", tmp / "prices.json")
    path = tmp / "live_budget.json"
    path.write_text(json.dumps(config))
    return path


def _batch(db: Path, seed: int, pace: float, config: Path, ideas: int) -> subprocess.Popen[bytes]:
    args = [
        "run-batch",
        "--generate",
        str(ideas),
        "--seed",
        str(seed),
        "--config",
        str(config),
        "--db",
        str(db),
    ]
    args += ["--pace", str(pace), "--simulate", "local", "--json"]
    return subprocess.Popen(
        [sys.executable, "-m", "brain_agent.cli", *args],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.timeout(600)
def test_hud_against_the_real_server_and_a_live_batch(served: tuple[str, Path], tmp_path: Path) -> None:
    base, db = served
    # one finished run (for replay: the demo budget, with fallbacks and blocks), then a live one paced
    # for watching that outlasts the browser checks
    assert _batch(db, 1, 0.0, REPO / "configs" / "demo_budget.json", 10).wait(timeout=120) in (0, 3)
    live = _batch(db, 2, 1.0, _live_config(tmp_path), 120)
    try:
        proc = subprocess.run(
            ["node", "tests/browser/run.mjs"],
            cwd=WEB,
            env={**os.environ, "HUD_BASE_URL": base},
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        live.kill()
        live.wait()
    results_file = WEB / "test-artifacts" / "browser-results.json"
    detail = results_file.read_text() if results_file.exists() else proc.stdout[-4000:]
    assert proc.returncode == 0, f"{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
    results = json.loads(results_file.read_text())
    assert results and all(r["ok"] for r in results), detail
