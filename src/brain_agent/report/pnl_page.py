"""``runs show RUN --plot FILE``: one self-contained HTML page of a run's cumulative PnL charts.

The best alpha (the yield's best: highest Sharpe, then fitness) is drawn large; the other simulated
candidates follow as small multiples, best first, at most :data:`MAX_SMALL` of them. Each chart is
labelled with the expression, Sharpe, fitness, turnover and returns (as percentages) and the failed
checks. What a chart shows is the simulation ``runs show`` lists for the candidate
(:func:`brain_agent.storage.run_queries.chosen_simulations`, the same choice the server's
candidate-detail route makes), read once with the table, put in shape by
:func:`brain_agent.storage.candidate_detail.simulation_view`: the page, its table, the HUD and
``GET /api/runs/{id}/candidates/{cid}`` agree.
A result without a PnL series (a BRAIN alpha whose recordset failed) says
``PnL unavailable: <reason>`` instead of a chart.

The page has no script and fetches nothing: inline CSS and SVG only, and a Content-Security-Policy
that forbids loading anything, so it opens the same offline, from a mail attachment or a CI artifact.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from brain_agent.report.figures import fixed, percent
from brain_agent.report.svg_chart import LARGE, SMALL, Frame, line_chart
from brain_agent.storage.candidate_detail import simulation_view
from brain_agent.telemetry.alpha_yield import Outcome, Yield, ranked

MAX_SMALL = 60
"""Small multiples drawn after the best alpha; the page says how many more were left out."""


@dataclass(frozen=True)
class Panel:
    """One simulated candidate as its chart shows it."""

    candidate_id: str
    lane: str
    expression: str
    backend: str | None
    sharpe: float | None
    fitness: float | None
    turnover: float | None
    returns: float | None
    passed: bool | None
    failed_checks: tuple[str, ...]
    dates: tuple[str, ...]
    values: tuple[float, ...]
    unavailable: str | None
    """Why there is no chart (``None`` when ``values`` holds the series)."""


def _series(sim: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[float, ...], str | None]:
    pnl = sim.get("pnl")
    if not isinstance(pnl, Mapping):
        return (), (), str(sim.get("pnl_unavailable") or "the result carries no pnl series")
    dates, values = list(pnl.get("dates") or []), list(pnl.get("values") or [])
    ok = all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values)
    if not values or len(dates) != len(values) or not ok:
        return (), (), "the stored pnl series is malformed (dates and values differ, or non-numbers)"
    return tuple(str(d) for d in dates), tuple(float(v) for v in values), None


def panels(
    candidates: Iterable[Mapping[str, Any]], outcomes: Iterable[Outcome], limit: int | None = MAX_SMALL + 1
) -> list[Panel]:
    """The run's best ``limit`` simulated candidates, best first
    (:func:`~brain_agent.telemetry.alpha_yield.ranked`), each from its row in ``candidates``
    (``run_candidates``: metrics, failed checks, the PnL series or why not)."""
    simulations = {str(c["candidate_id"]): c.get("simulation") for c in candidates}
    out: list[Panel] = []
    for o in ranked(outcomes)[:limit]:
        row = simulations.get(o.candidate_id)
        sim = None if row is None else simulation_view(row)
        if sim is None or sim["status"] != "COMPLETE":
            continue
        dates, values, unavailable = _series(sim)
        out.append(
            Panel(
                candidate_id=o.candidate_id,
                lane=o.lane,
                expression=o.expression or "",
                backend=sim["backend"],
                sharpe=sim["sharpe"],
                fitness=sim["fitness"],
                turnover=sim["turnover"],
                returns=sim["returns"],
                passed=sim["passed"],
                failed_checks=tuple(sim["failed_checks"]),
                dates=dates,
                values=values,
                unavailable=unavailable,
            )
        )
    return out


def metrics_line(p: Panel) -> str:
    return (
        f"Sharpe {fixed(p.sharpe, missing='n/a')} · fitness {fixed(p.fitness, missing='n/a')} · "
        f"turnover {percent(p.turnover, missing='n/a')} · returns {percent(p.returns, missing='n/a')}"
    )


def checks_line(p: Panel) -> str:
    if p.failed_checks:
        return "failed: " + ", ".join(p.failed_checks)
    return "passed every check" if p.passed else "checks: none reported"


def _figure(p: Panel, frame: Frame, cls: str) -> str:
    title = f"{p.expression} — cumulative PnL"
    if p.unavailable is None:
        chart = line_chart(p.dates, p.values, frame, title=title, candidate_id=p.candidate_id)
    else:
        chart = (
            f'<div class="nochart" style="width:{frame.width}px;height:{frame.height}px" '
            f'data-candidate="{escape(p.candidate_id)}">PnL unavailable: {escape(p.unavailable)}</div>'
        )
    verdict = "fail" if p.failed_checks else "pass"
    return (
        f'<figure class="{cls}" id="{escape(p.candidate_id)}">'
        f'<figcaption><code class="expr">{escape(p.expression)}</code>'
        f'<span class="metrics">{escape(metrics_line(p))}</span>'
        f'<span class="checks {verdict}">{escape(checks_line(p))}</span>'
        f'<span class="meta">{escape(p.lane)} · {escape(p.candidate_id)}'
        f"{' · ' + escape(p.backend) if p.backend else ''}</span></figcaption>"
        f"{chart}</figure>"
    )


STYLE = """
:root { color-scheme: light; }
body { margin: 24px 32px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1f2328; background: #fff; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 28px 0 10px; }
.sub { color: #59636e; margin: 0 0 16px; }
figure { margin: 0; display: flex; flex-direction: column; }
figcaption { display: flex; flex-direction: column; gap: 2px; margin-bottom: 6px; flex: 1; }
code.expr { font: 13px/1.35 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; color: #0b4f9c;
  overflow-wrap: anywhere; }
.best code.expr { font-size: 15px; }
.metrics { font-variant-numeric: tabular-nums; }
.checks.fail { color: #b3261e; } .checks.pass { color: #1a7f37; }
.meta { color: #6e7781; font-size: 12px; }
.grid-of { display: grid; grid-template-columns: repeat(auto-fill, minmax(372px, 1fr)); gap: 22px 26px; }
.small figcaption { font-size: 12px; } .small code.expr { font-size: 12px; }
svg.chart { display: block; max-width: 100%; height: auto; background: #fcfcfd; }
svg .grid { stroke: #e6e8eb; stroke-width: 1; }
svg .zero { stroke: #8c959f; stroke-width: 1; stroke-dasharray: 4 3; }
svg .xtick { stroke: #8c959f; }
svg .tick { fill: #59636e; font: 11px system-ui, sans-serif; }
svg .frame { fill: none; stroke: #d0d7de; }
svg polyline.pnl { fill: none; stroke-width: 1.6; stroke-linejoin: round; }
.best svg polyline.pnl { stroke-width: 2; }
svg .up { stroke: #1a7f37; } svg .down { stroke: #cf222e; }
svg circle.pnl.up { fill: #1a7f37; } svg circle.pnl.down { fill: #cf222e; }
svg path.area.up { fill: #1a7f37; fill-opacity: .08; stroke: none; }
svg path.area.down { fill: #cf222e; fill-opacity: .08; stroke: none; }
.nochart { display: flex; align-items: center; justify-content: center; max-width: 100%;
  background: #f6f8fa; color: #59636e; border: 1px dashed #d0d7de; text-align: center; padding: 8px;
  box-sizing: border-box; }
.note { color: #59636e; margin-top: 18px; }
"""

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def render(
    run: Mapping[str, Any],
    items: Sequence[Panel],
    result: Yield,
    *,
    candidates: int,
    version: str,
    simulated: int | None = None,
    now: dt.datetime | None = None,
) -> str:
    """The HTML page (a string) for ``run`` and its panels, best first (at most ``MAX_SMALL + 1``
    drawn). ``simulated``: how many candidates were simulated in all (default: ``len(items)``)."""
    simulated = len(items) if simulated is None else max(simulated, len(items))
    made = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    started = run.get("created_at")
    when = (
        dt.datetime.fromtimestamp(started, tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        if isinstance(started, int | float)
        else "unknown"
    )
    total = result.total
    head = (
        f"{candidates} candidates, {total.valid} valid, {simulated} simulated, "
        f"{total.passing} passing every check · {total.tokens} tokens · ${total.cost:.6f}"
    )
    body = [
        f"<h1>Run {escape(str(run.get('run_id', '')))}: cumulative PnL</h1>",
        f'<p class="sub">{escape(str(run.get("kind", "")))} · {escape(str(run.get("status", "")))} · '
        f"started {escape(when)} · {escape(head)}</p>",
    ]
    if not items:
        body.append('<p class="note">No candidate of this run was simulated: there is no PnL to draw.</p>')
    else:
        best, rest = items[0], items[1:]
        body.append("<h2>Best alpha (highest Sharpe, then fitness)</h2>")
        body.append(_figure(best, LARGE, "best"))
        if rest:
            shown = rest[:MAX_SMALL]
            body.append(f"<h2>The other simulated candidates, best first ({simulated - 1})</h2>")
            body.append(
                '<div class="grid-of">' + "".join(_figure(p, SMALL, "small") for p in shown) + "</div>"
            )
            if simulated - 1 > len(shown):
                body.append(
                    f'<p class="note">{simulated - 1 - len(shown)} more simulated candidates are not drawn '
                    f"(the page shows the best {MAX_SMALL + 1}); `brain-agent runs show "
                    f"{escape(str(run.get('run_id', '')))}` lists them all.</p>"
                )
    body.append(
        f'<p class="note">Cumulative PnL in dollars, trading days evenly spaced. '
        f"Written by brain-agent {escape(version)} on {made}.</p>"
    )
    title = f"brain-agent run {run.get('run_id', '')}: PnL"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>\n"
        "<body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
