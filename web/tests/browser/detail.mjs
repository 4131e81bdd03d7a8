#!/usr/bin/env node
/**
 * The candidate detail in real Chromium (issue 13, item 5): against a real `brain-agent serve` whose
 * store holds a finished `run-batch --simulate local` run (DETAIL_RUN), open the run, open the
 * constellation's candidate list, select a simulated candidate and see its expression, metrics,
 * failed checks and a drawn cumulative PnL chart — each compared with the server's own answer; then
 * click a candidate's node in the 3D constellation (its screen position from the graph's own
 * projection, window.__hud.constellation.nodes(); the pointer confirmed over it by the graph's hover,
 * data-hover) and see the detail open on that candidate, as the server describes it.
 * Against HUD_BASE_URL (required). Screenshots → test-artifacts/candidate-detail.png, hud-yield.png,
 * constellation-click.png.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ARTIFACTS, assert, checks, launch, waitFrames } from "./lib.mjs";

const base = (process.env.HUD_BASE_URL ?? "").replace(/\/$/, "");
const runId = process.env.DETAIL_RUN ?? "";
if (!base || !runId) throw new Error("HUD_BASE_URL and DETAIL_RUN are required (a real serve and a simulated run)");
const { page, errors, close } = await launch({ width: 1280, height: 720 });
const c = checks();
const api = async (path) => (await fetch(`${base}${path}`)).json();

try {
  // a candidate the server says was simulated, preferring one with failed checks (more to show)
  const sims = (await api(`/api/runs/${runId}/simulations`)).simulations.filter((s) => s.status === "completed");
  const target = sims.find((s) => s.passed === false) ?? sims[0];
  assert(target, "the run has a completed simulation");
  const want = await api(`/api/runs/${runId}/candidates/${target.candidate_id}`);

  await c.run("the constellation offers the run's candidates as a list", async () => {
    await page.goto(`${base}/?run=${encodeURIComponent(runId)}`, { waitUntil: "load" });
    await page.locator('[data-testid="open-candidates"]').click({ timeout: 60000 });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="candidate-item"]').length > 0, null, { timeout: 30000, polling: 200 });
    const shown = await page.locator('[data-testid="candidate-item"]').count();
    const listed = (await api(`/api/runs/${runId}/candidates`)).candidates.length;
    assert(shown === listed, `list shows ${shown} of the server's ${listed}`);
    return `${shown} candidates`;
  });

  await c.run("selecting a candidate shows its expression, metrics and failed checks", async () => {
    await page.locator(`[data-testid="candidate-item"][data-candidate-id="${target.candidate_id}"]`).click();
    await page.waitForSelector('[data-testid="candidate-expression"]', { timeout: 30000 });
    const expr = (await page.locator('[data-testid="candidate-expression"]').textContent()).trim();
    assert(expr === want.candidate.expression, `expression ${expr} vs ${want.candidate.expression}`);
    const m = {};
    for (const k of ["sharpe", "fitness", "turnover", "returns"]) m[k] = (await page.locator(`[data-testid="metric-${k}"]`).textContent()).trim();
    const s = want.simulation;
    assert(m.sharpe === s.sharpe.toFixed(2), `Sharpe ${m.sharpe} vs ${s.sharpe}`);
    assert(m.fitness === s.fitness.toFixed(2), `fitness ${m.fitness} vs ${s.fitness}`);
    assert(m.turnover === `${(s.turnover * 100).toFixed(1)}%`, `turnover ${m.turnover} vs ${s.turnover}`);
    assert(m.returns === `${(s.returns * 100).toFixed(1)}%`, `returns ${m.returns} vs ${s.returns}`);
    const failed = await page.locator('[data-testid="failed-check"]').allTextContents();
    assert(JSON.stringify(failed) === JSON.stringify(s.failed_checks), `failed checks ${failed} vs ${s.failed_checks}`);
    return { expr, ...m, failed };
  });

  await c.run("the cumulative PnL chart is drawn from the server's series", async () => {
    await page.waitForSelector('[data-testid="pnl-line"] path', { timeout: 30000 });
    const chart = await page.evaluate(() => {
      const el = document.querySelector('[data-testid="pnl-chart"]');
      const path = el.querySelector('[data-testid="pnl-line"] path');
      const box = path.getBBox();
      return { points: Number(el.dataset.points), last: Number(el.dataset.last), d: path.getAttribute("d").length, w: box.width, h: box.height };
    });
    const series = want.simulation.pnl;
    assert(chart.points === Math.min(400, series.values.length), `points ${chart.points} of ${series.values.length}`);
    assert(Math.abs(chart.last - series.values.at(-1)) < 1e-6, `last ${chart.last} vs ${series.values.at(-1)}`);
    assert(chart.w > 300 && chart.h > 10 && chart.d > 200, `the line spans the chart (${chart.w}×${chart.h}, d ${chart.d})`);
    return chart;
  });

  await c.run("screenshot", async () => {
    await waitFrames(page, 10);
    await page.screenshot({ path: join(ARTIFACTS, "candidate-detail.png") });
    return "test-artifacts/candidate-detail.png";
  });

  await c.run("Escape closes the detail", async () => {
    await page.keyboard.press("Escape");
    await page.waitForSelector('[data-testid="candidate-detail"]', { state: "detached", timeout: 10000 });
  });

  await c.run("the yield block shows the server's closing yield; the alert strip its budget alerts", async () => {
    const served = await api(`/api/runs/${runId}/kpi?format=reactor`);
    const y = served.kpi.yield;
    assert(y && y.source === "cycle_completed", `a finished run's closing yield (${y?.source})`);
    await page.waitForSelector('[data-testid="yield"][data-source="cycle_completed"]', { timeout: 30000 });
    const rows = await page.$$eval('[data-testid="yield-row"]', (els) =>
      els.map((e) => ({
        lane: e.getAttribute("data-lane"),
        tokValid: e.querySelector('[data-field="tok-valid"]').textContent,
        tokPass: e.querySelector('[data-field="tok-pass"]').textContent,
        usdPass: e.querySelector('[data-field="usd-pass"]').textContent,
      })),
    );
    const lanes = { ...y.lanes, all: y.total };
    assert(rows.length === Object.keys(lanes).length, `a row per lane and one for all (${rows.map((r) => r.lane)})`);
    // the numbers as printed (1,318 · 12.0k · $0.0042 · —) against the server's, to the printed precision
    const tok = (t) => (t === "—" ? null : t.endsWith("k") ? Number(t.slice(0, -1)) * 1000 : Number(t.replace(/,/g, "")));
    const near = (shown, want, tol) => (want == null ? shown == null : shown != null && Math.abs(shown - Number(want)) <= tol);
    for (const r of rows) {
      const w = lanes[r.lane];
      assert(w, `lane ${r.lane} is the server's`);
      assert(near(tok(r.tokValid), w.tokens_per_valid, 51), `${r.lane} tok/valid ${r.tokValid} vs ${w.tokens_per_valid}`);
      assert(near(tok(r.tokPass), w.tokens_per_passing, 51), `${r.lane} tok/pass ${r.tokPass} vs ${w.tokens_per_passing}`);
      const usd = r.usdPass === "—" ? null : Number(r.usdPass.replace("$", ""));
      assert(near(usd, w.cost_per_passing, 0.00006), `${r.lane} $/pass ${r.usdPass} vs ${w.cost_per_passing}`);
    }
    const expr = (await page.locator('[data-testid="yield-best-expression"]').textContent()).trim();
    assert(expr === y.best.expression, `best alpha ${expr} vs ${y.best.expression}`);
    const line = await page.locator('[data-testid="yield-best"] > div').first().textContent();
    assert(line.includes(`Sharpe ${y.best.sharpe.toFixed(2)}`) && line.includes(`fitness ${y.best.fitness.toFixed(2)}`), `best line "${line}"`);
    // budget alerts: the served reactor's (this run crossed 50 % of its day), newest first
    const alerts = served.reactor.alerts;
    assert(alerts.length > 0, "the run crossed a budget alert threshold");
    await page.waitForSelector('[data-testid="budget-alert"]', { timeout: 30000 });
    const shown = await page.$$eval('[data-testid="budget-alert"]', (els) => els.map((e) => ({ scope: e.dataset.scope, threshold: Number(e.dataset.threshold), text: e.textContent })));
    const newest = alerts.slice(-2).reverse();
    assert(JSON.stringify(shown.map((a) => [a.scope, a.threshold])) === JSON.stringify(newest.map((a) => [a.scope, a.threshold])), `alerts ${JSON.stringify(shown)}`);
    assert(shown[0].text.includes(`(${(newest[0].share * 100).toFixed(1)}%)`), `the server's share in "${shown[0].text}"`);
    await waitFrames(page, 10);
    await page.screenshot({ path: join(ARTIFACTS, "hud-yield.png") });
    return { rows: rows.map((r) => `${r.lane} ${r.tokValid}/${r.tokPass}/${r.usdPass}`).join("; "), best: expr, alert: shown[0].text };
  });

  await c.run("clicking a candidate node in the 3D constellation opens that candidate", async () => {
    // the replay stopped at its end: the whole graph, laid out, the camera fitted and still
    await page.evaluate(() => {
      window.__hud.runtime.setPlaying(false);
      window.__hud.seek(1);
    });
    const listed = (await api(`/api/runs/${runId}/candidates`)).candidates.map((x) => x.candidate_id);
    await page.waitForFunction(
      (n) => {
        const el = document.querySelector('[data-testid="constellation"]');
        const nodes = window.__hud?.constellation?.nodes?.() ?? [];
        return el?.dataset.idle === "1" && nodes.filter((x) => x.kind === "candidate").length === n;
      },
      listed.length,
      { timeout: 90000, polling: 250 },
    );
    // candidate nodes clear of the panel's title row, its button and its legend; most isolated first
    const picks = await page.evaluate(() => {
      const r = document.querySelector('[data-testid="constellation"]').getBoundingClientRect();
      const b = document.querySelector('[data-testid="open-candidates"]')?.getBoundingClientRect();
      const nodes = window.__hud.constellation.nodes();
      const clear = (p) =>
        p.x > r.left + 10 && p.x < r.right - 10 && p.y > r.top + 42 && p.y < r.bottom - 32 &&
        !(b && p.x > b.left - 8 && p.x < b.right + 8 && p.y > b.top - 8 && p.y < b.bottom + 8);
      const room = (p) => Math.min(...nodes.filter((q) => q !== p).map((q) => Math.hypot(q.x - p.x, q.y - p.y)));
      return nodes
        .filter((n) => n.kind === "candidate" && clear(n))
        .map((n) => ({ ...n, room: room(n) }))
        .sort((a, b2) => b2.room - a.room);
    });
    assert(picks.length > 0, "a candidate node is drawn inside the panel");
    let picked = null;
    for (const p of picks.slice(0, 6)) {
      await page.mouse.move(p.x, p.y, { steps: 3 });
      const over = await page
        .waitForFunction((id) => document.querySelector('[data-testid="constellation"]').dataset.hover === id, p.id, { timeout: 10000, polling: 50 })
        .then(() => true, () => false);
      if (over) {
        picked = p;
        break;
      }
    }
    assert(picked, `the pointer rests on a candidate node (tried ${picks.slice(0, 6).map((p) => p.id).join(", ")})`);
    const id = picked.id.replace(/^cand:/, "");
    assert(listed.includes(id), `the node ${id} is one of the server's candidates`);
    await page.mouse.down();
    await page.mouse.up();
    await page.waitForSelector(`[data-testid="candidate-detail"][data-candidate-id="${id}"]`, { timeout: 15000 });
    const want = await api(`/api/runs/${runId}/candidates/${id}`);
    await page.waitForFunction(
      (expr) => document.querySelector('[data-testid="candidate-expression"]')?.textContent?.trim() === expr,
      want.candidate.expression ?? "(no expression)",
      { timeout: 30000, polling: 100 },
    );
    const title = (await page.locator('[data-testid="candidate-detail"] .panel-title').nth(1).textContent()).trim();
    assert(title === `Candidate ${id}`, `detail title "${title}"`);
    if (want.simulation?.status === "COMPLETE") {
      const sharpe = (await page.locator('[data-testid="metric-sharpe"]').textContent()).trim();
      assert(sharpe === want.simulation.sharpe.toFixed(2), `Sharpe ${sharpe} vs ${want.simulation.sharpe}`);
    }
    await waitFrames(page, 10);
    await page.screenshot({ path: join(ARTIFACTS, "constellation-click.png") });
    return `node ${picked.id} at (${picked.x.toFixed(0)}, ${picked.y.toFixed(0)}), ${picked.room.toFixed(0)} px from the next node → detail of ${id}`;
  });

  await c.run("no page errors", async () => {
    assert(errors.length === 0, errors.join("\n"));
  });
} finally {
  writeFileSync(join(ARTIFACTS, "detail-results.json"), JSON.stringify(c.results, null, 2));
  await close();
}
console.log(`${c.results.length - c.failed}/${c.results.length} candidate detail checks passed`);
process.exit(c.failed ? 1 : 0);
