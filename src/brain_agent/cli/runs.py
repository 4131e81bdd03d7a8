"""Commands: ``runs`` (what ran, what it cost, what it found) and ``runs show RUN`` (every candidate)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from brain_agent.cli.app import DbOption, app, err_console, out_console, resolve_db, styled
from brain_agent.report.figures import fixed, percent

if TYPE_CHECKING:
    from brain_agent.telemetry.alpha_yield import Outcome, Yield

runs_app = typer.Typer(
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(runs_app, name="runs")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _started(ts: float | None) -> str:
    if ts is None:
        return ""
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _money(value: Decimal | str | None) -> str:
    """USD to six decimals (a mock batch costs fractions of a cent); tinier amounts to two digits."""
    if value is None:
        return ""
    amount = Decimal(str(value))
    if not amount:
        return "0"
    return f"{amount:.6f}" if abs(amount) >= Decimal("0.000001") else f"{amount:.2e}"


@runs_app.callback()
def runs_command(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many runs, newest first.")] = 20,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """List runs with their cost and results; `runs show RUN` lists one run's candidates.

    Newest first: id, kind, started (UTC), status, ideas, tokens, cost (USD), valid candidates,
    passing alphas, and the Sharpe and fitness of the best candidate (the highest Sharpe, then the
    higher fitness: one candidate, the best alpha `runs show` names)."""
    if ctx.invoked_subcommand is not None:
        return
    from brain_agent.storage import open_store
    from brain_agent.storage.run_queries import recent_runs

    rows = recent_runs(open_store(resolve_db(db)), limit)
    if as_json:
        items = [
            {
                "run_id": r["run_id"],
                "kind": r["kind"],
                "started": _started(r["created_at"]),
                "created_at": r["created_at"],
                "finished_at": r["finished_at"],
                "status": r["status"],
                "ideas": r["ideas"],
                "candidates": r["candidates"],
                "valid": r["valid"],
                "simulated": r["simulated"],
                "passing": r["passing"],
                "best_sharpe": r["best_sharpe"],
                "best": r["best"],
                "tokens": r["tokens"],
                "cost": str(r["cost"]),
            }
            for r in rows
        ]
        out_console.print_json(json.dumps(items))
        return
    if not rows:
        out_console.print("no runs in this store yet (try `brain-agent run-batch --generate 5`)")
        return
    header = ("run", "kind", "started (UTC)", "status", "ideas", "tokens", "cost (USD)", "valid", "passing")
    lines: list[tuple[str, ...]] = [(*header, "best: Sharpe / fitness")]
    for r in rows:
        lines.append(
            (
                r["run_id"],
                r["kind"],
                _started(r["created_at"])[:16],
                r["status"],
                str(r["ideas"]),
                str(r["tokens"]),
                _money(r["cost"]),
                f"{r['valid']}/{r['candidates']}",
                f"{r['passing']}/{r['simulated']}",
                _best(r["best"]),
            )
        )
    for line in _aligned(lines, left=4):
        out_console.print(line, markup=False, highlight=False)


def _best(best: dict[str, Any] | None) -> str:
    """Sharpe and fitness of the run's one best candidate (never two candidates' maxima)."""
    if best is None:
        return "n/a"
    return f"{fixed(best['sharpe'])} / {fixed(best['fitness']) or 'n/a'}"


def _aligned(lines: Sequence[tuple[str, ...]], left: int) -> list[str]:
    """Plain aligned columns (the first ``left`` left-justified): never cut, whatever the width."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return [
        "  ".join(
            cell.ljust(w) if i < left else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        ).rstrip()
        for line in lines
    ]


def _candidate_json(c: dict[str, Any], o: Outcome) -> dict[str, Any]:
    sim = c["simulation"] or {}
    error = sim.get("error") if isinstance(sim.get("error"), dict) else None
    return {
        "candidate_id": c["candidate_id"],
        "idea_id": c.get("idea_id"),
        "lane": o.lane,
        "expression": o.expression,
        "valid": o.valid,
        "error_code": c.get("error_code"),
        "simulation": {
            "status": sim.get("status"),
            "backend": sim.get("backend"),
            "alpha_id": sim.get("alpha_id"),
            "error_code": None if error is None else error.get("code"),
            "sharpe": o.sharpe,
            "fitness": o.fitness,
            "turnover": o.turnover,
            "returns": o.returns,
            "passed": o.passed,
            "failed_checks": list(o.failed_checks),
        }
        if c["simulation"] is not None
        else None,
    }


@runs_app.command("show")
def show_command(
    run_id: Annotated[str, typer.Argument(help="The run id (see `brain-agent runs`).")],
    as_json: JsonOption = False,
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot",
            help="Also write a self-contained HTML page of cumulative PnL charts: the best alpha large, "
            "the other simulated candidates small, each with its metrics and failed checks.",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Every candidate of a run, its results and the run's yield.

    Per candidate: lane, expression, validity (or its error code), simulation status,
    Sharpe, fitness, turnover and returns (as percentages), failed checks by name; then the yield
    (tokens and cost per valid candidate and per passing alpha, by lane) and the best alpha.
    With --plot FILE, the PnL charts too (written atomically; no network needed to open it)."""
    from brain_agent.jsonio import output_target
    from brain_agent.storage import open_store
    from brain_agent.storage.run_queries import run_record, run_yield

    if plot is not None:
        output_target(plot, "plot")  # a folder, FIFO or device is refused before anything is read
    store = open_store(resolve_db(db))
    run = run_record(store, run_id)
    candidates, outcomes, result = run_yield(store, run_id)
    if plot is not None:
        _write_plot(plot, run, candidates, outcomes, result)
    if as_json:
        doc = {
            "run_id": run["run_id"],
            "kind": run["kind"],
            "status": run["status"],
            "started": _started(run["created_at"]),
            "candidates": [_candidate_json(c, o) for c, o in zip(candidates, outcomes, strict=True)],
            "yield": result.to_dict(),
        }
        out_console.print_json(json.dumps(doc))
        return
    _print_show(run, candidates, outcomes, result)


def _write_plot(
    path: Path,
    run: dict[str, Any],
    candidates: list[dict[str, Any]],
    outcomes: list[Outcome],
    result: Yield,
) -> None:
    from brain_agent import __version__
    from brain_agent.jsonio import write_text
    from brain_agent.report.pnl_page import panels, render
    from brain_agent.telemetry.alpha_yield import ranked

    items = panels(candidates, outcomes)
    simulated = len(ranked(outcomes))
    page = render(run, items, result, candidates=len(candidates), simulated=simulated, version=__version__)
    written = write_text(path, page, what="plot")
    drawn = sum(1 for p in items if p.unavailable is None)
    err_console.print(
        f"wrote {drawn} PnL charts ({simulated} candidates simulated) to {written}",
        markup=False,
        highlight=False,
    )


def _print_show(
    run: dict[str, Any], candidates: list[dict[str, Any]], outcomes: list[Outcome], result: Yield
) -> None:
    out_console.print(
        styled(
            run["run_id"],
            "bold",
            f"  {run['kind']}  {run['status']}  started {_started(run['created_at'])} UTC",
        )
    )
    if not candidates:
        out_console.print("this run has no candidates")
    for n, (c, o) in enumerate(zip(candidates, outcomes, strict=True), start=1):
        sim = c["simulation"]
        error = sim.get("error") if sim and isinstance(sim.get("error"), dict) else None
        valid = "valid" if o.valid else f"invalid {c.get('error_code') or ''}".rstrip()
        status = "not simulated" if sim is None else str(sim.get("status") or "")
        if error and error.get("code"):
            status += f" {error['code']}"
        line = f" {o.lane:<8} {valid}  {status}"
        if o.sharpe is not None:
            line += (
                f"  Sharpe {fixed(o.sharpe)}  fitness {fixed(o.fitness)}  turnover {percent(o.turnover)}"
                f"  returns {percent(o.returns)}"
            )
        out_console.print(styled(f"{n:>3}", "bold", line))
        out_console.print(f"     {o.expression or '(no expression)'}", style="cyan")
        if o.failed_checks:
            out_console.print(f"     failed: {', '.join(o.failed_checks)}")
        elif o.passed:
            out_console.print("     passed every check", style="green")
    out_console.print()
    print_yield(result)


def _per(tokens: float | None, cost: Decimal | None) -> str:
    if tokens is None:
        return "n/a"
    return f"{tokens:.0f} · {_money(cost)}"


def print_yield(result: Yield) -> None:
    """The yield table and the best alpha (reusable by any summary that computed a :class:`Yield`)."""
    lines: list[tuple[str, ...]] = [
        ("lane", "valid", "passing", "tokens", "cost (USD)", "per valid", "per passing")
    ]
    for y in [*result.lanes.values(), result.total]:
        lines.append(
            (
                y.lane,
                str(y.valid),
                str(y.passing),
                str(y.tokens),
                _money(y.cost),
                _per(y.tokens_per_valid, y.cost_per_valid),
                _per(y.tokens_per_passing, y.cost_per_passing),
            )
        )
    out_console.print("yield: tokens · USD per valid candidate and per passing alpha", style="bold")
    for line in _aligned(lines, left=1):
        out_console.print(line, markup=False, highlight=False)
    best = result.best
    if best is None:
        out_console.print("best alpha: none simulated")
        return
    verdict = "passed every check" if best.passed else f"failed {', '.join(best.failed_checks) or 'checks'}"
    out_console.print(f"best alpha ({best.lane}, {best.candidate_id}):")
    out_console.print(f"  {best.expression or ''}", style="bold cyan")
    out_console.print(
        f"  Sharpe {fixed(best.sharpe)}  fitness {fixed(best.fitness)}  turnover {percent(best.turnover)}  "
        f"returns {percent(best.returns)}  {verdict}"
    )
