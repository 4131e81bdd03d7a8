/**
 * The stream reducer: WebSocket messages, REST polls and event pages go in; the HUD's display
 * state comes out. Live and replay both feed events through the same folds (derive.ts,
 * constellation.ts), so the view can be rebuilt from events alone when the server status for a
 * moment is not available.
 *
 * For speed the reducer updates `state` in place and bumps `state.version`; callers treat a state
 * as owned by one reducer (see HudStore).
 */
import type { HudEvent, Reactor, ReactorStatus, StreamMessage } from "./api-types";
import { GraphAcc } from "./constellation";
import { applyEvent, emptyAcc, snapshot, type DeriveAcc } from "./derive";

const MAX_RECENT = 400;

export interface HudState {
  runId: string | null;
  cursor: number;
  server: ReactorStatus | null;
  acc: DeriveAcc;
  graph: GraphAcc;
  recent: HudEvent[];
  /** Incremented whenever the protection overlay should flash (fallback / protection rising). */
  protectionSeq: number;
  protectionReason: string | null;
  /** Incremented on every live `budget.blocked`: drives the glitch burst. */
  blockSeq: number;
  lastProtectionMode: boolean;
  /** Number of events that arrived live (after the first snapshot). */
  liveEvents: number;
  version: number;
}

export type HudAction =
  | { type: "reset"; runId: string | null }
  | { type: "message"; msg: StreamMessage }
  | { type: "status"; status: ReactorStatus }
  | { type: "events"; events: HudEvent[]; live: boolean };

export function initialState(runId: string | null = null): HudState {
  return {
    runId,
    cursor: 0,
    server: null,
    acc: emptyAcc(),
    graph: new GraphAcc(),
    recent: [],
    protectionSeq: 0,
    protectionReason: null,
    blockSeq: 0,
    lastProtectionMode: false,
    liveEvents: 0,
    version: 0,
  };
}

function protectionReason(ev: HudEvent): string {
  const p = ev.payload ?? {};
  switch (ev.name) {
    case "budget.fallback_applied":
      return `Top-K fallback · ${String(p.stage ?? "topk")} ${String(p.from_k ?? "?")}→${String(p.to_k ?? "?")}`;
    case "budget.blocked":
      return `Request blocked · ${String(p.failure_code ?? "BUDGET")}`;
    case "budget.explore_floor_preserved":
      return `Explore floor preserved · ${String(p.explore_count ?? "?")}/${String(p.min_explore ?? "?")}`;
    default:
      return "Budget cap exceeded";
  }
}

function applyEvents(state: HudState, events: readonly HudEvent[], live: boolean): void {
  const sorted = events.length > 1 ? [...events].sort((a, b) => a.id - b.id) : events;
  for (const ev of sorted) {
    if (ev.id <= state.cursor) continue;
    if (state.runId && ev.run_id && ev.run_id !== state.runId) continue;
    state.cursor = ev.id;
    applyEvent(state.acc, ev);
    state.graph.apply(ev);
    state.recent.push(ev);
    if (live) {
      state.liveEvents++;
      if (ev.name === "budget.fallback_applied" || ev.name === "budget.blocked" || ev.name === "budget.explore_floor_preserved") {
        state.protectionSeq++;
        state.protectionReason = protectionReason(ev);
      }
      if (ev.name === "budget.blocked") state.blockSeq++;
    }
  }
  if (state.recent.length > MAX_RECENT) state.recent.splice(0, state.recent.length - MAX_RECENT);
}

function applyStatus(state: HudState, status: ReactorStatus | null, live: boolean): void {
  if (!status) return;
  if (state.runId && status.run_id && status.run_id !== state.runId) return;
  if (state.server && status.cursor < state.server.cursor) return; // stale poll
  state.server = status;
  const pm = status.reactor?.protection_mode ?? status.flags?.protection_mode ?? false;
  if (pm && !state.lastProtectionMode && live) {
    state.protectionSeq++;
    state.protectionReason ??= status.reactor?.protection?.reason ?? "Budget protection engaged";
    if (status.reactor?.protection?.reason) state.protectionReason = status.reactor.protection.reason;
  }
  state.lastProtectionMode = pm;
}

export function reduce(state: HudState, action: HudAction): HudState {
  switch (action.type) {
    case "reset":
      return initialState(action.runId);
    case "events":
      applyEvents(state, action.events, action.live);
      break;
    case "status":
      applyStatus(state, action.status, true);
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

/** The reactor view to display: the server's when it has one, else rebuilt from events. */
export function currentReactor(state: HudState, now?: number): Reactor {
  return state.server?.reactor ?? snapshot(state.acc, now ?? state.acc.lastTs);
}

export function runStatus(state: HudState): string {
  return state.server?.status ?? state.acc.status;
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
