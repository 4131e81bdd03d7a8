/**
 * Shared helpers for the browser tests and the benchmark: start the fake server (unless
 * HUD_BASE_URL points at a real one), launch Debian Chromium with SwiftShader WebGL2 exactly as
 * reference/toolchain-notes.md measured it, decode PNG screenshots, wait on window.__hud.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { inflateSync } from "node:zlib";
import { chromium } from "playwright-core";

export const WEB = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const ARTIFACTS = join(WEB, "test-artifacts");
mkdirSync(ARTIFACTS, { recursive: true });

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless=new",
  "--use-angle=swiftshader",
  "--enable-unsafe-swiftshader",
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
  "--disable-dev-shm-usage",
];

/** Base URL of the server under test; starts scripts/fake-server.mjs when HUD_BASE_URL is unset. */
export async function startServer({ speed = 1 } = {}) {
  if (process.env.HUD_BASE_URL) return { url: process.env.HUD_BASE_URL.replace(/\/$/, ""), fake: false, stop: async () => {} };
  const child = spawn(process.execPath, [join(WEB, "scripts/fake-server.mjs")], {
    env: { ...process.env, PORT: "0", FAKE_SPEED: String(speed) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise((ok, fail) => {
    let buf = "";
    child.stdout.on("data", (d) => {
      buf += d;
      const m = buf.match(/listening on (http:\/\/[^\s]+)/);
      if (m) ok(m[1]);
    });
    child.on("exit", (code) => fail(new Error(`fake server exited with ${code}`)));
  });
  return {
    url,
    fake: true,
    stop: async () => {
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode != null ? r() : child.once("exit", r)));
    },
  };
}

/** A fresh Chromium profile each time; returns {context, page, close}. */
export async function launch({ width = 1280, height = 720 } = {}) {
  const profile = mkdtempSync(join(tmpdir(), "hud-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: false, // headless comes from --headless=new in the args, as measured
    args: CHROMIUM_ARGS,
    viewport: { width, height },
    deviceScaleFactor: 1,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  return {
    context,
    page,
    errors,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Wait until the HUD has drawn `n` more frames (never a sleep). */
export async function waitFrames(page, n, timeout = 60000) {
  const start = await page.evaluate(() => window.__hud?.frames ?? 0);
  await page.waitForFunction((target) => (window.__hud?.frames ?? 0) >= target, start + n, { timeout, polling: 100 });
}

export async function hudState(page) {
  return page.evaluate(() => window.__hud?.snapshot?.() ?? null);
}

// --- PNG ---------------------------------------------------------------------------------------
/** Decode an 8-bit, non-interlaced RGB/RGBA PNG (what Chromium screenshots are). */
export function decodePng(buf) {
  let off = 8;
  let width = 0;
  let height = 0;
  let colorType = 0;
  const idat = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString("ascii", off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[12] !== 0) throw new Error("only 8-bit non-interlaced PNG");
      colorType = data[9];
    } else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") break;
    off += 12 + len;
  }
  const bpp = colorType === 6 ? 4 : colorType === 2 ? 3 : (() => { throw new Error(`colour type ${colorType}`); })();
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const out = Buffer.alloc(width * height * 4);
  const prev = Buffer.alloc(stride);
  const cur = Buffer.alloc(stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    raw.copy(cur, 0, y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? cur[x - bpp] : 0;
      const b = prev[x];
      const c = x >= bpp ? prev[x - bpp] : 0;
      let v = cur[x];
      if (f === 1) v += a;
      else if (f === 2) v += b;
      else if (f === 3) v += (a + b) >> 1;
      else if (f === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      cur[x] = v & 255;
    }
    for (let x = 0; x < width; x++) {
      out[(y * width + x) * 4] = cur[x * bpp];
      out[(y * width + x) * 4 + 1] = cur[x * bpp + 1];
      out[(y * width + x) * 4 + 2] = cur[x * bpp + 2];
      out[(y * width + x) * 4 + 3] = bpp === 4 ? cur[x * bpp + 3] : 255;
    }
    cur.copy(prev);
  }
  return { width, height, rgba: out };
}

/** Share of pixels brighter than `min` (max channel), the mean colour, and distinct colours. */
export function pixelStats(png, min = 40) {
  const { rgba } = png;
  const n = rgba.length / 4;
  let bright = 0;
  let r = 0;
  let g = 0;
  let b = 0;
  const distinct = new Set();
  for (let i = 0; i < n; i++) {
    const R = rgba[i * 4];
    const G = rgba[i * 4 + 1];
    const B = rgba[i * 4 + 2];
    if (Math.max(R, G, B) > min) bright++;
    r += R;
    g += G;
    b += B;
    if (i % 7 === 0) distinct.add((R >> 3) * 1024 + (G >> 3) * 32 + (B >> 3));
  }
  return { brightShare: bright / n, mean: [r / n, g / n, b / n].map((x) => Math.round(x)), distinct: distinct.size };
}

/** Minimal test runner: named checks, a summary, exit code. */
export function checks() {
  const results = [];
  return {
    async run(name, fn) {
      const t0 = Date.now();
      try {
        const detail = await fn();
        results.push({ name, ok: true, ms: Date.now() - t0, detail });
        console.log(`  ✓ ${name} (${Date.now() - t0} ms)${detail ? ` — ${typeof detail === "string" ? detail : JSON.stringify(detail)}` : ""}`);
      } catch (e) {
        results.push({ name, ok: false, ms: Date.now() - t0, error: String(e?.stack ?? e) });
        console.log(`  ✗ ${name}\n    ${String(e?.message ?? e).split("\n").join("\n    ")}`);
      }
    },
    results,
    get failed() {
      return results.filter((r) => !r.ok).length;
    },
  };
}

export function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}
