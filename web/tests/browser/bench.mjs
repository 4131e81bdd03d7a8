#!/usr/bin/env node
/**
 * HUD benchmark: frame rate at 1280×720 under headless Chromium + SwiftShader with adaptive
 * quality, frame-time percentiles, and the gzipped size of the exported JS. Prints a summary and
 * writes ../benchmarks/results/hud.json. Frames are counted with requestAnimationFrame in the page;
 * no sleeps. Against HUD_BASE_URL when set, else `brain-agent demo`.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, relative, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { launch, startServer, WEB } from "./lib.mjs";

const OUT = resolve(process.env.HUD_OUT ?? join(WEB, "out"));
const RESULT = resolve(process.env.HUD_BENCH_OUT ?? join(WEB, "../benchmarks/results/hud.json"));
const FRAMES = Number(process.env.BENCH_FRAMES ?? 600);

function walk(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

function jsSizes() {
  const files = walk(OUT).filter((f) => f.endsWith(".js"));
  const rows = files.map((f) => {
    const buf = readFileSync(f);
    return { file: relative(OUT, f), bytes: buf.length, gzip: gzipSync(buf, { level: 9 }).length };
  });
  const html = readFileSync(join(OUT, "index.html"), "utf8");
  const firstLoad = rows.filter((r) => html.includes(r.file.replace(/\\/g, "/")));
  const sum = (xs, k) => xs.reduce((a, r) => a + r[k], 0);
  return {
    files: rows.length,
    total_bytes: sum(rows, "bytes"),
    total_gzip_bytes: sum(rows, "gzip"),
    first_load_gzip_bytes: sum(firstLoad, "gzip"),
    largest: rows.sort((a, b) => b.gzip - a.gzip).slice(0, 5),
  };
}

/** Record `n` rAF intervals in the page (waits on frames, not on a timer). */
async function recordFrames(page, n) {
  return page.evaluate(
    (count) =>
      new Promise((done) => {
        const d = [];
        let last = null;
        const f = (t) => {
          if (last != null) d.push(t - last);
          last = t;
          if (d.length < count) requestAnimationFrame(f);
          else done(d);
        };
        requestAnimationFrame(f);
      }),
    n,
  );
}

function stats(d) {
  const s = [...d].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  const total = d.reduce((a, b) => a + b, 0);
  return { frames: d.length, seconds: +(total / 1000).toFixed(2), fps: +((1000 * d.length) / total).toFixed(1), p50_ms: +q(0.5).toFixed(1), p95_ms: +q(0.95).toFixed(1), p99_ms: +q(0.99).toFixed(1) };
}

async function measure(page, url, frames) {
  await page.goto(url, { waitUntil: "load" });
  await page.waitForFunction(() => (window.__hud?.frames ?? 0) > 5, null, { timeout: 90000 });
  // warm-up: until the governor has not changed level for 90 frames (or 900 frames passed)
  await page.waitForFunction(
    () => {
      const h = window.__hud;
      if (!h) return false;
      h.__mark ??= { level: h.quality, frame: h.frames };
      if (h.quality !== h.__mark.level) h.__mark = { level: h.quality, frame: h.frames };
      return h.frames - h.__mark.frame >= 90 || h.frames > 900;
    },
    null,
    { timeout: 180000, polling: "raf" },
  );
  const d = await recordFrames(page, frames);
  const info = await page.evaluate(() => ({ level: window.__hud.quality, detail: window.__hud.qualityDetail, history: window.__hud.governorHistory }));
  return { ...stats(d), quality_level: info.level, quality: info.detail, governor_history: info.history };
}

const server = await startServer();
const { page, close, context } = await launch({ width: 1280, height: 720 });
const version = context.browser()?.version() ?? (await page.evaluate(() => navigator.userAgent));
const results = { adaptive: null, pinned: {} };
try {
  console.log(`bench against ${server.url} (load avg ${loadavg().map((x) => x.toFixed(2)).join(" ")})`);
  results.adaptive = await measure(page, `${server.url}/`, FRAMES);
  console.log(`adaptive: ${results.adaptive.fps} fps, p95 ${results.adaptive.p95_ms} ms, settled at Q${results.adaptive.quality_level}`);
  for (const level of (process.env.BENCH_PINNED ?? "6,3").split(",").filter(Boolean)) {
    results.pinned[`Q${level}`] = await measure(page, `${server.url}/?quality=${level}&pin=1`, Math.min(FRAMES, 120));
    console.log(`pinned Q${level}: ${results.pinned[`Q${level}`].fps} fps, p95 ${results.pinned[`Q${level}`].p95_ms} ms`);
  }
} finally {
  await close();
  await server.stop();
}
const js = jsSizes();
console.log(`JS: ${(js.total_gzip_bytes / 1024).toFixed(1)} KiB gzipped in ${js.files} files (first load ${(js.first_load_gzip_bytes / 1024).toFixed(1)} KiB)`);
const out = {
  benchmark: "hud",
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, loadavg_at_end: loadavg(), node: process.version, chromium: version, gl: "SwiftShader (--use-angle=swiftshader)" },
  viewport: { width: 1280, height: 720, device_scale_factor: 1 },
  server: process.env.HUD_BASE_URL ? "external" : "brain-agent demo",
  ...results,
  js,
};
mkdirSync(resolve(RESULT, ".."), { recursive: true });
writeFileSync(RESULT, JSON.stringify(out, null, 2) + "\n");
console.log(`wrote ${RESULT}`);
