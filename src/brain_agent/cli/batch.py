"""Command: ``run-batch`` — the main job (ideas → lanes → gate → LLM → validation, one run_id)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from brain_agent.agents.batch import BatchOptions, BatchReport, run_batch
from brain_agent.agents.batch import Progress as BatchProgress
from brain_agent.cli.app import DbOption, app, err_console, out_console, resolve_db, styled
from brain_agent.cli.budget import ConfigOption, load_budget
from brain_agent.cli.chain import OperatorLevelOption, operator_level_value
from brain_agent.cli.numbers import bounded
from brain_agent.errors import InputError
from brain_agent.ideas import IdeaSpec, generate_ideas, load_ideas
from brain_agent.ideas.spec import require_known_subcategories
from brain_agent.jsonio import read_model
from brain_agent.knowledge import load_knowledge_pack
from brain_agent.llm import make_provider
from brain_agent.settings import default_knowledge_pack_dir
from brain_agent.simulation.backend import SimulationBackend, SimulationSettings
from brain_agent.simulation.factory import close_backend, log_in, make_backend
from brain_agent.simulation.markets import (
    MARKET_HELP,
    SYNTHETIC,
    local_market_backend,
    require_local,
    require_market,
)
from brain_agent.simulation.runner import simulate_candidates
from brain_agent.storage import Store, local_path, open_store

MAX_GENERATE = 10_000


@app.command("run-batch")
def run_batch_command(
    ideas: Annotated[Path | None, typer.Option("--ideas", help="IdeaSpec JSON file (one or a list).")] = None,
    generate: Annotated[
        int | None,
        typer.Option("--generate", help=f"Generate N seed ideas instead (at most {MAX_GENERATE}).", min=1),
    ] = None,
    resume: Annotated[
        str | None,
        typer.Option(
            "--resume",
            help="Rerun the ideas of an earlier (interrupted) run: what it already answered is served "
            "from the cache at zero tokens.",
        ),
    ] = None,
    config: ConfigOption = None,
    db: DbOption = None,
    llm_provider: Annotated[
        str, typer.Option("--llm-provider", help="mock (default, offline) | openai | ollama | anthropic.")
    ] = "mock",
    model: Annotated[
        str | None, typer.Option("--model", help="Model name (default: the provider's).")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="Provider endpoint (default: env).")
    ] = None,
    knowledge_pack_dir: Annotated[
        Path | None,
        typer.Option("--knowledge-pack-dir", help="Knowledge pack folder (default: data/meta/index)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed for generated ideas and the mock model.")] = 0,
    pace: Annotated[
        float,
        typer.Option(
            "--pace", help="Seconds to sleep after each LLM call (demo).", parser=bounded(0, None, "seconds")
        ),
    ] = 0.0,
    invalid_share: Annotated[
        float,
        typer.Option(
            "--invalid-share",
            help="mock only: share of deliberately invalid answers (0 to 1).",
            parser=bounded(0, 1),
        ),
    ] = 0.0,
    latency: Annotated[
        float,
        typer.Option(
            "--latency",
            help="mock only: seconds per call (at most 3600).",
            parser=bounded(0, 3600, "seconds"),
        ),
    ] = 0.0,
    no_deferred: Annotated[
        bool, typer.Option("--no-deferred", help="Do not pick up deferred ideas.")
    ] = False,
    simulate: Annotated[
        str, typer.Option("--simulate", help="Simulate valid candidates: local (default) | brain | none.")
    ] = "local",
    brain_url: Annotated[
        str | None, typer.Option("--brain-url", help="BRAIN API URL for --simulate brain (default: env).")
    ] = None,
    interactive_login: Annotated[
        bool,
        typer.Option("--interactive-login", help="--simulate brain: allow the persona (biometric) login."),
    ] = False,
    settings: Annotated[
        Path | None,
        typer.Option(
            "--settings",
            help="A JSON file of BRAIN simulation settings (neutralization, decay, universe, delay…; "
            "the same keys as simulate-candidates). Stored with the run.",
        ),
    ] = None,
    market: Annotated[
        str | None,
        typer.Option(
            "--market",
            help=MARKET_HELP + " Retrieval then offers only that market's fields (default: synthetic; "
            "--resume: the run's).",
        ),
    ] = None,
    operator_level: OperatorLevelOption = "base",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Run one batch under the budget. Exit 0 when every idea ran, 3 when any idea was blocked by a cap
    (deferred to the next batch or discarded, per the config)."""
    if sum(x is not None for x in (ideas, generate, resume)) != 1:
        raise InputError("give exactly one of --ideas FILE, --generate N or --resume RUN", key="ideas")
    if generate is not None and generate > MAX_GENERATE:
        raise InputError(
            f"--generate {generate} is over the limit of {MAX_GENERATE} ideas per batch; "
            "run several batches instead",
            key="generate",
            value=generate,
        )
    market_name = require_market(market) if market is not None else None
    if market_name is not None:
        require_local(market_name, simulate, "--simulate")  # a wrong --simulate fails before any work
    sim_settings = (
        read_model(SimulationSettings, settings, "settings") if settings is not None else SimulationSettings()
    )
    knowledge = load_knowledge_pack(
        knowledge_pack_dir if knowledge_pack_dir is not None else default_knowledge_pack_dir()
    )
    provider = make_provider(
        llm_provider,
        model=model,
        base_url=base_url,
        seed=seed,
        latency_s=latency,
        invalid_share=invalid_share,
    )
    cfg, prices, config_path = load_budget(config, model=provider.model)
    db_path = resolve_db(db)
    store = open_store(db_path)
    counts: tuple[dict[str, int], dict[str, int]] | None = None
    if resume is not None:
        idea_list, seed, counts = _resumed_ideas(store, resume, seed)
        resumed = store.get_run(resume)["config"]
        stored = resumed.get("simulation_settings")
        if settings is None and isinstance(stored, dict):  # the first run's settings, unless overridden
            sim_settings = SimulationSettings.model_validate(stored)
        stored_market = resumed.get("market")
        if market_name is None and isinstance(stored_market, str):
            market_name = require_market(stored_market)
    elif ideas is not None:
        idea_list = load_ideas(ideas)
        require_known_subcategories(idea_list, knowledge.subcategories, str(ideas))
    else:
        idea_list = generate_ideas(generate or 0, knowledge, seed=seed, explore_share=cfg.explore_ratio)
    market_name = market_name or SYNTHETIC
    require_local(market_name, simulate, "--simulate")  # also a market stored with a resumed run
    market_backend = local_market_backend(market_name)
    if market_backend is not None:  # retrieval (and validation) see only the fields the market has
        from brain_agent.retrieval import restrict_to_fields

        knowledge = restrict_to_fields(knowledge, market_backend.panel.field_names(), market_name)
    backend: SimulationBackend | None = market_backend
    if backend is None and simulate.strip().lower() != "none":
        backend = make_backend(
            simulate,
            db_path=local_path(db_path),
            knowledge_pack=knowledge,
            brain_url=brain_url,
            interactive_login=interactive_login,
        )
    if backend is not None:
        log_in(backend)  # BRAIN credentials are checked once, before any LLM call (exit 2), not per candidate
    simulate_fn = _simulator(backend, store, sim_settings)
    progress = Progress(
        TextColumn("{task.description}", style="bold", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[last]}", markup=False),
        console=err_console,
        transient=as_json,
        disable=as_json,
    )
    task = progress.add_task("run-batch", total=len(idea_list), last="")

    def on_start(run_id: str, total: int) -> None:
        progress.update(task, total=max(total, 1), description=f"run-batch {run_id}")

    def on_carried(ids: list[str]) -> None:
        shown = ", ".join(ids[:10]) + (f" … (+{len(ids) - 10})" if len(ids) > 10 else "")
        err_console.print(
            f"carried over {len(ids)} deferred idea(s) from earlier batches: {shown}",
            markup=False,
            highlight=False,
        )

    def on_alert(line: str) -> None:
        err_console.print(f"budget alert: {line}", markup=False, highlight=False, style="bold yellow")

    def on_progress(p: BatchProgress) -> None:
        progress.update(task, completed=p.done, last=f"{p.idea_id} [{p.lane}] {p.outcome}")

    opts = BatchOptions(
        config=cfg,
        prices=prices,
        knowledge_pack=knowledge,
        provider=provider,
        pace_s=pace,
        seed=seed,
        claim_deferred=not no_deferred and resume is None,
        exploration_counts=counts,
        on_progress=on_progress,
        on_start=on_start,
        on_carried=None if as_json else on_carried,
        on_alert=None if as_json else on_alert,
        simulate=simulate_fn,
        operator_level=operator_level_value(operator_level),
        metadata={
            "config": str(config_path),
            "ideas": str(ideas) if ideas else (f"resume:{resume}" if resume else f"generated:{generate}"),
            **({"resumed_from": resume} if resume else {}),
            "idea_list": [i.model_dump() for i in idea_list],
            "seed": seed,
            "simulation_settings": sim_settings.model_dump(mode="json"),
            "market": market_name,
            **({"settings_file": str(settings)} if settings is not None else {}),
        },
    )
    try:
        with progress:
            report = run_batch(store, idea_list, opts)
    finally:
        if backend is not None:
            close_backend(backend)
    for warning in report.alert_warnings:
        err_console.print(styled("warning", "yellow", f": {warning}"))
    if as_json:
        out_console.print_json(json.dumps({"run_id": report.run_id, **report.summary()}))
    else:
        _print_report(report)
    if report.blocked:
        err_console.print(
            f"[bold red]blocked[/]: {report.blocked} idea(s) hit a cap "
            f"({', '.join(sorted(set(report.blocked_codes)))}); "
            f"deferred {report.deferred}, discarded {report.discarded}",
            markup=True,
        )
        raise typer.Exit(3)


def _resumed_ideas(
    store: Store, run_id: str, seed: int
) -> tuple[list[IdeaSpec], int, tuple[dict[str, int], dict[str, int]] | None]:
    """The ideas (and the seed) an earlier batch ran, from its ``metadata_sync``; its process must
    be gone. The same ideas, seed and store usage render the same prompts: answered ones are cache hits."""
    store.reap_dead_runs(now=time.time())
    run = store.get_run(run_id)  # NotFoundError (exit 2) for an unknown run
    if run["kind"] != "batch":
        raise InputError(f"--resume {run_id}: that run is a {run['kind']!r} run, not a batch", key="resume")
    if run["status"] == "running":
        raise InputError(f"--resume {run_id}: that run is still running", key="resume")
    stored = run["config"].get("idea_list")
    if not isinstance(stored, list) or not stored:
        raise InputError(f"--resume {run_id}: the run did not record its ideas", key="resume")
    stored_seed = run["config"].get("seed")
    counts = run["config"].get("exploration_counts")
    exploration = (
        (dict(counts["fields"]), dict(counts["subcategories"]))
        if isinstance(counts, dict) and {"fields", "subcategories"} <= set(counts)
        else None
    )
    return (
        [IdeaSpec.model_validate(i) for i in stored],
        stored_seed if isinstance(stored_seed, int) else seed,
        exploration,
    )


def _simulator(
    backend: SimulationBackend | None, store: Store, settings: SimulationSettings
) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None:
    if backend is None:
        return None

    def run(candidates: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return simulate_candidates(store, candidates, backend, settings)

    return run


def _print_report(report: BatchReport) -> None:
    from brain_agent.cli.runs import print_yield

    s = report.summary()
    table = Table(title=f"run-batch {report.run_id}")
    for col in ("lane", "ideas", "calls", "prompt", "completion", "total", "cost (USD)"):
        table.add_column(col, justify="left" if col == "lane" else "right")
    for lane, t in s["lanes"].items():
        table.add_row(
            lane,
            str(t["ideas"]),
            str(t["calls"]),
            str(t["prompt_tokens"]),
            str(t["completion_tokens"]),
            str(t["tokens"]),
            t["cost"],
        )
    tok = s["tokens"]
    table.add_row(
        Text("all", style="bold"),
        str(s["ideas_run"]),
        str(sum(t["calls"] for t in s["lanes"].values())),
        str(tok["prompt"]),
        str(tok["completion"]),
        str(tok["total"]),
        s["cost"],
    )
    out_console.print(table)
    facts = Table(show_header=False, box=None)
    ideas = f"{s['ideas']} = {s['ideas_run']} in the lanes + {s['ideas_not_run']} blocked at planning"
    if s["carried_over"]:
        ideas += f" ({s['carried_over']} carried over from earlier batches)"
    for key, value in (
        ("ideas", ideas),
        ("candidates (valid)", f"{s['candidates']} ({s['valid']})"),
        ("fallbacks", s["fallbacks"]),
        (
            "blocked (deferred / discarded)",
            f"{s['blocked']} ({s['deferred']} / {s['discarded']}): {s['ideas_not_run']} at planning, "
            f"{s['blocked'] - s['ideas_not_run']} in the lanes",
        ),
        ("explore floor preserved", s["explore_floor_preserved"]),
        ("expansions / needs repair", f"{s['expansions']} / {s['needs_repair']}"),
        ("cache hits (tokens saved)", f"{s['cache_hits']} ({s['tokens_saved']})"),
        ("coverage", f"{s['coverage']} subcategories ({s['coverage_share']:.0%})"),
        ("novelty / structural", f"{s['novelty']:.0%} / {s['structural_novelty']:.0%}"),
        *_simulation_rows(s["simulation"]),
    ):
        facts.add_row(key, str(value))
    out_console.print(facts)
    for alert in report.alerts:
        share, threshold = float(alert["share"]), float(alert["threshold"])
        out_console.print(
            f"budget alert: {alert['scope_key']} crossed {threshold:.0%} of its cap (now {share:.1%})",
            markup=False,
            highlight=False,
            style="yellow",
        )
    out_console.print()
    print_yield(report.yields)


def _simulation_rows(sim: dict[str, Any]) -> list[tuple[str, str]]:
    if not sim["simulated"]:
        return [("simulations", "none")]

    def fmt(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.2f}"

    return [
        ("simulations passed / failed / errors", f"{sim['passed']} / {sim['failed']} / {sim['errors']}"),
        ("best sharpe / fitness", f"{fmt(sim['best_sharpe'])} / {fmt(sim['best_fitness'])}"),
    ]
