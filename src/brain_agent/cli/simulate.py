"""Command: simulate-candidates (spec §1.3 step 2) — candidates in, BRAIN-shaped results out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from brain_agent.cli.app import DbOption, app, err_console, out_console, resolve_db
from brain_agent.cli.numbers import bounded
from brain_agent.errors import EXIT_SOME_FAILED, InputError, shorten
from brain_agent.jsonio import output_target, read_json, read_model, write_json
from brain_agent.simulation.backend import SimulationSettings
from brain_agent.simulation.factory import close_backend, log_in, make_backend
from brain_agent.simulation.markets import (
    MARKET_HELP,
    SYNTHETIC,
    local_market_backend,
    require_local,
    require_market,
)
from brain_agent.simulation.runner import ProgressUpdate, simulate_candidates
from brain_agent.storage import local_path, open_store

ENV_BRAIN_URL = "BRAIN_API_URL"


def _candidates(path: Path) -> list[dict[str, Any]]:
    raw = read_json(path, "candidates")
    items = raw if isinstance(raw, list) else [raw]
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise InputError(f"{path}: item {index} is not a JSON object (a candidate)", file=str(path))
        if not isinstance(item.get("candidate_id"), str) or not item["candidate_id"]:
            raise InputError(f"{path}: item {index}: key 'candidate_id' is missing or empty", file=str(path))
        for key in ("expression", "idea_id", "run_id", "lane"):
            if item.get(key) is not None and not isinstance(item[key], str):
                raise InputError(
                    f"{path}: item {index}: key '{key}' must be a string, got {shorten(item[key])}",
                    file=str(path),
                    key=key,
                )
    return items


@app.command("simulate-candidates")
def simulate_candidates_command(
    input: Annotated[Path, typer.Option("--input", help="A candidate JSON file: one candidate or a list.")],
    output: Annotated[Path, typer.Option("--output", help="Where to write the list of simulation records.")],
    backend: Annotated[
        str, typer.Option("--backend", help="local (default, offline synthetic market) | brain.")
    ] = "local",
    interactive_login: Annotated[
        bool,
        typer.Option("--interactive-login", help="BRAIN: allow the Persona (biometric) login in a browser."),
    ] = False,
    settings: Annotated[
        Path | None, typer.Option("--settings", help="A JSON file of BRAIN simulation settings (§1.3 keys).")
    ] = None,
    brain_url: Annotated[
        str | None,
        typer.Option(
            "--brain-url", help=f"BRAIN API base URL (default: ${ENV_BRAIN_URL}, else the public one)."
        ),
    ] = None,
    knowledge_pack_dir: Annotated[
        Path | None,
        typer.Option("--knowledge-pack-dir", help="Knowledge pack whose fields the local market offers."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="local: worker processes a batch is spread over "
            "(default $BRAIN_AGENT_SIM_WORKERS, else the CPUs up to 4).",
        ),
    ] = None,
    sim_cache_mb: Annotated[
        float | None,
        typer.Option(
            "--sim-cache-mb",
            parser=bounded(0, 2**40, "MiB"),
            help="local: MiB of evaluated sub-expressions kept for reuse across the batch "
            "(default $BRAIN_AGENT_SIM_CACHE_MB, else 96; 0 turns the cache off).",
        ),
    ] = None,
    market: Annotated[str, typer.Option("--market", help=MARKET_HELP)] = SYNTHETIC,
    db: DbOption = None,
) -> None:
    """Simulate candidates (local synthetic market or BRAIN) and write BRAIN-shaped results.

    Candidates that failed validation are not simulated (status SKIPPED). Interrupted runs resume
    their in-flight simulations from the store instead of submitting them again.
    """
    if interactive_login and backend.strip().lower() != "brain":
        raise InputError("--interactive-login needs --backend brain (it is the BRAIN login)", key="backend")
    market_name = require_market(market)
    require_local(market_name, backend, "--backend")
    candidates = _candidates(input)
    output_target(output, "results file")  # a device, FIFO or folder is refused before any quota is spent
    sim_settings = (
        read_model(SimulationSettings, settings, "settings") if settings is not None else SimulationSettings()
    )
    db_path = resolve_db(db)
    store = open_store(db_path)
    name = backend.lower()
    chosen = local_market_backend(market_name) or make_backend(
        name,
        db_path=local_path(db_path),
        knowledge_pack=knowledge_pack_dir,
        brain_url=brain_url,
        interactive_login=interactive_login,
    )
    log_in(chosen)  # BRAIN: wrong, missing or too-open credentials stop here (exit 2), not per candidate

    if name == "local" and (workers is not None or sim_cache_mb is not None):
        from brain_agent.simulation.local.backend import LocalBackend
        from brain_agent.simulation.local.cache import process_cache

        assert isinstance(chosen, LocalBackend)
        if sim_cache_mb is not None:
            process_cache().resize(int(sim_cache_mb * 2**20))
        if workers is not None:
            chosen.set_workers(workers)

    with Progress(
        TextColumn("simulate", style="bold"),
        TextColumn("{task.description}", markup=False),  # candidate ids are printed as they are
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
        disable=not err_console.is_terminal,
    ) as bar:
        task = bar.add_task(name, total=len(candidates))

        def on_progress(update: ProgressUpdate) -> None:
            bar.update(
                task,
                completed=update.done,
                total=update.total,
                description=f"{name}: {update.candidate_id} {update.status.lower()}",
            )

        try:
            records = simulate_candidates(store, candidates, chosen, sim_settings, progress=on_progress)
        finally:
            close_backend(chosen)
    write_json(output, records)
    counts: dict[str, int] = {}
    for record in records:
        counts[record["status"]] = counts.get(record["status"], 0) + 1
    summary = ", ".join(f"{n} {status.lower()}" for status, n in sorted(counts.items()))
    out_console.print(f"{len(records)} candidates: {summary} → {output}")
    for record in records:
        result = record.get("result")
        if record["status"] == "COMPLETE" and isinstance(result, dict):
            m = result["is"]
            out_console.print(
                f"  {record['candidate_id']}: sharpe {m['sharpe']} fitness {m['fitness']} "
                f"turnover {m['turnover']} "
                f"returns {m['returns']}"
            )
        elif record.get("error"):
            out_console.print(
                f"  {record['candidate_id']}: {record['status']} {record['error'].get('code')}: "
                f"{record['error'].get('message')}"
            )
    failed = counts.get("ERROR", 0)
    if failed:
        err_console.print(f"{failed} of {len(records)} candidates ended in ERROR (exit {EXIT_SOME_FAILED})")
        raise typer.Exit(EXIT_SOME_FAILED)
