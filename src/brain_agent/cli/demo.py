"""``brain-agent demo``: the one command a newcomer runs.

A fresh store, the server with the HUD, and live mock batches paced for watching, one after another
until Ctrl-C (``--batches N`` stops after N). The demo budget is tight on purpose, so a person sees
the protection fire: a Top-K fallback, an explore-floor protection, a block, budget alerts. So that
the show goes on after the day cap is spent, every second batch starts a new "demo day": the demo's
own copy of the budget file gets another day's worth of tokens (it says so when it does).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.markup import escape

from brain_agent.cli.app import app, err_console, out_console
from brain_agent.cli.numbers import bounded
from brain_agent.errors import InputError
from brain_agent.settings import default_configs_dir, repo_root
from brain_agent.simulation.markets import MARKET_HELP, SYNTHETIC, require_market
from brain_agent.storage import open_store
from brain_agent.storage.factory import redact_location as redact

DEMO_CONFIG = "demo_budget.json"
HEALTH_TIMEOUT_S = 30.0
BATCHES_PER_DEMO_DAY = 2


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "brain_agent.cli", *args]


def _wait_healthy(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise InputError(
                f"the server exited with code {server.returncode} before it was ready (port in use?)"
            )
        try:
            if httpx.get(f"{url}/api/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise InputError(f"the server did not answer {url}/api/health within {HEALTH_TIMEOUT_S:.0f} s")


def _stop(proc: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM (which brain-agent takes as Ctrl-C), then SIGKILL after ``grace`` seconds; reaped."""
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _prepare(workdir: Path) -> tuple[Path, Path]:
    configs = default_configs_dir()
    source = configs / DEMO_CONFIG
    if not source.is_file():
        raise InputError(f"{source}: the demo budget file is missing from this checkout")
    config = workdir / "llm_budget.json"
    shutil.copyfile(source, config)
    data = json.loads(source.read_text(encoding="utf-8"))
    prices = configs / data.get("price_table", "prices.json")
    if prices.is_file():
        shutil.copyfile(prices, workdir / prices.name)
    return config, workdir / "demo.db"


def _set_day_cap(config: Path, tokens: int) -> None:
    """Rewrite the demo's own budget file with a new day cap (the file is the demo's copy)."""
    data = json.loads(config.read_text(encoding="utf-8"))
    data["max_tokens_per_day"] = tokens
    config.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


@app.command("demo")
def demo(
    port: Annotated[int, typer.Option("--port", help="Port for the server and HUD.")] = 8765,
    batches: Annotated[
        int | None,
        typer.Option("--batches", min=1, help="Stop after this many batches (default: run until Ctrl-C)."),
    ] = None,
    ideas: Annotated[int, typer.Option("--ideas", min=2, help="Ideas generated per batch.")] = 10,
    pace: Annotated[
        float,
        typer.Option(
            "--pace", parser=bounded(0, None, "seconds"), help="Seconds between LLM calls, for watching."
        ),
    ] = 1.2,
    workdir: Annotated[
        Path | None,
        typer.Option("--dir", help="Folder for the demo's store and config (default: a new temp dir)."),
    ] = None,
    gap: Annotated[
        float,
        typer.Option(
            "--gap", parser=bounded(0, None, "seconds"), help="Seconds between batches, for watching."
        ),
    ] = 3.0,
    exit_when_done: Annotated[
        bool,
        typer.Option("--exit-when-done", help="With --batches: stop the server when the batches finish."),
    ] = False,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Store to run the demo in, e.g. postgresql://user@host/db "
            "(default: a fresh demo.db in --dir).",
        ),
    ] = None,
    market: Annotated[str, typer.Option("--market", help=MARKET_HELP)] = SYNTHETIC,
) -> None:
    """Fresh store, server + HUD, and live mock batches paced for watching (mock LLM, local simulator).

    Batches follow one another until Ctrl-C; --batches N stops after N."""
    market_name = require_market(market)  # an unknown market or a missing extra stops here (exit 2)
    work = workdir or Path(tempfile.mkdtemp(prefix="brain-agent-demo-"))
    work.mkdir(parents=True, exist_ok=True)
    if db is None and (work / "demo.db").exists():
        raise InputError(
            f"{work / 'demo.db'}: a demo store already exists there; the demo needs a fresh folder"
        )
    config, fresh_db = _prepare(work)
    if db is not None:
        open_store(db).close()  # a bad or unreachable --db fails here (exit 2 or 6), before the server starts
    db_location: str = db if db is not None else str(fresh_db)
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "BRAIN_AGENT_DB": db_location}
    log = (work / "server.log").open("wb")
    server = subprocess.Popen(
        _cli("serve", "--host", "127.0.0.1", "--port", str(port), "--db", db_location),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_healthy(url, server)
        built = (repo_root() / "web" / "out" / "index.html").exists()
        out_console.print(
            f"\n[bold cyan]Reactor Core HUD[/]  →  [bold]{url}[/]   (store: {escape(redact(db_location))})",
            markup=True,
        )
        if not built:
            err_console.print("the HUD is not built yet: run `make web` (the API is up regardless)")
        out_console.print(
            "the demo budget is deliberately tight (1.5k-token prompts, 14k per batch, 19k per day), so you "
            "will see Top-K fallbacks, the explore floor and blocks; the warnings below say the same"
        )
        day_cap = int(json.loads(config.read_text(encoding="utf-8"))["max_tokens_per_day"])
        total = "∞" if batches is None else str(batches)
        n = 0
        while batches is None or n < batches:
            n += 1
            demo_day = (n + BATCHES_PER_DEMO_DAY - 1) // BATCHES_PER_DEMO_DAY
            if demo_day > 1 and n % BATCHES_PER_DEMO_DAY == 1:
                _set_day_cap(config, day_cap * demo_day)
                out_console.print(
                    f"\n[bold]demo day {demo_day}[/]: the day cap grows to {day_cap * demo_day:,} tokens "
                    f"(+{day_cap:,}) so the demo keeps going; a real day resets at midnight",
                    markup=True,
                )
            out_console.print(
                f"\n[bold]batch {n}/{total}[/]: {ideas} ideas, mock LLM, local simulator"
                + ("" if market_name == SYNTHETIC else f" on {market_name}")
                + ("  (Ctrl-C to stop)" if batches is None else ""),
                markup=True,
            )
            batch = subprocess.Popen(
                _cli(
                    "run-batch",
                    "--generate",
                    str(ideas),
                    "--config",
                    str(config),
                    "--db",
                    db_location,
                    "--llm-provider",
                    "mock",
                    "--pace",
                    str(pace),
                    "--seed",
                    str(n),
                    "--simulate",
                    "local",
                    "--market",
                    market_name,
                ),
                env=env,
                # a terminal's Ctrl-C reaches the demo alone; it stops the batch with SIGTERM, which
                # brain-agent takes as Ctrl-C (and which ends one still starting up without a traceback)
                start_new_session=True,
            )
            try:
                code = batch.wait()
            except KeyboardInterrupt:
                _stop(batch, grace=30)
                raise
            if code not in (0, 3):  # 3 = something was blocked by the budget, which the demo shows on purpose
                raise InputError(f"run-batch exited with code {code}")
            if batches is None or n < batches:
                time.sleep(gap)
        out_console.print(f"\n[bold green]demo batches done[/]; the HUD stays at {url}", markup=True)
        if not exit_when_done:
            out_console.print("press Ctrl-C to stop")
            server.wait()
    except KeyboardInterrupt:
        out_console.print("stopping")
    finally:
        _stop(server, grace=10)
        log.close()
