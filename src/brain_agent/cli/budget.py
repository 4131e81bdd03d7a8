"""Commands: ``budget schema|validate|status``, ``estimate-prompt-cost``, ``events export``."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from brain_agent.agents import Pipeline
from brain_agent.cli.app import DbOption, app, err_console, out_console, resolve_db, styled
from brain_agent.errors import ConfigError
from brain_agent.generation.budget import (
    BudgetConfig,
    BudgetGate,
    CallContext,
    PriceTable,
    biller_context,
    budget_schema,
    default_budget_config_path,
    emit_decision,
    load_budget_config,
    load_price_table,
)
from brain_agent.generation.budget.clock import utc_iso
from brain_agent.generation.budget.gate import ScopeStatus
from brain_agent.generation.prompt import SYSTEM_PROMPT, render_alpha_prompt
from brain_agent.jsonio import write_text
from brain_agent.knowledge import load_knowledge_pack
from brain_agent.retrieval import load_retrieval_pack
from brain_agent.settings import default_knowledge_pack_dir
from brain_agent.storage import Store, open_store

budget_app = typer.Typer(help="The token/cost budget: schema, validation, live status.", no_args_is_help=True)
events_app = typer.Typer(help="The event log.", no_args_is_help=True)
app.add_typer(budget_app, name="budget")
app.add_typer(events_app, name="events")

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="Budget file (default: configs/llm_budget.json).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def load_budget(path: Path | None, *, model: str | None = None) -> tuple[BudgetConfig, PriceTable, Path]:
    """The budget file, its price table (relative to the file) and a check that a money cap never
    meets an unpriced model (a free pass would open a loophole)."""
    config_path = path if path is not None else default_budget_config_path()
    config = load_budget_config(config_path)
    for warning in config.warnings():
        err_console.print(styled("warning", "yellow", f": {config_path}: {warning}"))
    prices_path = config_path.parent / config.price_table
    prices = load_price_table(prices_path)
    money_capped = config.max_cost_per_day is not None or config.max_cost_per_week is not None
    if model is not None and money_capped and prices.price_for(model) is None:
        raise ConfigError(
            f"{prices_path}: model {model!r} has no price while {config_path} sets a money cap; "
            "add it to the price table (a price of 0 is allowed for local models)",
            key="models",
            value=model,
        )
    return config, prices, config_path


@budget_app.command("schema")
def schema_command(
    output: Annotated[Path | None, typer.Option("--output", help="Write here instead of stdout.")] = None,
) -> None:
    """Print the JSON Schema of configs/llm_budget.json."""
    text = json.dumps(budget_schema(), indent=2)
    if output is None:
        out_console.print_json(text)
    else:
        write_text(output, text + "\n", what="schema")


@budget_app.command("validate")
def validate_command(file: Annotated[Path, typer.Argument(help="The budget file to check.")]) -> None:
    """Validate a budget file (exit 2 naming the key and the value when it is wrong)."""
    config = load_budget_config(file)
    for warning in config.warnings():
        err_console.print(styled("warning", "yellow", f": {file}: {warning}"))
    load_price_table(file.parent / config.price_table)
    out_console.print(f"{file}: ok")


@budget_app.command("status")
def status_command(
    config: ConfigOption = None,
    db: DbOption = None,
    run_id: Annotated[
        str | None, typer.Option("--run", help="Also show this run's batch and lane scopes.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Per scope: unit, limit, spent, reserved, remaining, and when its window resets."""
    cfg, prices, _ = load_budget(config)
    store = open_store(resolve_db(db))
    now = time.time()
    store.reap_dead_runs(now=now)
    gate = BudgetGate.open(cfg, store, prices)
    statuses = gate.status(run_id)
    rows = [s.to_dict() for s in statuses]
    alerts = _alerts(cfg, store, statuses)
    for r in rows:  # keys added after 0.x: resets_in_s (seconds to the window end, period scopes only)
        r["resets_in_s"] = _seconds_left(r["window_end"], now)
    overruns = gate.overruns()
    if as_json:
        out_console.print_json(json.dumps({"scopes": rows, "overruns": overruns, "alerts": alerts}))
        return
    table = Table(title="budget status")
    for col in ("scope", "unit", "limit", "spent", "reserved", "remaining", "resets in"):
        table.add_column(
            col,
            justify="left" if col in ("scope", "unit", "resets in") else "right",
            overflow="fold",  # a long scope key wraps onto the next line, never cut
            min_width=len(col),
        )
    for r in rows:
        unit = r["unit"]
        table.add_row(
            r["scope_key"],
            "USD" if unit == "usd" else unit,
            _amount(r["limit"], unit),
            _amount(r["spent"], unit),
            _amount(r["reserved"], unit),
            _amount(r["remaining"], unit),
            _resets(r["resets_in_s"]),
        )
    out_console.print(table)
    for window, o in overruns.items():
        if o["calls"]:
            out_console.print(
                f"overrun this {window}: {o['calls']} call(s) billed {o['tokens']} tokens above their "
                "reservation (already counted in spent above)",
                markup=False,
            )
    _print_alerts(alerts)


def _alerts(cfg: BudgetConfig, store: Store, statuses: list[ScopeStatus]) -> dict[str, Any]:
    """The configured thresholds and, per cumulative scope of the current windows, those crossed
    (with when and by which run the alert fired; ``fired_at`` null when none has fired it yet)."""
    from brain_agent.generation.budget.alerts import crossings
    from brain_agent.storage.alert_marks import AlertMarks

    crossed = crossings(statuses, cfg.alert_thresholds)
    fired = {
        (m["scope_key"], m["threshold"]): m
        for m in AlertMarks(store).fired(sorted({c.scope_key for c in crossed}))
    }
    items = []
    for c in crossed:
        mark = fired.get((c.scope_key, c.threshold))
        items.append(
            {
                **c.payload(),
                "fired_at": None if mark is None else utc_iso(mark["fired_at"]),
                "run_id": None if mark is None else mark["run_id"],
            }
        )
    return {
        "thresholds": list(cfg.alert_thresholds),
        "webhook": cfg.alert_webhook_url is not None,
        "crossed": items,
    }


def _print_alerts(alerts: dict[str, Any]) -> None:
    if not alerts["thresholds"]:
        out_console.print("budget alerts: off (set alert_thresholds in the budget file)", markup=False)
        return
    levels = ", ".join(f"{t:.0%}" for t in alerts["thresholds"])
    hook = " + webhook" if alerts["webhook"] else ""
    if not alerts["crossed"]:
        out_console.print(
            f"budget alerts at {levels}{hook}: none crossed in the current windows", markup=False
        )
        return
    out_console.print(f"budget alerts at {levels}{hook}:", markup=False)
    for a in alerts["crossed"]:
        when = f"fired {a['fired_at']} by {a['run_id']}" if a["fired_at"] else "not fired yet"
        out_console.print(
            f"  {a['scope_key']}: {a['threshold']:.0%} crossed (now {a['share']:.1%}); {when}",
            markup=False,
            highlight=False,
            style="yellow",
        )


def _seconds_left(window_end: str | None, now: float) -> int | None:
    if not window_end:
        return None
    end = datetime.fromisoformat(window_end.replace("Z", "+00:00")).timestamp()
    return max(0, int(end - now))


def _amount(value: Any, unit: str) -> str:
    """Tokens with thousands separators; money with its currency: cents for a dollar and up, four
    decimals below (a mock call costs fractions of a cent), scientific for less than 0.0001."""
    if value is None:
        return "—"
    if unit != "usd":
        return f"{int(value):,}"
    amount = Decimal(str(value))
    if amount == 0 or abs(amount) >= 1:
        return f"${amount:,.2f}"
    if abs(amount) >= Decimal("0.0001"):
        return f"${amount:.4f}"
    return f"${amount:.2e}"


def _resets(seconds: int | None) -> str:
    """How long until a period scope's window resets ("16h 11m", "6d 16h"); "—" for batch scopes,
    which live as long as their batch (the window end itself is in ``--json``)."""
    if seconds is None:
        return "—"
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {rest // 60:02d}m" if hours else f"{rest // 60}m"


@app.command("estimate-prompt-cost")
def estimate_prompt_cost(
    retrieval_pack: Annotated[Path, typer.Option("--retrieval-pack", help="A retrieval pack JSON file.")],
    knowledge_pack_dir: Annotated[
        Path | None,
        typer.Option("--knowledge-pack-dir", help="Knowledge pack folder (default: data/meta/index)."),
    ] = None,
    config: ConfigOption = None,
    model: Annotated[str, typer.Option("--model", help="Model to estimate and price for.")] = "mock-alpha-1",
    llm_provider: Annotated[
        str,
        typer.Option(
            "--llm-provider", help="Who bills the call (its calibration is used): mock | openai | …"
        ),
    ] = "mock",
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="The provider's endpoint (part of its calibration key).")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Tokens and cost of the alpha prompt for a retrieval pack, and what the fallback ladder would do.
    Exit 0 when it fits (unchanged or after fallback), 3 when nothing fits (a failure code says which cap)."""
    cfg, prices, _ = load_budget(config, model=model)
    pack = load_retrieval_pack(retrieval_pack)
    knowledge = load_knowledge_pack(
        knowledge_pack_dir if knowledge_pack_dir is not None else default_knowledge_pack_dir()
    )
    store = open_store(resolve_db(db))
    gate = BudgetGate.open(cfg, store, prices)
    idea = pack.idea
    with Pipeline(store).run(
        "estimate", {"retrieval_pack": str(retrieval_pack), "model": model}, knowledge_pack=knowledge
    ) as run:
        ctx = biller_context(
            CallContext(
                run_id=run.run_id,
                batch_id=f"estimate:{run.run_id}",
                lane=idea.lane,
                idea_id=idea.id,
                model=model,
            ),
            llm_provider.strip().lower(),
            base_url,
        )
        start = pack.default_topk.as_topk()
        decision = gate.plan(ctx, start, lambda k: SYSTEM_PROMPT + render_alpha_prompt(idea, pack, k))
        emit_decision(run.emit, decision, cfg, action="report")
        outcome = decision.outcome
        result: dict[str, Any] = {
            "run_id": run.run_id,
            "model": model,
            "estimator": cfg.estimator,
            "default_topk": start.to_dict(),
            "decision": "pass" if outcome.passed_unchanged else ("fallback" if outcome.chosen else "blocked"),
            "topk": outcome.chosen.to_dict() if outcome.chosen else None,
            "prompt_tokens": outcome.tokens,
            "completion_tokens": cfg.max_completion_tokens,
            "total_tokens": outcome.tokens + cfg.max_completion_tokens,
            "cost": str(prices.estimate(model, outcome.tokens, cfg.max_completion_tokens)),
            "fallbacks": [
                {
                    "stage": s.stage,
                    "from_k": s.from_k,
                    "to_k": s.to_k,
                    "tokens_before": s.tokens_before,
                    "tokens_after": s.tokens_after,
                }
                for s in outcome.steps
            ],
            "failure": None,
        }
        if decision.violation is not None:
            v = decision.violation
            result["failure"] = {
                "failure_code": v.failure_code,
                "scope": v.scope,
                "limit": str(v.limit),
                "observed": str(v.observed),
            }
        run.summary.update({"decision": result["decision"], "tokens": {"prompt": outcome.tokens}})
    if as_json:
        out_console.print_json(json.dumps(result))
    else:
        _print_estimate(result)
    if result["failure"] is not None:
        f = result["failure"]
        err_console.print(
            f"[bold red]blocked[/] {f['failure_code']}: {f['scope']} cap {f['limit']}, "
            f"observed {f['observed']}",
            markup=True,
        )
        raise typer.Exit(3)


def _print_estimate(r: dict[str, Any]) -> None:
    table = Table(title=f"estimate-prompt-cost ({r['model']}, {r['estimator']} count)")
    table.add_column("step")
    table.add_column("Top-K (fields/operators/subcategories)")
    table.add_column("prompt tokens", justify="right")
    d = r["default_topk"]
    first = r["fallbacks"][0]["tokens_before"] if r["fallbacks"] else r["prompt_tokens"]
    table.add_row("default", f"{d['fields']}/{d['operators']}/{d['subcategories']}", str(first))
    for i, s in enumerate(r["fallbacks"], start=1):
        table.add_row(f"fallback {i}: {s['stage']}", f"{s['from_k']} → {s['to_k']}", str(s["tokens_after"]))
    out_console.print(table)
    out_console.print(
        f"decision: [bold]{r['decision']}[/]  prompt {r['prompt_tokens']} "
        f"+ completion cap {r['completion_tokens']}"
        f" = {r['total_tokens']} tokens, cost ≤ ${r['cost']}  (run {r['run_id']})",
        markup=True,
    )


@events_app.command("export")
def export_events(
    run_id: Annotated[str, typer.Option("--run", help="The run whose events to export.")],
    output: Annotated[Path | None, typer.Option("--output", help="JSONL file (default: stdout).")] = None,
    db: DbOption = None,
) -> None:
    """Write a run's events as JSON Lines: run_id, time, name, step, idea_id, lane, payload."""
    store = open_store(resolve_db(db))
    store.get_run(run_id)  # NotFoundError (exit 2) for an unknown run
    lines: list[str] = []
    after = 0
    while True:
        page = store.events(run_id, after=after, limit=1000)
        if not page:
            break
        for e in page:
            item = e.to_dict()
            item["time"] = datetime.fromtimestamp(e.ts, UTC).isoformat().replace("+00:00", "Z")
            lines.append(json.dumps(item, sort_keys=True, default=str))
        after = page[-1].id
    text = "\n".join(lines) + ("\n" if lines else "")
    if output is None:
        typer.echo(text, nl=False)
    else:
        write_text(output, text, what="events file")
        err_console.print(f"{len(lines)} events → {output}")
