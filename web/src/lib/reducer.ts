/**
 * The stream reducer: WebSocket messages, REST polls, replay answers and event pages go in; the
 * HUD's display state comes out. Every number shown comes from the server's `ReactorStatus` (live
 * or `?at=` replay): the HUD interpolates and draws, it never derives a figure from events. Events
 * only feed the constellation graph (a drawing) and the live-event counter.
 *
 * For speed the reducer updates `state` in place and bumps `state.version`; callers treat a state
 * as owned by one reducer (see HudRuntime).
 */
import type { HudEvent, Reactor, ReactorStatus, StreamMessage } from "./api-types";
import { GraphAcc } from "./constellation";
import { protectionLabel } from "./labels";

const MAX_RECENT = 400;

export interface HudState {
  runId: string | null;
  cursor: number;
  server: ReactorStatus | null;
  graph: GraphAcc;
  recent: HudEvent[];
  /** The newest event time seen (server clock), for the display clock before a status arrives. */
  lastTs: number;
  /** Incremented whenever the protection overlay should flash (a new protection while live). */
  protectionSeq: number;
  protectionReason: string | null;
  /** Incremented when the blocked count rises while live: drives the glitch burst. */
  blockSeq: number;
  lastProtectionAt: number | null;
  lastBlocked: number;
  /** Number of events that arrived live (after the first snapshot). */
  liveEvents: number;
  version: number;
}

export type HudAction =
  | { type: "reset"; runId: string | null }
  | { type: "message"; msg: StreamMessage }
  | { type: "status"; status: ReactorStatus; live?: boolean }
  | { type: "events"; events: HudEvent[]; live: boolean };

export function initialState(runId: string | null = null): HudState {
  return {
    runId,
    cursor: 0,
    server: null,
    graph: new GraphAcc(),
    recent: [],
    lastTs: 0,
    protectionSeq: 0,
    protectionReason: null,
    blockSeq: 0,
    lastProtectionAt: null,
    lastBlocked: 0,
    liveEvents: 0,
    version: 0,
  };
}

function applyEvents(state: HudState, events: readonly HudEvent[], live: boolean): void {
  const sorted = events.length > 1 ? [...events].sort((a, b) => a.id - b.id) : events;
  for (const ev of sorted) {
    if (ev.id <= state.cursor) continue;
    if (state.runId && ev.run_id && ev.run_id !== state.runId) continue;
    state.cursor = ev.id;
    state.lastTs = Math.max(state.lastTs, ev.ts);
    state.graph.apply(ev);
    state.recent.push(ev);
    if (live) state.liveEvents++;
  }
  if (state.recent.length > MAX_RECENT) state.recent.splice(0, state.recent.length - MAX_RECENT);
}

/** Take the server's view. `live`: a step forward in time (stream update, replay playing), so a
 * protection that is new since the previous view flashes the overlay and a new block glitches. */
function applyStatus(state: HudState, status: ReactorStatus | null, live: boolean, replay = false): void {
  if (!status) return;
  if (state.runId && status.run_id && status.run_id !== state.runId) return;
  if (!replay && state.server && status.cursor < state.server.cursor) return; // stale poll
  const r = status.reactor;
  if (r) {
    const at = r.protection.at ?? null;
    if (live && state.server && at != null && at !== state.lastProtectionAt) {
      state.protectionSeq++;
      state.protectionReason = protectionLabel(r.protection.last_event, r.protection.reason);
    }
    if (live && state.server && r.totals.blocked > state.lastBlocked) state.blockSeq++;
    state.lastProtectionAt = at;
    state.lastBlocked = r.totals.blocked;
  }
  state.server = status;
}

export function reduce(state: HudState, action: HudAction): HudState {
  switch (action.type) {
    case "reset":
      return initialState(action.runId);
    case "events":
      applyEvents(state, action.events, action.live);
      break;
    case "status":
      applyStatus(state, action.status, action.live ?? true, action.live !== undefined);
      break;
    case "message": {
      const msg = action.msg;
      if (msg.type !== "snapshot" && msg.type !== "update") return state; // run switch: the owner decides; errors: ignored
      const events = Array.isArray(msg.events) ? msg.events : [];
      const runId = msg.run_id ?? msg.status?.run_id ?? events[0]?.run_id ?? null;
      if (msg.type === "snapshot") {
        if (runId && state.runId !== runId) state = initialState(runId);
        applyEvents(state, events, false);
        applyStatus(state, msg.status, false);
      } else {
        applyEvents(state, events, true);
        applyStatus(state, msg.status, true);
      }
      if (msg.cursor > state.cursor) state.cursor = msg.cursor;
      break;
    }
  }
  state.version++;
  return state;
}

/** What the HUD draws before the server has answered: zeros, no scopes. Not a derivation. */
export function emptyReactor(): Reactor {
  return {
    pressure: 0,
    pressure_by_scope: {},
    velocity: { tokens_per_s: 0, window_s: 60 },
    time_to_exhaustion_s: null,
    exhaustion_scope: null,
    protection_mode: false,
    protection: { window_s: 30, last_event: null, at: null, reason: null },
    core: { heat: 0, state: "nominal" },
    rings: [],
    injections: [],
    pulse: [],
    lanes: {
      exploit: { target_share: 0.7, actual_share: 0, tokens: 0, ideas: 0 },
      explore: { target_share: 0.3, actual_share: 0, tokens: 0, ideas: 0 },
    },
    radar: { scanning: [], feed: [] },
    simulation: { in_flight: 0, done: 0, passed: 0, failed: 0, errors: 0, latency_s: { p50: null, p95: null }, best: null },
    totals: {
      prompt_tokens: 0,
      completion_tokens: 0,
      total_tokens: 0,
      cost: "0",
      calls: 0,
      cache_hits: 0,
      tokens_saved: 0,
      fallbacks: 0,
      blocked: 0,
      deferred: 0,
    },
    kpi: { coverage: 0, coverage_share: 0, novelty: 0, structural_novelty: null },
    alerts: [],
  };
}

const EMPTY = emptyReactor();

/** The reactor view to display: the server's, or the empty one before it has answered. */
export function currentReactor(state: HudState): Reactor {
  return state.server?.reactor ?? EMPTY;
}

/** The run's status as the server says it; "waiting" before it has answered. */
export function runStatus(state: HudState): string {
  return state.server?.status ?? "waiting";
}

/** Injections newer than `lastId`, for the particle system (fires each injection once). */
export function newInjections(reactor: Reactor, lastId: number): { fresh: Reactor["injections"]; lastId: number } {
  let max = lastId;
  const fresh = [];
  for (const inj of reactor.injections) {
    if (inj.event_id > lastId) {
      fresh.push(inj);
      if (inj.event_id > max) max = inj.event_id;
    }
  }
  return { fresh, lastId: max };
}
