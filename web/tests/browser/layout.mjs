/**
 * Layout checks at a given viewport: nothing clipped or overlapping, the title on one line, radar
 * labels apart, one sector number per subcategory, no internal event names on screen. Used by
 * run.mjs at 1024×640, 1280×720 and 1920×1080; `node tests/browser/layout.mjs` runs it alone
 * (HUD_BASE_URL=… for a real server) and writes the screenshots.
 */
import { join } from "node:path";
import { ARTIFACTS, assert, waitFrames } from "./lib.mjs";

export const SIZES = [
  [1024, 640],
  [1280, 720],
  [1920, 1080],
];

/** Geometry and text of the page, measured in the browser. */
export function measure() {
  const box = (el) => {
    const r = el.getBoundingClientRect();
    return { x: r.left, y: r.top, w: r.width, h: r.height, r: r.right, b: r.bottom };
  };
  const q = (s) => document.querySelector(s);
  const panels = [...document.querySelectorAll("[data-panel]")].map((el) => ({ name: el.getAttribute("data-panel"), ...box(el), sw: el.scrollWidth, cw: el.clientWidth }));
  const labels = [...document.querySelectorAll('[data-testid="radar-label"]')].filter((el) => getComputedStyle(el).display !== "none").map((el) => ({ text: el.textContent, ...box(el) }));
  const blips = [...document.querySelectorAll('[data-testid="radar-blip"]')].map((el) => ({ sub: el.getAttribute("data-subcategory"), sector: el.getAttribute("data-sector") }));
  const pick = (s) => (q(s) ? box(q(s)) : null);
  return {
    vw: window.innerWidth,
    vh: window.innerHeight,
    docW: document.documentElement.scrollWidth,
    docH: document.documentElement.scrollHeight,
    title: pick('[data-testid="hud-title"]'),
    panels,
    labels,
    blips,
    core: pick('[data-testid="core-readout"]'),
    legend: pick('[data-testid="scope-legend"]'),
    flow: pick('[data-testid="flow-readout"]'),
    gauge: pick('[data-testid="gauge-title"]'),
    reactor: pick('[data-testid="reactor"]'),
    text: document.body.innerText,
  };
}

const overlap = (a, b, pad = 0) => a && b && a.x < b.r - pad && b.x < a.r - pad && a.y < b.b - pad && b.y < a.b - pad;

export function checkLayout(m) {
  const problems = [];
  if (m.docW > m.vw + 1 || m.docH > m.vh + 1) problems.push(`page scrolls: ${m.docW}×${m.docH} in ${m.vw}×${m.vh}`);
  if (!m.title || m.title.h > 32) problems.push(`title wraps (height ${m.title?.h})`);
  for (const p of m.panels) {
    if (p.x < -1 || p.y < -1 || p.r > m.vw + 1 || p.b > m.vh + 1) problems.push(`panel ${p.name} outside the viewport`);
    if (p.sw > p.cw + 2) problems.push(`panel ${p.name} clips its content horizontally (${p.sw} > ${p.cw})`);
  }
  for (const [a, b] of [["core", "legend"], ["core", "flow"], ["legend", "flow"], ["gauge", "core"]]) {
    if (overlap(m[a], m[b], 1)) problems.push(`${a} overlaps ${b}`);
  }
  if (m.core && m.reactor && (m.core.b > m.reactor.b + 1 || m.core.y < m.reactor.y)) problems.push("core readout outside the reactor panel");
  for (let i = 0; i < m.labels.length; i++)
    for (let j = i + 1; j < m.labels.length; j++)
      if (overlap(m.labels[i], m.labels[j], 1)) problems.push(`radar labels overlap: "${m.labels[i].text}" / "${m.labels[j].text}"`);
  const bySector = new Map();
  for (const b of m.blips) {
    const prev = bySector.get(b.sector);
    if (prev && prev !== b.sub) problems.push(`sector ${b.sector} is both ${prev} and ${b.sub}`);
    bySector.set(b.sector, b.sub);
  }
  const internal = m.text.match(/\b(metadata_sync|cycle_completed|(budget|llm|simulation|candidate|retrieval|idea|kpi)\.[a-z_]+)\b/);
  if (internal) problems.push(`internal event name on screen: ${internal[0]}`);
  return problems;
}

/** Resize, let the layout settle, screenshot and check. */
export async function layoutAt(page, w, h, name) {
  await page.setViewportSize({ width: w, height: h });
  await waitFrames(page, 20);
  await page.waitForTimeout(400); // ResizeObserver → React → layout
  const file = `${name}-${w}x${h}.png`;
  await page.screenshot({ path: join(ARTIFACTS, file) });
  const m = await page.evaluate(measure);
  const problems = checkLayout(m);
  assert(problems.length === 0, `${w}×${h}: ${problems.join("; ")}`);
  return `${w}×${h} ok (${m.labels.length} radar labels, ${m.blips.length} blips) → ${file}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { launch, startServer } = await import("./lib.mjs");
  const server = await startServer({ speed: 2 });
  const { page, close } = await launch({ width: 1280, height: 720 });
  await page.goto(`${server.url}/${process.argv[2] ?? ""}`, { waitUntil: "load" });
  await page.waitForFunction(() => (window.__hud?.frames ?? 0) > 30 && window.__hud?.snapshot?.().status !== "waiting", null, { timeout: 60000 });
  await page.waitForTimeout(2500);
  let failed = 0;
  for (const [w, h] of SIZES) {
    try {
      console.log(await layoutAt(page, w, h, process.argv[3] ?? "hud"));
    } catch (e) {
      failed++;
      console.log(String(e.message ?? e));
    }
  }
  await close();
  await server.stop();
  process.exit(failed ? 1 : 0);
}
