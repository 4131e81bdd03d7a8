#!/usr/bin/env node
/**
 * Dev fixture: a stand-in for the Python server so the HUD can be seen and tested without it.
 * Follows docs/reactor-contract.md and docs/events.md:
 *   GET  /api/runs                              → {runs: [{run_id, kind, status, started_at, finished_at, headline}]}
 *   GET  /api/runs/{id}/reactor_status|budget|kpi?format=both|chart|reactor
 *   GET  /api/runs/{id}/events?after=&limit=    → {run_id, events, next_cursor, has_more} (limit ≤ 1000)
 *   WS   /api/runs/{id}/stream?after=  and  /api/stream/latest?after=
 *   GET  /*                                     → static files from web/out/
 * Test hooks (not part of the contract): POST /__fake/drop closes every socket; GET /__fake/state.
 *
 * The reactor view is computed with the HUD's own fold (src/lib/derive.ts, transpiled at start
 * with the TypeScript compiler), so there is one implementation of the contract's arithmetic.
 *
 * Env: PORT (8765; 0 = any), HOST (127.0.0.1), HUD_OUT (../out), FAKE_SPEED (1 = scripted run
 * takes ~80 s), FAKE_LOOP (1: start a new live run after the last one completes).
 */
import { createServer } from "node:http";
import { mkdtempSync, readFileSync, writeFileSync, existsSync, statSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, extname, join, normalize, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";
import { WebSocketServer } from "ws";

const here = dirname(fileURLToPath(import.meta.url));
const WEB = resolve(here, "..");
const OUT = resolve(process.env.HUD_OUT ?? join(WEB, "out"));
const SPEED = Number(process.env.FAKE_SPEED ?? 1);
const LOOP = (process.env.FAKE_LOOP ?? "1") !== "0";

// --- the fold, from the HUD's own source -------------------------------------------------------
async function loadDerive() {
  const dir = mkdtempSync(join(tmpdir(), "hud-fake-"));
  for (const name of ["derive", "sectors", "api-types"]) {
    const src = readFileSync(join(WEB, "src/lib", `${name}.ts`), "utf8");
    let js = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    js = js.replace(/from "\.\/(\w[\w-]*)"/g, 'from "./$1.mjs"');
    writeFileSync(join(dir, `${name}.mjs`), js);
  }
  const mod = await import(pathToFileURL(join(dir, "derive.mjs")).href);
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  return mod;
}
const derive = await loadDerive();

// --- scripted runs -----------------------------------------------------------------------------
let rngState = 20251125;
const rnd = () => ((rngState = (rngState * 16807) % 2147483647) - 1) / 2147483646;
const pick = (a) => a[Math.floor(rnd() * a.length)];

// invented ids and names for this fixture; the real server sends the knowledge pack's
const SUBCAT_NAMES = {
  "option-volatility": "Volatility Index", "price-momentum": "Momentum Field", "analyst-estimates": "Analyst Estimates",
  "fundamental-valuation": "Valuation Core", "earnings-quality": "Earnings Quality", "news-sentiment": "News Sentiment",
  "short-interest": "Short Interest", "liquidity": "Liquidity Grid", "insider-trading": "Insider Flow",
  "implied-volatility": "Implied Volatility", "social-media": "Social Signal",
};
const SUBCATS = Object.keys(SUBCAT_NAMES);
const FIELDS = ["close", "open", "volume", "vwap", "returns", "cap", "implied_volatility_call_120", "est_eps", "sales", "assets", "debt", "news_sentiment", "short_interest", "adv20"];
const OPS = ["rank", "ts_rank", "ts_mean", "ts_delta", "zscore", "group_neutralize", "ts_corr", "decay_linear", "signed_power", "ts_std_dev", "winsorize"];
const LIMITS = { request: 12000, batch: 34000, lane_exploit: 24000, lane_explore: 10200, day: 400000, week: 2000000, money_day: 2.5 };

/** A run as a list of [offset_s, name, {idea_id, lane, step}, payload]. Deterministic. */
function scriptRun() {
  const s = [];
  let t = 0;
  const at = (dt, name, meta, payload) => {
    t += dt;
    s.push([t, name, meta, payload]);
  };
  at(0.2, "metadata_sync", { step: "pipeline" }, {
    knowledge_pack: { directory: "data/meta/index", operators: 66, fields: 1840, subcategories: 24, digest: "sha256:fake" },
    budget: { limits: LIMITS, baseline: { day: 52000, week: 310000, money_day: "0.41" }, exploit_ratio: 0.7, explore_ratio: 0.3, min_explore_candidates_per_batch: 2, expansion_reserve_tokens: 4000 },
    provider: "mock", model: "mock-alpha-1", batch_size: 8,
  });
  const lanes = ["exploit", "explore", "exploit", "exploit", "explore", "exploit", "explore", "exploit"];
  let res = 0;
  let cand = 0;
  let fallbacks = 0;
  const subsUsed = new Set();
  const combos = new Set();
  for (let i = 0; i < lanes.length; i++) {
    const idea_id = `i${i + 1}`;
    const lane = lanes[i];
    const m = (step) => ({ idea_id, lane, step });
    const subs = [pick(SUBCATS), pick(SUBCATS)].filter((x, k, a) => a.indexOf(x) === k);
    if (i === 1) subs[0] = "option-volatility";
    at(1.2, "idea.refined", m("idea"), { title: `${lane === "explore" ? "Explore" : "Exploit"} idea ${i + 1}: ${subs.join(" × ")}`, subcategories: subs });
    at(0.8, "retrieval.pack_built", m("retrieval"), { topk: { fields: 40, operators: 24, subcategories: 3 }, subcategories: subs, subcategory_names: Object.fromEntries(subs.map((x) => [x, SUBCAT_NAMES[x]])) });
    let prompt = 2200 + Math.round(rnd() * 3800);
    const completion = 400 + Math.round(rnd() * 600);
    if (i === 5) {
      // the explore floor: an exploit idea is deferred so the explore lane keeps its minimum
      at(0.6, "budget.explore_floor_preserved", m("budget"), { explore_count: 2, min_explore: 2, deferred_idea_id: "i5" });
      at(0.1, "budget.deferred", { idea_id: "i5", lane: "explore", step: "budget" }, { reason: "explore_floor", failure_code: "EXPLORE_FLOOR" });
    }
    if (i === 7) {
      at(0.7, "budget.check_failed", m("budget"), { prompt_tokens: prompt, completion_tokens: completion, topk: { fields: 40, operators: 24, subcategories: 3 }, lane_ratio: { exploit: 0.7, explore: 0.3 }, over_budget: true, fallback_count: fallbacks, scope: "batch", limit: LIMITS.batch, observed: LIMITS.batch + 2100 });
      at(0.3, "budget.blocked", m("budget"), { failure_code: "BUDGET_BATCH_TOKENS", scope: "batch", limit: LIMITS.batch, observed: LIMITS.batch + 2100, action: "defer" });
      continue;
    }
    const overBudget = i === 0 || i === 3 || i === 6;
    if (overBudget) {
      at(0.5, "budget.check_failed", m("budget"), { prompt_tokens: prompt + 9000, completion_tokens: completion, topk: { fields: 40, operators: 24, subcategories: 3 }, lane_ratio: { exploit: 0.7, explore: 0.3 }, over_budget: true, fallback_count: fallbacks, scope: "request", limit: LIMITS.request, observed: prompt + 9000 + completion });
      fallbacks++;
      at(0.3, "budget.fallback_applied", m("budget"), { stage: "fields", from_k: 40, to_k: 20, tokens_before: prompt + 9000, tokens_after: prompt + 3000, fallback_count: fallbacks });
      fallbacks++;
      at(0.3, "budget.fallback_applied", m("budget"), { stage: "operators", from_k: 24, to_k: 12, tokens_before: prompt + 3000, tokens_after: prompt, fallback_count: fallbacks });
    }
    at(0.4, "budget.check_passed", m("budget"), { prompt_tokens: prompt, completion_tokens: completion, topk: { fields: overBudget ? 20 : 40, operators: overBudget ? 12 : 24, subcategories: 3 }, lane_ratio: { exploit: 0.7, explore: 0.3 }, over_budget: false, fallback_count: fallbacks });
    const rid = `res${++res}`;
    const reserveCost = ((prompt * 1.25 + 2000 * 10) / 1e6).toFixed(6);
    at(0.2, "budget.reserved", m("budget"), { reservation_id: rid, tokens: prompt + 2000, cost: reserveCost, scopes: [`lane:b1:${lane}`, "batch:b1", "day:2026-11-25@UTC", "week:2026-W48@UTC", "money_day:2026-11-25@UTC"] });
    const cacheHit = i === 4;
    const spike = i === 6 ? 3.2 : 1;
    if (cacheHit) prompt = 0;
    const cost = cacheHit ? "0" : (((prompt * 1.25 + completion * 10) / 1e6) * spike).toFixed(6);
    at(1.6 + rnd() * 1.6, "llm.call", m("llm"), { provider: "mock", model: "mock-alpha-1", prompt_tokens: prompt, completion_tokens: cacheHit ? 0 : completion, cached_input: 0, reasoning: 0, latency_ms: 900 + Math.round(rnd() * 1400), cost, cache_hit: cacheHit });
    if (cacheHit) at(0.05, "llm.cache_hit", m("llm"), { tokens_saved: 4100, key: "sha256:cache" });
    at(0.05, "budget.settled", m("budget"), { reservation_id: rid, prompt_tokens: prompt, completion_tokens: cacheHit ? 0 : completion, total_tokens: cacheHit ? 0 : prompt + completion, cost, reserved_tokens: prompt + 2000 });
    const nCand = 1 + (i % 2);
    for (let k = 0; k < nCand; k++) {
      const candidate_id = `c${++cand}`;
      const fields = [pick(FIELDS), pick(FIELDS)].filter((x, j, a) => a.indexOf(x) === j);
      const operators = [pick(OPS), pick(OPS)].filter((x, j, a) => a.indexOf(x) === j);
      const expression = `${operators[0]}(${operators[1] ?? "ts_mean"}(${fields[0]}, ${5 + k * 5}))`;
      combos.add(`${fields.join("+")}|${operators.join("+")}`);
      subs.forEach((x) => subsUsed.add(x));
      at(0.3, "candidate.created", m("alpha"), { candidate_id, expression, valid: true, error_code: null, fields, operators, subcategories: subs, topk: { fields: 20, operators: 12, subcategories: 3 } });
      at(0.2, "simulation.submitted", m("simulation"), { candidate_id, backend: "local", expression });
    }
    at(0.2, "kpi.batch", m("kpi"), { batch_id: "b1", coverage: subsUsed.size, coverage_share: subsUsed.size / 24, novelty: Math.min(1, combos.size / cand), structural_novelty: 0.55 + 0.4 * rnd(), candidates: cand });
    for (let k = nCand; k > 0; k--) {
      const candidate_id = `c${cand - k + 1}`;
      at(0.4, "simulation.progress", m("simulation"), { candidate_id, progress: 0.5 });
      const run_s = 0.6 + rnd() * 1.8;
      if (rnd() < 0.12) {
        at(run_s, "simulation.failed", m("simulation"), { candidate_id, error_code: "SIM_TIMEOUT", message: "simulation timed out", location: "local", queue_s: 0.1, run_s, total_s: run_s + 0.1 });
      } else {
        const sharpe = Math.round((0.3 + rnd() * 1.9) * 100) / 100;
        const fitness = Math.round(sharpe * (0.6 + rnd() * 0.5) * 100) / 100;
        at(run_s, "simulation.completed", m("simulation"), { candidate_id, alpha_id: `A${candidate_id}`, sharpe, fitness, turnover: 0.2 + rnd() * 0.4, returns: 0.05 + rnd() * 0.1, passed: sharpe > 1.25 && fitness > 1, queue_s: 0.1, run_s, total_s: run_s + 0.1 });
      }
    }
  }
  at(1.0, "cycle_completed", { step: "pipeline" }, { ideas: 8, candidates: cand, valid: cand, deferred: 2, blocked: 1, cache_hits: 1, tokens: { prompt: 0, completion: 0, total: 0 }, cost: "0", fallbacks, coverage: subsUsed.size, novelty: combos.size / cand, duration_s: t, status: "completed" });
  return s;
}

const runs = new Map(); // run_id → {run_id, status, started_at, finished_at, events: [], subs: Set<socket>}
let nextEventId = 1;
let liveRun = null;

function appendEvent(run, ts, name, meta, payload) {
  const ev = { id: nextEventId++, run_id: run.run_id, ts, name, step: meta.step ?? null, idea_id: meta.idea_id ?? null, lane: meta.lane ?? null, payload };
  run.events.push(ev);
  if (name === "cycle_completed") {
    run.status = payload.status ?? "completed";
    run.finished_at = ts;
  }
  return ev;
}

function newRun(startedAt) {
  const run_id = `r_${Math.floor(startedAt).toString(36)}${Math.floor(rnd() * 1e4).toString(36)}`;
  const run = { run_id, status: "running", started_at: startedAt, finished_at: null, events: [] };
  runs.set(run_id, run);
  return run;
}

/** A finished run in the past, for replay. */
function seedHistory() {
  const start = Date.now() / 1000 - 3600;
  const run = newRun(start);
  for (const [off, name, meta, payload] of scriptRun()) appendEvent(run, start + off, name, meta, payload);
}

function status(run, format = "both", now = Date.now() / 1000) {
  const acc = derive.emptyAcc();
  for (const ev of run.events) derive.applyEvent(acc, ev);
  const at = run.status === "running" ? now : run.finished_at ?? now;
  const reactor = derive.snapshot(acc, at);
  const cursor = run.events.length ? run.events[run.events.length - 1].id : 0;
  const env = { run_id: run.run_id, status: run.status, as_of: now, cursor };
  if (format !== "chart") env.reactor = reactor;
  if (format !== "reactor") {
    const bucket = 5;
    const points = new Map();
    for (const ev of run.events) {
      if (ev.name !== "budget.settled") continue;
      const t = Math.floor(ev.ts / bucket) * bucket;
      const p = points.get(t) ?? { t, tokens: { exploit: 0, explore: 0 }, cost: 0, pressure: 0 };
      if (ev.lane) p.tokens[ev.lane] += ev.payload.total_tokens ?? 0;
      p.cost += Number(ev.payload.cost ?? 0);
      points.set(t, p);
    }
    env.series = { bucket_s: bucket, points: [...points.values()].map((p) => ({ ...p, cost: p.cost.toFixed(6), pressure: reactor.pressure })) };
    env.gauges = reactor.rings.map((r) => ({ scope: r.scope, value: r.spent + r.reserved, limit: r.limit, pressure: r.pressure, unit: r.scope.startsWith("money") ? "usd" : "tokens" }));
    env.flags = {
      protection_mode: reactor.protection_mode,
      over_budget: reactor.pressure > 1,
      blocked: reactor.totals.blocked > 0,
      explore_floor_preserved: run.events.some((e) => e.name === "budget.explore_floor_preserved"),
    };
  }
  return env;
}

// --- live run driver ----------------------------------------------------------------------------
const sockets = new Set(); // {ws, runId, latest, cursor}

function send(sub, msg) {
  if (sub.ws.readyState === 1) sub.ws.send(JSON.stringify(msg));
}

function snapshotFor(sub, run) {
  const all = run.events.filter((e) => e.id > sub.cursor);
  const events = all.slice(-200);
  const st = status(run);
  sub.cursor = st.cursor;
  send(sub, { type: "snapshot", cursor: st.cursor, run_id: run.run_id, truncated: all.length > events.length, status: st, events });
}

function startLive() {
  const run = newRun(Date.now() / 1000);
  liveRun = run;
  const script = scriptRun();
  const t0 = Date.now();
  let i = 0;
  for (const sub of sockets) {
    if (!sub.latest) continue;
    send(sub, { type: "run", run_id: run.run_id });
    sub.runId = run.run_id;
    sub.cursor = 0;
    snapshotFor(sub, run);
  }
  const timer = setInterval(() => {
    const elapsed = ((Date.now() - t0) / 1000) * SPEED;
    const fresh = [];
    while (i < script.length && script[i][0] <= elapsed) {
      const [, name, meta, payload] = script[i++];
      fresh.push(appendEvent(run, Date.now() / 1000, name, meta, payload));
    }
    if (fresh.length) {
      const st = status(run);
      for (const sub of sockets) {
        if (sub.runId !== run.run_id) continue;
        const events = run.events.filter((e) => e.id > sub.cursor);
        sub.cursor = st.cursor;
        send(sub, { type: "update", cursor: st.cursor, run_id: run.run_id, truncated: false, status: st, events });
      }
    }
    if (i >= script.length) {
      clearInterval(timer);
      if (LOOP) setTimeout(startLive, 20000); // the finished run stays "latest" for a while: time to look at it
    }
  }, 50); // ≤ 20 updates/s, as the contract says
  timer.unref?.();
}

// --- HTTP ---------------------------------------------------------------------------------------
const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".json": "application/json", ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon", ".woff2": "font/woff2", ".woff": "font/woff", ".txt": "text/plain" };

function json(res, code, body) {
  const s = JSON.stringify(body);
  res.writeHead(code, { "content-type": "application/json", "cache-control": "no-store", "content-length": Buffer.byteLength(s) });
  res.end(s);
}

function serveStatic(req, res, pathname) {
  let p = normalize(decodeURIComponent(pathname)).replace(/^(\.\.[/\\])+/, "");
  const candidates = [join(OUT, p), join(OUT, `${p}.html`), join(OUT, p, "index.html")];
  for (const f of candidates) {
    if (f.startsWith(OUT) && existsSync(f) && statSync(f).isFile()) {
      res.writeHead(200, { "content-type": TYPES[extname(f)] ?? "application/octet-stream", "cache-control": f.includes("/_next/static/") ? "public, max-age=31536000, immutable" : "no-cache" });
      res.end(readFileSync(f));
      return;
    }
  }
  const nf = join(OUT, "404.html");
  res.writeHead(404, { "content-type": "text/html" });
  res.end(existsSync(nf) ? readFileSync(nf) : `not found (build the HUD first: npm run build; OUT=${OUT})`);
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://x");
  const path = url.pathname;
  if (path === "/__fake/drop" && req.method === "POST") {
    let n = 0;
    for (const sub of sockets) {
      sub.ws.terminate();
      n++;
    }
    return json(res, 200, { dropped: n });
  }
  if (path === "/__fake/state") return json(res, 200, { live: liveRun?.run_id ?? null, sockets: sockets.size, runs: [...runs.keys()] });
  if (path === "/api/runs") {
    const list = [...runs.values()].sort((a, b) => b.started_at - a.started_at).map((r) => {
      const st = status(r, "reactor");
      const t = st.reactor.totals;
      return {
        run_id: r.run_id, kind: "batch", status: r.status, started_at: r.started_at, finished_at: r.finished_at,
        headline: { best_sharpe: st.reactor.simulation.best?.sharpe ?? null, calls: t.calls, candidates: r.events.filter((e) => e.name === "candidate.created").length, cost: t.cost, cursor: st.cursor, events: r.events.length, last_event_at: r.events.at(-1)?.ts ?? null, pressure: st.reactor.pressure, protection_mode: st.reactor.protection_mode, total_tokens: t.total_tokens },
      };
    });
    return json(res, 200, { runs: list });
  }
  const m = path.match(/^\/api\/runs\/([^/]+)\/(reactor_status|budget|kpi|events)$/);
  if (m) {
    const run = runs.get(decodeURIComponent(m[1]));
    if (!run) return json(res, 404, { detail: `run ${m[1]} not found` });
    if (m[2] === "events") {
      const after = Number(url.searchParams.get("after") ?? 0) || 0;
      const limit = Number(url.searchParams.get("limit") ?? 200) || 200;
      if (limit < 1 || limit > 1000) return json(res, 422, { error: { code: "VALIDATION", message: "limit must be 1..1000", details: {} } });
      const rest = run.events.filter((e) => e.id > after);
      const events = rest.slice(0, limit);
      return json(res, 200, { run_id: run.run_id, events, next_cursor: events.length ? events[events.length - 1].id : after, has_more: rest.length > limit });
    }
    return json(res, 200, status(run, url.searchParams.get("format") ?? "both"));
  }
  if (path.startsWith("/api/")) return json(res, 404, { detail: "not found" });
  return serveStatic(req, res, path === "/" ? "/index.html" : path);
});

const wss = new WebSocketServer({ noServer: true });
server.on("upgrade", (req, socket, head) => {
  const url = new URL(req.url ?? "/", "http://x");
  const m = url.pathname.match(/^\/api\/runs\/([^/]+)\/stream$/);
  const latest = url.pathname === "/api/stream/latest";
  const run = latest ? liveRun : m ? runs.get(decodeURIComponent(m[1])) : null;
  if (!run) {
    socket.write("HTTP/1.1 404 Not Found\r\n\r\n");
    socket.destroy();
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    const sub = { ws, runId: run.run_id, latest, cursor: Number(url.searchParams.get("after") ?? 0) || 0 };
    sockets.add(sub);
    ws.on("close", () => sockets.delete(sub));
    ws.on("error", () => sockets.delete(sub));
    snapshotFor(sub, run);
  });
});

seedHistory();
startLive();
const port = Number(process.env.PORT ?? 8765);
server.listen(port, process.env.HOST ?? "127.0.0.1", () => {
  const addr = server.address();
  // the browser tests read this line to learn the port
  console.log(`fake-server listening on http://${addr.address}:${addr.port} (out=${OUT}, speed=${SPEED})`);
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(0));
