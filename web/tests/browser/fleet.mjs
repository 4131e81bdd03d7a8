#!/usr/bin/env node
/**
 * The fleet view in real Chromium: with several run-batch processes writing to one store (the pytest
 * test starts them, on PostgreSQL), "all live runs" in the run picker follows /api/stream/live and
 * shows every running run with its host:pid, and the core shows the server's aggregate (the HUD
 * computes nothing). Against HUD_BASE_URL (required). Screenshot → test-artifacts/fleet.png.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ARTIFACTS, assert, checks, hudState, launch, waitFrames } from "./lib.mjs";

const base = (process.env.HUD_BASE_URL ?? "").replace(/\/$/, "");
if (!base) throw new Error("HUD_BASE_URL is required (a real brain-agent serve with live runs)");
const want = Number(process.env.FLEET_RUNS ?? "2");
const { page, errors, close } = await launch({ width: 1280, height: 720 });
const c = checks();

try {
  await c.run("the run picker lists each run with its holder (host:pid)", async () => {
    await page.goto(`${base}/`, { waitUntil: "load" });
    await page.waitForFunction((n) => (window.__hud?.runs ?? []).filter((r) => r.status === "running").length >= n, want, { timeout: 60000, polling: 200 });
    const runs = await page.evaluate(() => window.__hud.runs.filter((r) => r.status === "running"));
    const labels = await page.locator('[data-testid="run-picker"] option').allTextContents();
    for (const r of runs) {
      assert(/^.+:\d+$/.test(r.holder ?? ""), `holder of ${r.run_id} is host:pid (got ${r.holder})`);
      assert(labels.some((l) => l.includes(r.run_id) && l.includes(r.holder)), `picker shows ${r.run_id} · ${r.holder}`);
    }
    return runs.map((r) => `${r.run_id}@${r.holder}`).join(", ");
  });

  await c.run("'all live runs' follows the fleet stream and lists every running run", async () => {
    await page.selectOption('[data-testid="run-picker"]', "__fleet__");
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid="fleet-runs"]')?.getAttribute("data-count") ?? 0) >= n, want, {
      timeout: 60000,
      polling: 200,
    });
    const rows = await page.locator('[data-testid="fleet-run"]').allTextContents();
    assert(rows.length >= want, `fleet rows ${rows.length}`);
    assert(new URL(page.url()).searchParams.get("fleet") === "1", "the URL says fleet=1");
    const s = await hudState(page);
    assert(s.runId === "live" && s.conn === "live", `state ${s.runId} ${s.conn}`);
    return rows.join(" | ");
  });

  await c.run("the core shows the server's aggregate pressure and totals", async () => {
    // the batches may not have settled a call yet when the fleet view first lists them: wait (no
    // fixed frame count) for the server's aggregate to carry spend, then compare
    await page.waitForFunction(() => (window.__hud?.runtime?.state?.server?.reactor?.pressure ?? 0) > 0, null, { timeout: 90000, polling: 100 });
    await waitFrames(page, 5);
    // the HUD shows what the server sent; compare with the same cursor's REST answer
    const shown = await page.evaluate(() => {
      const server = window.__hud.runtime.state.server;
      return { cursor: server.cursor, pressure: server.reactor?.pressure, calls: server.reactor?.totals.calls, runs: server.runs.length };
    });
    const rest = await (await fetch(`${base}/api/live/reactor_status`)).json();
    assert(rest.run_id === "live" && rest.reactor, "REST fleet view has a reactor");
    assert(shown.pressure != null && shown.pressure > 0, `pressure shown ${shown.pressure}`);
    assert(rest.reactor.totals.calls >= shown.calls, `calls only grow (${shown.calls} → ${rest.reactor.totals.calls})`);
    const perRun = Math.max(...rest.runs.map((r) => r.pressure));
    assert(rest.reactor.pressure >= perRun, `fleet pressure ${rest.reactor.pressure} ≥ each run's ${perRun}`);
    const s = await hudState(page);
    return { shown, restPressure: rest.reactor.pressure, perRunMax: perRun, hudPressure: s.pressure, coreState: s.coreState };
  });

  await c.run("screenshot", async () => {
    await waitFrames(page, 30);
    await page.screenshot({ path: join(ARTIFACTS, "fleet.png") });
    return "test-artifacts/fleet.png";
  });

  await c.run("no page errors", async () => {
    assert(errors.length === 0, errors.join("\n"));
  });
} finally {
  writeFileSync(join(ARTIFACTS, "fleet-results.json"), JSON.stringify(c.results, null, 2));
  await close();
}
console.log(`${c.results.length - c.failed}/${c.results.length} fleet checks passed`);
process.exit(c.failed ? 1 : 0);
