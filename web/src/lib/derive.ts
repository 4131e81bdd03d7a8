/**
 * Rebuild the HUD view (`reactor`) from events alone — a fold over the event log.
 *
 * The server is the authority for live status; this fold is used when no server status exists
 * for the moment being shown (replay at time t, or a stream that carries events only). It follows
 * docs/reactor-contract.md closely but is an approximation: the server's ledger knows things the
 * events only hint at.
 */
import { laneOf, type CoreState, type HudEvent, type Injection, type Kpi, type Lane, type PulsePoint, type RadarScan, type Reactor } from "./api-types";
import { sectorFor, subcategoryName } from "./sectors";

export const PROTECTION_EVENTS = new Set([
  "budget.fallback_applied",
  "budget.blocked",
  "budget.explore_floor_preserved",
  "budget.check_failed",
]);
export const PROTECTION_WINDOW_S = 30;
export const VELOCITY_WINDOW_S = 60;
const MAX_INJECTIONS = 50;
const MAX_PULSE = 120;
const MAX_FEED = 30;

interface IdeaTrack {
  lane: Lane | null;
  subcategories: string[];
  title: string | null;
  done: boolean;
  candidates: Set<string>;
}

export interface DeriveAcc {
  cursor: number;
  lastTs: number;
  status: "running" | "completed" | "failed";
  limits: Record<string, number>;
  exploitRatio: number;
  exploreRatio: number;
  spentTokens: number;
  spentNanoUsd: number;
  lastRequest: { prompt: number; completion: number };
  reservations: Map<string, { tokens: number; nanoUsd: number; rings: string[] }>;
  /** Spend per ring, attributed through each reservation's scope keys (ledger runs). */
  ringSpent: Record<string, number>;
  /** Usage by earlier runs / other processes when this run started (day/week/money rings). */
  baseline: Record<string, number>;
  ledgerSeen: boolean;
  llmLaneTokens: Record<Lane, number>;
  llmTicks: { ts: number; tokens: number }[];
  settled: { ts: number; tokens: number }[];
  protection: { name: string; at: number; reason: string | null } | null;
  injections: Injection[];
  pulse: PulsePoint[];
  laneTokens: Record<Lane, number>;
  ideas: Map<string, IdeaTrack>;
  candidateIdea: Map<string, string>;
  feed: string[];
  /** Subcategory id → the knowledge pack's name (from `retrieval.pack_built`). */
  names: Map<string, string>;
  sim: {
    submitted: Set<string>;
    finished: Set<string>;
    done: number;
    failed: number;
    passed: number;
    latencies: number[];
    best: { candidate_id: string; sharpe: number; fitness: number | null; expression: string } | null;
  };
  expressions: Map<string, string>;
  totals: {
    prompt: number;
    completion: number;
    calls: number;
    cacheHits: number;
    tokensSaved: number;
    fallbacks: number;
    blocked: number;
    deferred: number;
    nanoUsd: number;
  };
  kpi: Kpi;
}

export function emptyAcc(): DeriveAcc {
  return {
    names: new Map(),
    cursor: 0,
    lastTs: 0,
    status: "running",
    limits: {},
    exploitRatio: 0.7,
    exploreRatio: 0.3,
    spentTokens: 0,
    spentNanoUsd: 0,
    lastRequest: { prompt: 0, completion: 0 },
    reservations: new Map(),
    ringSpent: {},
    baseline: {},
    ledgerSeen: false,
    llmLaneTokens: { exploit: 0, explore: 0 },
    llmTicks: [],
    settled: [],
    protection: null,
    injections: [],
    pulse: [],
    laneTokens: { exploit: 0, explore: 0 },
    ideas: new Map(),
    candidateIdea: new Map(),
    feed: [],
    sim: { submitted: new Set(), finished: new Set(), done: 0, failed: 0, passed: 0, latencies: [], best: null },
    expressions: new Map(),
    totals: {
      prompt: 0,
      completion: 0,
      calls: 0,
      cacheHits: 0,
      tokensSaved: 0,
      fallbacks: 0,
      blocked: 0,
      deferred: 0,
      nanoUsd: 0,
    },
    kpi: { coverage: 0, coverage_share: 0, novelty: 0, structural_novelty: 0 },
  };
}

const num = (v: unknown, d = 0): number => {
  const n = typeof v === "string" ? Number(v) : (v as number);
  return typeof n === "number" && Number.isFinite(n) ? n : d;
};
const str = (v: unknown): string | null => (typeof v === "string" ? v : v == null ? null : String(v));
const strList = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x) => typeof x === "string") : []);
export const toNanoUsd = (v: unknown): number => Math.round(num(v) * 1e9);
export const nanoToMoney = (n: number): string => (n / 1e9).toFixed(6);

export const isMoneyScope = (s: string) => s.startsWith("money") || s.endsWith("_usd") || s.includes("cost");
/** Request scopes measure one call's size: they have rings but do not heat the core. */
export const isRequestScope = (s: string) => s === "request" || s === "request_prompt" || s === "request_completion";

const RING_PREFIXES: Record<string, string> = {
  batch: "batch",
  expansion: "expansion",
  day: "day",
  week: "week",
  money_day: "money_day",
  money_week: "money_week",
};

/** `lane:{batch}:exploit` → `lane_exploit`, `day:2026-11-25@UTC` → `day`, … (as the server does). */
export function ringOf(scopeKey: string): string | null {
  const head = scopeKey.split(":", 1)[0]!;
  if (head === "lane") return `lane_${scopeKey.slice(scopeKey.lastIndexOf(":") + 1)}`;
  return RING_PREFIXES[head] ?? null;
}

function defaultRings(lane: Lane | null): string[] {
  return lane ? ["batch", "day", "week", `lane_${lane}`] : ["batch", "day", "week"];
}

function pushBounded<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}

function idea(acc: DeriveAcc, ev: HudEvent): IdeaTrack | null {
  if (!ev.idea_id) return null;
  let t = acc.ideas.get(ev.idea_id);
  if (!t) {
    t = { lane: laneOf(ev.lane), subcategories: [], title: null, done: false, candidates: new Set() };
    acc.ideas.set(ev.idea_id, t);
  }
  if (!t.lane) t.lane = laneOf(ev.lane);
  return t;
}

function feedScan(acc: DeriveAcc, subs: string[]): void {
  for (const s of subs) pushBounded(acc.feed, `Sector ${sectorFor(s)} (${subcategoryName(s, acc.names)}) Scanning...`, MAX_FEED);
}

function protect(acc: DeriveAcc, ev: HudEvent, reason: string | null): void {
  acc.protection = { name: ev.name, at: ev.ts, reason };
}

function maybeFinishIdea(acc: DeriveAcc, ideaId: string | undefined): void {
  if (!ideaId) return;
  const t = acc.ideas.get(ideaId);
  if (!t || t.candidates.size === 0) return;
  for (const c of t.candidates) {
    if (acc.sim.submitted.has(c) && !acc.sim.finished.has(c)) return;
    if (!acc.sim.submitted.has(c)) return;
  }
  t.done = true;
}

/** Apply one event (in id order) to the accumulator. Mutates and returns `acc`. */
export function applyEvent(acc: DeriveAcc, ev: HudEvent): DeriveAcc {
  if (ev.id <= acc.cursor) return acc; // already applied (resume / duplicate)
  acc.cursor = ev.id;
  acc.lastTs = Math.max(acc.lastTs, ev.ts);
  const p = ev.payload ?? {};
  switch (ev.name) {
    case "metadata_sync": {
      const b = (p.budget ?? {}) as Record<string, unknown>;
      const limits = (b.limits ?? {}) as Record<string, unknown>;
      for (const [k, v] of Object.entries(limits)) if (v != null) acc.limits[k] = num(v);
      const baseline = (b.baseline ?? {}) as Record<string, unknown>;
      for (const [k, v] of Object.entries(baseline)) if (v != null) acc.baseline[k] = num(v);
      acc.exploitRatio = num(b.exploit_ratio, acc.exploitRatio);
      acc.exploreRatio = num(b.explore_ratio, acc.exploreRatio);
      pushBounded(acc.feed, `Reactor online · ${str(p.provider) ?? "llm"}/${str(p.model) ?? "?"}`, MAX_FEED);
      break;
    }
    case "idea.refined": {
      const t = idea(acc, ev);
      if (t) {
        t.title = str(p.title);
        const subs = strList(p.subcategories);
        if (subs.length) t.subcategories = subs;
        feedScan(acc, t.subcategories);
      }
      break;
    }
    case "retrieval.pack_built": {
      const t = idea(acc, ev);
      const subs = strList(p.subcategories);
      const names = p.subcategory_names;
      if (names && typeof names === "object") {
        for (const [id, name] of Object.entries(names as Record<string, unknown>)) {
          if (typeof name === "string") acc.names.set(id, name);
        }
      }
      if (t && subs.length) {
        const fresh = subs.filter((s) => !t.subcategories.includes(s));
        t.subcategories = subs;
        feedScan(acc, fresh);
      }
      break;
    }
    case "budget.check_passed":
    case "budget.check_failed": {
      // the admitted prompt (after any fallback), not the rejected one
      if (ev.name === "budget.check_passed") acc.lastRequest = { ...acc.lastRequest, prompt: num(p.prompt_tokens) };
      if (ev.name === "budget.check_failed") {
        protect(acc, ev, `${str(p.scope) ?? "scope"} ${num(p.observed)}/${num(p.limit)}`);
      }
      break;
    }
    case "budget.fallback_applied": {
      acc.totals.fallbacks += 1;
      const reason = `${str(p.stage) ?? "topk"} ${num(p.from_k)}→${num(p.to_k)}`;
      protect(acc, ev, reason);
      pushBounded(acc.feed, `Fallback: ${reason} (${num(p.tokens_before)}→${num(p.tokens_after)} tok)`, MAX_FEED);
      break;
    }
    case "budget.explore_floor_preserved": {
      const reason = `explore floor ${num(p.explore_count)}/${num(p.min_explore)}`;
      protect(acc, ev, reason);
      const deferred = str(p.deferred_idea_id);
      if (deferred) {
        const t = acc.ideas.get(deferred);
        if (t) t.done = true;
      }
      pushBounded(acc.feed, `Explore floor preserved${deferred ? ` · deferred ${deferred}` : ""}`, MAX_FEED);
      break;
    }
    case "budget.blocked": {
      acc.totals.blocked += 1;
      const code = str(p.failure_code) ?? "BUDGET_BLOCKED";
      protect(acc, ev, code);
      const t = idea(acc, ev);
      if (t) t.done = true;
      pushBounded(acc.feed, `BLOCKED ${code} (${num(p.observed)}/${num(p.limit)}) → ${str(p.action) ?? "defer"}`, MAX_FEED);
      break;
    }
    case "budget.deferred": {
      acc.totals.deferred += 1;
      const t = idea(acc, ev);
      if (t) t.done = true;
      break;
    }
    case "budget.reserved": {
      acc.ledgerSeen = true;
      const id = str(p.reservation_id) ?? `ev${ev.id}`;
      const keys = Array.isArray(p.scopes) ? p.scopes.map(String) : [];
      const rings = keys.map(ringOf).filter((r): r is string => !!r);
      acc.reservations.set(id, { tokens: num(p.tokens), nanoUsd: toNanoUsd(p.cost), rings: rings.length ? rings : defaultRings(laneOf(ev.lane)) });
      break;
    }
    case "budget.settled": {
      acc.ledgerSeen = true;
      const id = str(p.reservation_id);
      let rings = defaultRings(laneOf(ev.lane));
      if (id) {
        rings = acc.reservations.get(id)?.rings ?? rings;
        acc.reservations.delete(id);
      }
      const tokens = p.total_tokens != null ? num(p.total_tokens) : num(p.prompt_tokens) + num(p.completion_tokens);
      const nano = toNanoUsd(p.cost);
      acc.lastRequest = { ...acc.lastRequest, completion: num(p.completion_tokens) };
      acc.spentTokens += tokens;
      acc.spentNanoUsd += nano;
      for (const r of rings) acc.ringSpent[r] = (acc.ringSpent[r] ?? 0) + (isMoneyScope(r) ? nano / 1e9 : tokens);
      acc.settled.push({ ts: ev.ts, tokens });
      const lane = laneOf(ev.lane);
      if (lane) acc.laneTokens[lane] += tokens;
      break;
    }
    case "budget.released": {
      acc.ledgerSeen = true;
      const id = str(p.reservation_id);
      if (id) acc.reservations.delete(id);
      break;
    }
    case "llm.call": {
      const prompt = num(p.prompt_tokens);
      const completion = num(p.completion_tokens);
      acc.totals.prompt += prompt;
      acc.totals.completion += completion;
      acc.totals.calls += 1;
      const callLane = laneOf(ev.lane);
      if (callLane) acc.llmLaneTokens[callLane] += prompt + completion;
      acc.llmTicks.push({ ts: ev.ts, tokens: prompt + completion });
      const nano = toNanoUsd(p.cost);
      acc.totals.nanoUsd += nano;
      if (p.cache_hit !== true && prompt > 0) {
        pushBounded(acc.injections, { event_id: ev.id, ts: ev.ts, tokens: prompt, lane: ev.lane, idea_id: ev.idea_id }, MAX_INJECTIONS);
      }
      const recent = acc.pulse.slice(-10).map((x) => Number(x.cost));
      const mean = recent.length ? recent.reduce((a, b) => a + b, 0) / recent.length : 0;
      const spike = recent.length >= 3 && nano / 1e9 > mean * 1.6;
      pushBounded(acc.pulse, { event_id: ev.id, ts: ev.ts, cost: nanoToMoney(nano), tokens: prompt + completion, spike }, MAX_PULSE);
      break;
    }
    case "llm.cache_hit":
      acc.totals.cacheHits += 1;
      acc.totals.tokensSaved += num(p.tokens_saved);
      break;
    case "candidate.created": {
      const cid = str(p.candidate_id);
      const t = idea(acc, ev);
      if (cid) {
        if (ev.idea_id) acc.candidateIdea.set(cid, ev.idea_id);
        if (t) t.candidates.add(cid);
        const expr = str(p.expression);
        if (expr) acc.expressions.set(cid, expr);
      }
      break;
    }
    case "kpi.batch":
      acc.kpi = {
        coverage: num(p.coverage),
        coverage_share: num(p.coverage_share),
        novelty: num(p.novelty),
        structural_novelty: num(p.structural_novelty),
      };
      break;
    case "simulation.submitted": {
      const cid = str(p.candidate_id);
      if (cid) acc.sim.submitted.add(cid);
      break;
    }
    case "simulation.completed":
    case "simulation.failed": {
      const cid = str(p.candidate_id);
      if (cid) {
        acc.sim.submitted.add(cid);
        acc.sim.finished.add(cid);
      }
      if (p.total_s != null) acc.sim.latencies.push(num(p.total_s));
      if (ev.name === "simulation.failed") {
        acc.sim.failed += 1;
        pushBounded(acc.feed, `Simulation ${cid ?? "?"} failed: ${str(p.error_code) ?? "error"}`, MAX_FEED);
      } else {
        acc.sim.done += 1;
        const sharpe = num(p.sharpe);
        if (p.passed === true) acc.sim.passed += 1;
        if (cid && (!acc.sim.best || sharpe > acc.sim.best.sharpe)) {
          acc.sim.best = {
            candidate_id: cid,
            sharpe,
            fitness: p.fitness == null ? null : num(p.fitness),
            expression: acc.expressions.get(cid) ?? "",
          };
        }
        pushBounded(acc.feed, `Simulation ${cid ?? "?"}: Sharpe ${sharpe.toFixed(2)} ${p.passed ? "PASS" : "FAIL"}`, MAX_FEED);
      }
      maybeFinishIdea(acc, cid ? acc.candidateIdea.get(cid) : undefined);
      break;
    }
    case "cycle_completed": {
      const s = str(p.status);
      acc.status = s === "failed" ? "failed" : "completed";
      for (const t of acc.ideas.values()) t.done = true;
      pushBounded(acc.feed, `Cycle ${s ?? "completed"} · ${num(p.candidates)} candidates`, MAX_FEED);
      break;
    }
    default:
      break;
  }
  return acc;
}

function quantile(sorted: number[], q: number): number | null {
  if (!sorted.length) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? null;
}


export function coreStateFor(pressure: number, blocked: boolean): CoreState {
  if (blocked) return "blocked";
  if (pressure >= 0.9) return "critical";
  if (pressure >= 0.75) return "warning";
  return "nominal";
}

/** The HUD view at time `now` (seconds). Pure with respect to `acc`. */
export function snapshot(acc: DeriveAcc, now: number = acc.lastTs): Reactor {
  const rings: Reactor["rings"] = [];
  const byScope: Record<string, number> = {};
  const llmTotal = acc.totals.prompt + acc.totals.completion;
  for (const [scope, limit] of Object.entries(acc.limits)) {
    if (!(limit > 0)) continue;
    let spent: number;
    let reserved = 0;
    if (isRequestScope(scope)) {
      const { prompt, completion } = acc.lastRequest;
      spent = scope === "request_prompt" ? prompt : scope === "request_completion" ? completion : prompt + completion;
    } else {
      const money = isMoneyScope(scope);
      for (const r of acc.reservations.values()) if (r.rings.includes(scope)) reserved += money ? r.nanoUsd / 1e9 : r.tokens;
      if (acc.ledgerSeen) spent = acc.ringSpent[scope] ?? 0;
      else if (money) spent = acc.totals.nanoUsd / 1e9;
      else if (scope.startsWith("lane_")) spent = acc.llmLaneTokens[scope.slice(5) as Lane] ?? 0;
      else if (scope === "expansion") spent = 0;
      else spent = llmTotal;
      spent += acc.baseline[scope] ?? 0;
    }
    const pressure = (spent + reserved) / limit;
    byScope[scope] = pressure;
    rings.push({ scope, spent, reserved, limit, pressure });
  }
  const pressure = rings.filter((r) => !isRequestScope(r.scope)).reduce((m, r) => Math.max(m, r.pressure), 0);
  const remaining = rings
    .filter((r) => !isMoneyScope(r.scope) && !isRequestScope(r.scope))
    .map((r) => Math.max(0, r.limit - r.spent - r.reserved));

  let windowTokens = 0;
  const ticks = acc.ledgerSeen ? acc.settled : acc.llmTicks;
  for (let i = ticks.length - 1; i >= 0; i--) {
    const s = ticks[i]!;
    if (s.ts > now) continue;
    if (s.ts < now - VELOCITY_WINDOW_S) break;
    windowTokens += s.tokens;
  }
  const tokensPerS = windowTokens / VELOCITY_WINDOW_S;
  const tte = tokensPerS > 0 && remaining.length ? Math.min(...remaining) / tokensPerS : null;

  const prot = acc.protection;
  const protectionActive = !!prot && now - prot.at <= PROTECTION_WINDOW_S && now >= prot.at;
  const blocked = protectionActive && prot!.name === "budget.blocked";

  const laneTokens = acc.ledgerSeen ? acc.laneTokens : acc.llmLaneTokens;
  const totalLane = laneTokens.exploit + laneTokens.explore;
  const ideasPerLane: Record<Lane, number> = { exploit: 0, explore: 0 };
  const scanning: RadarScan[] = [];
  for (const [id, t] of acc.ideas) {
    if (t.lane) ideasPerLane[t.lane] += 1;
    if (t.done) continue;
    for (const s of t.subcategories) {
      scanning.push({ sector: sectorFor(s), subcategory: s, name: subcategoryName(s, acc.names), lane: t.lane, idea_id: id });
    }
  }
  const lat = [...acc.sim.latencies].sort((a, b) => a - b);
  const inFlight = [...acc.sim.submitted].filter((c) => !acc.sim.finished.has(c)).length;
  const totalTokens = acc.totals.prompt + acc.totals.completion;

  return {
    pressure,
    pressure_by_scope: byScope,
    velocity: { tokens_per_s: tokensPerS, window_s: VELOCITY_WINDOW_S },
    time_to_exhaustion_s: tte,
    protection_mode: protectionActive,
    protection: prot
      ? { window_s: PROTECTION_WINDOW_S, last_event: prot.name, at: prot.at, reason: prot.reason }
      : { window_s: PROTECTION_WINDOW_S, last_event: null, at: null, reason: null },
    core: { heat: Math.min(1, pressure), state: coreStateFor(pressure, blocked) },
    rings,
    injections: acc.injections.slice(),
    pulse: acc.pulse.slice(),
    lanes: {
      exploit: {
        target_share: acc.exploitRatio,
        actual_share: totalLane ? laneTokens.exploit / totalLane : 0,
        tokens: laneTokens.exploit,
        ideas: ideasPerLane.exploit,
      },
      explore: {
        target_share: acc.exploreRatio,
        actual_share: totalLane ? laneTokens.explore / totalLane : 0,
        tokens: laneTokens.explore,
        ideas: ideasPerLane.explore,
      },
    },
    radar: { scanning, feed: acc.feed.slice(-12) },
    simulation: {
      in_flight: inFlight,
      done: acc.sim.done,
      failed: acc.sim.failed,
      passed: acc.sim.passed,
      latency_s: { p50: quantile(lat, 0.5), p95: quantile(lat, 0.95) },
      best: acc.sim.best,
    },
    totals: {
      prompt_tokens: acc.totals.prompt,
      completion_tokens: acc.totals.completion,
      total_tokens: totalTokens,
      cost: nanoToMoney(acc.totals.nanoUsd),
      calls: acc.totals.calls,
      cache_hits: acc.totals.cacheHits,
      tokens_saved: acc.totals.tokensSaved,
      fallbacks: acc.totals.fallbacks,
      blocked: acc.totals.blocked,
      deferred: acc.totals.deferred,
    },
    kpi: { ...acc.kpi },
  };
}

/** Convenience: fold a list of events (any order) and snapshot at `now`. */
export function deriveReactor(events: readonly HudEvent[], now?: number): { reactor: Reactor; acc: DeriveAcc } {
  const acc = emptyAcc();
  for (const ev of [...events].sort((a, b) => a.id - b.id)) applyEvent(acc, ev);
  return { reactor: snapshot(acc, now ?? acc.lastTs), acc };
}
