#!/usr/bin/env node
/**
 * Browser tests of the built HUD (web/out) in real headless Chromium with SwiftShader WebGL2.
 * Against HUD_BASE_URL when set (the pytest browser test), else against `brain-agent demo`.
 * Waits on window.__hud (frame counter, state), never on sleeps. Screenshots → test-artifacts/.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { layoutAt, SIZES } from "./layout.mjs";
import { ARTIFACTS, assert, checks, decodePng, hudState, launch, pixelStats, startServer, waitFrames } from "./lib.mjs";

const server = await startServer();
console.log(`HUD browser tests against ${server.url}`);
const { page, errors, close } = await launch({ width: 1280, height: 720 });
const c = checks();
const shot = (name) => page.screenshot({ path: join(ARTIFACTS, name) });

try {
  await c.run("page loads and the frame loop runs", async () => {
    await page.goto(`${server.url}/`, { waitUntil: "load" });
    await page.waitForFunction(() => (window.__hud?.frames ?? 0) > 30, null, { timeout: 60000 });
    const s = await hudState(page);
    return `frames=${s.frames} quality=Q${s.quality} mode=${s.mode}`;
  });

  await c.run("the WebGL canvas renders (non-blank pixels)", async () => {
    const canvas = page.locator('[data-testid="reactor"] canvas').first();
    await canvas.waitFor({ state: "attached", timeout: 60000 });
    const gl = await page.evaluate(() => {
      const cv = document.querySelector('[data-testid="reactor"] canvas');
      const ctx = cv && (cv.getContext("webgl2") || cv.getContext("webgl"));
      return ctx ? { version: ctx.getParameter(ctx.VERSION), renderer: ctx.getParameter(ctx.RENDERER) } : null;
    });
    assert(gl && /WebGL 2/.test(gl.version), `WebGL2 context (got ${JSON.stringify(gl)})`);
    await waitFrames(page, 20);
    const png = decodePng(await canvas.screenshot());
    const st = pixelStats(png);
    assert(st.brightShare > 0.01, `bright pixels ${st.brightShare}`);
    assert(st.distinct > 40, `colour variety ${st.distinct}`);
    return { ...gl, ...st };
  });

  await c.run("numbers change as events arrive", async () => {
    const before = await hudState(page);
    const text0 = await page.locator('[data-testid="ro-tokens"]').textContent();
    await page.waitForFunction(
      (n) => (window.__hud?.snapshot?.().totals?.total_tokens ?? 0) > n,
      before.totals.total_tokens,
      { timeout: 90000, polling: 200 },
    );
    await page.waitForFunction((t) => document.querySelector('[data-testid="ro-tokens"]')?.textContent !== t, text0, { timeout: 10000 });
    const after = await hudState(page);
    const text1 = await page.locator('[data-testid="ro-tokens"]').textContent();
    assert(after.cursor > before.cursor, "cursor advanced");
    return `tokens ${text0} → ${text1}, cursor ${before.cursor} → ${after.cursor}, conn=${after.conn}`;
  });

  await c.run("token injections send particles into the core", async () => {
    const s0 = await hudState(page);
    await page.waitForFunction((n) => (window.__hud?.snapshot?.().particlesSpawned ?? 0) > n, s0.particlesSpawned, { timeout: 90000, polling: 200 });
    const s1 = await hudState(page);
    return `spawned ${s0.particlesSpawned} → ${s1.particlesSpawned}`;
  });

  await c.run("radar shows the subcategories of the ideas in flight", async () => {
    await page.waitForFunction(
      () => {
        const s = window.__hud?.snapshot?.();
        if (!s?.scanning?.length) return false;
        const dom = [...document.querySelectorAll('[data-testid="radar-blip"]')].map((e) => e.getAttribute("data-subcategory"));
        return s.scanning.every((x) => dom.includes(x)) && dom.every((x) => s.scanning.includes(x));
      },
      null,
      { timeout: 90000, polling: 100 },
    );
    const subs = await page.$$eval('[data-testid="radar-blip"]', (els) => els.map((e) => `${e.getAttribute("data-subcategory")}/${e.getAttribute("data-lane")}`));
    const feed = await page.locator('[data-testid="radar-feed"]').textContent();
    assert(/Scanning/.test(feed) || /Sector \d+/.test(feed) || feed.length > 0, "feed has lines");
    await shot("hud-radar.png");
    return subs.join(", ");
  });

  await c.run("protection overlay appears after a fallback (one element, its state changes)", async () => {
    const overlay = page.locator('[data-testid="protection-overlay"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="protection-overlay"]')?.getAttribute("data-state") === "shown", null, { timeout: 120000, polling: 50 });
    assert((await overlay.count()) === 1, `exactly one overlay element (found ${await overlay.count()})`);
    const text = await overlay.textContent();
    assert(/SYSTEM PROTECTION ACTIVATED/i.test(text), `overlay text: ${text}`);
    const s = await hudState(page);
    assert(s.protectionSeq > 0, "protection sequence counted");
    await waitFrames(page, 3);
    await shot("hud-protection.png");
    // every frame for 3 s (protections keep firing in this run): never a second copy beside it
    const most = await page.evaluate(
      () =>
        new Promise((done) => {
          let max = 0;
          const t0 = performance.now();
          const tick = () => {
            max = Math.max(max, document.querySelectorAll('[data-testid="protection-overlay"]').length);
            if (performance.now() - t0 < 3000) requestAnimationFrame(tick);
            else done(max);
          };
          requestAnimationFrame(tick);
        }),
    );
    assert(most === 1, `at most one overlay element in any frame (saw ${most})`);
    return text.replace(/\s+/g, " ").trim();
  });

  await c.run("layout at 1024×640, 1280×720 and 1920×1080: nothing clipped or overlapping", async () => {
    // while the live run has ideas in flight, so the radar has labels to keep apart
    await page.waitForFunction(() => (window.__hud?.snapshot?.().scanning?.length ?? 0) > 0, null, { timeout: 90000, polling: 100 });
    const out = [];
    for (const [w, h] of SIZES) out.push(await layoutAt(page, w, h, "hud"));
    await page.setViewportSize({ width: 1280, height: 720 });
    await waitFrames(page, 5);
    return out.join("; ");
  });

  await c.run("a favicon is served", async () => {
    const href = await page.evaluate(() => document.querySelector('link[rel~="icon"]')?.getAttribute("href"));
    assert(href, "a <link rel=icon>");
    const status = await page.evaluate(async (h) => (await fetch(h)).status, href);
    assert(status === 200, `favicon ${href} → HTTP ${status}`);
    return href;
  });

  await c.run("the core heats toward red near the limit", async () => {
    // the end of a run: a block (or a critical pressure) holds for the 30 s protection window
    await page.waitForFunction(() => ["critical", "blocked"].includes(window.__hud?.snapshot?.().coreState), null, { timeout: 150000, polling: 250 });
    const s = await hudState(page);
    await waitFrames(page, 4);
    await shot("hud-heat.png");
    return `core ${s.coreState}, pressure ${s.pressure.toFixed(3)}`;
  });

  await c.run("replay of a finished run: the scrubber moves state", async () => {
    // a real server may still be running its first batch: wait (polling, up to 3 min) for a finished run
    // (the HUD refreshes its run list every 5 s and exposes it on window.__hud.runs)
    await page.waitForFunction(() => (window.__hud?.runs ?? []).some((r) => r.status !== "running"), null, { timeout: 180000, polling: 500 });
    const runs = await page.evaluate(async (u) => (await fetch(`${u}/api/runs`)).json(), server.url);
    const list = Array.isArray(runs) ? runs : runs.runs;
    const score = (r) => r.headline?.total_tokens ?? r.events ?? 0;
    const done = list.filter((r) => r.status !== "running").sort((a, b) => score(b) - score(a))[0];
    assert(done, "a finished run exists");
    await page.goto(`${server.url}/?run=${encodeURIComponent(done.run_id)}`, { waitUntil: "load" });
    await page.waitForFunction(() => window.__hud?.snapshot?.().replay?.t1 > 0, null, { timeout: 60000, polling: 100 });
    const scrub = async (f) => {
      await page.evaluate((v) => {
        const el = document.querySelector('[data-testid="replay-scrubber"]');
        const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set;
        set.call(el, String(Math.round(v * 1000)));
        el.dispatchEvent(new Event("input", { bubbles: true }));
      }, f);
      // the figures are the server's answer for this moment (reactor_status?at=): wait for it
      await page.waitForFunction(() => {
        const r = window.__hud?.runtime?.replay;
        return r && r.at > 0 && r.shownAt === r.at;
      }, null, { timeout: 120000, polling: 20 }); // a wait, not a speed check: a loaded machine may be slow
      await waitFrames(page, 5);
      return hudState(page);
    };
    await page.locator('[data-testid="replay-scrubber"]').waitFor({ timeout: 30000 });
    // a replay starts playing; pause it so playback doesn't race the scrubbing below
    await page.evaluate(() => window.__hud.runtime.setPlaying(false));
    const a = await scrub(0.15);
    const b = await scrub(0.95);
    const c2 = await scrub(0.4);
    assert(b.totals.total_tokens > a.totals.total_tokens, `tokens grow with t (${a.totals.total_tokens} → ${b.totals.total_tokens})`);
    assert(c2.totals.total_tokens <= b.totals.total_tokens && c2.replay.applied < b.replay.applied, "scrubbing back rebuilds an earlier state");
    assert(b.graphNodes > 0, "constellation has nodes");
    // exactly what the server serves for that event
    const served = await page.evaluate(async ([u, id, at]) => (await fetch(`${u}/api/runs/${id}/reactor_status?format=reactor&at=${at}`)).json(), [server.url, done.run_id, b.replay.at]);
    assert(served.reactor.totals.total_tokens === b.totals.total_tokens, `HUD tokens ${b.totals.total_tokens} = served ${served.reactor.totals.total_tokens}`);
    const end = await scrub(1);
    assert(end.status === "completed", `the end of the replay is the finished run (${end.status})`);
    const tte = await page.locator('[data-testid="ro-tte"]').textContent();
    assert(tte.trim() === "—", `a finished run forecasts no exhaustion (shows "${tte}")`);
    await waitFrames(page, 30);
    await shot("hud-replay.png");
    return `events applied ${a.replay.applied} → ${b.replay.applied} → ${c2.replay.applied}; tokens ${a.totals.total_tokens} → ${b.totals.total_tokens} → ${c2.totals.total_tokens}`;
  });

  await c.run("replay plays forward on its own", async () => {
    await page.evaluate(() => window.__hud.seek(0.2));
    const s0 = await hudState(page);
    await page.click('[data-testid="replay-play"]');
    await page.waitForFunction((t) => window.__hud?.snapshot?.().replay?.t > t, s0.replay.t, { timeout: 20000, polling: 100 });
    return "ok";
  });

  await c.run("no page errors", async () => {
    const serious = errors;
    assert(serious.length === 0, serious.join("\n"));
  });
} finally {
  writeFileSync(join(ARTIFACTS, "browser-results.json"), JSON.stringify(c.results, null, 2));
  await close();
  await server.stop();
}
console.log(`${c.results.length - c.failed}/${c.results.length} browser checks passed; screenshots in ${ARTIFACTS}`);
process.exit(c.failed ? 1 : 0);
