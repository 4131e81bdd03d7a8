/**
 * Shared helpers for the browser tests and the benchmark: start `brain-agent demo` (unless
 * HUD_BASE_URL points at a real one), launch Debian Chromium with SwiftShader WebGL2 exactly as
 * reference/toolchain-notes.md measured it, decode PNG screenshots, wait on window.__hud.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
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

/**
 * Base URL of the server under test. With HUD_BASE_URL set (the pytest browser test: a real server and
 * a live batch), that; otherwise `brain-agent demo` on a free port (the real server, a fresh store and
 * paced mock batches). There is no stand-in server: the Python server is the only authority.
 */
export async function startServer({ ideas = 40, pace = 1.0 } = {}) {
  if (process.env.HUD_BASE_URL) return { url: process.env.HUD_BASE_URL.replace(/\/$/, ""), fake: false, stop: async () => {} };
  const repo = resolve(WEB, "..");
  const venv = join(repo, ".venv", "bin", "python");
  const python = existsSync(venv) ? venv : "python3";
  const port = await freePort();
  const workdir = mkdtempSync(join(tmpdir(), "hud-demo-"));
  const child = spawn(
    python,
    ["-m", "brain_agent.cli", "demo", "--port", String(port), "--batches", "3", "--ideas", String(ideas), "--pace", String(pace), "--dir", join(workdir, "demo")],
    { cwd: repo, stdio: ["ignore", "ignore", "inherit"], detached: true },
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60000;
  for (;;) {
    if (child.exitCode != null) throw new Error(`brain-agent demo exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/api/health`)).ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error("brain-agent demo did not start within 60 s");
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    fake: false,
    stop: async () => {
      try {
        process.kill(-child.pid, "SIGTERM"); // the demo and the server and batch it started
      } catch {
        /* already gone */
      }
      await new Promise((r) => (child.exitCode != null ? r() : child.once("exit", r)));
      rmSync(workdir, { recursive: true, force: true });
    },
  };
}

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
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
