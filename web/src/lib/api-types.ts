/**
 * API types for the Reactor Core HUD, written by hand from docs/reactor-contract.md and
 * docs/events.md.
 *
 * Swap point: once the server publishes docs/openapi.json, `npm run gen:api` writes
 * src/lib/api-schema.gen.ts (openapi-typescript). Then replace the hand-written interfaces
 * below with aliases, e.g.
 *   import type { components } from "./api-schema.gen";
 *   export type ReactorStatus = components["schemas"]["ReactorStatus"];
 * Every other module imports API shapes only from this file, so that is the only edit needed.
 */

/** Money is a decimal string in USD (never a float on the wire). */
export type Money = string;
export type Lane = "exploit" | "explore";
export type RunStatusName = "running" | "completed" | "failed" | (string & {});
export type CoreState = "nominal" | "warning" | "critical" | "blocked";

export interface Ring {
  scope: string;
  spent: number;
  reserved: number;
  limit: number;
  pressure: number;
}

export interface Injection {
  event_id: number;
  ts: number;
  tokens: number;
  lane: Lane | null;
  idea_id: string | null;
}

export interface PulsePoint {
  event_id: number;
  ts: number;
  cost: Money;
  tokens: number;
  spike: boolean;
}

export interface LaneShare {
  target_share: number;
  actual_share: number;
  tokens: number;
  ideas: number;
}

export interface RadarScan {
  sector: number;
  subcategory: string;
  name: string;
  lane: Lane | null;
  idea_id: string | null;
}

export interface SimulationSummary {
  in_flight: number;
  done: number;
  failed: number;
  passed: number;
  latency_s: { p50: number | null; p95: number | null };
  best: { candidate_id: string; sharpe: number; fitness: number | null; expression: string } | null;
}

export interface Totals {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost: Money;
  calls: number;
  cache_hits: number;
  tokens_saved: number;
  fallbacks: number;
  blocked: number;
  deferred: number;
}

export interface Kpi {
  coverage: number;
  coverage_share: number;
  novelty: number;
  structural_novelty: number;
}

export interface Reactor {
  pressure: number;
  pressure_by_scope: Record<string, number>;
  velocity: { tokens_per_s: number; window_s: number };
  time_to_exhaustion_s: number | null;
  protection_mode: boolean;
  protection: { window_s: number; last_event: string | null; at: number | null; reason: string | null } | null;
  core: { heat: number; state: CoreState };
  rings: Ring[];
  injections: Injection[];
  pulse: PulsePoint[];
  lanes: { exploit: LaneShare; explore: LaneShare };
  radar: { scanning: RadarScan[]; feed: string[] };
  simulation: SimulationSummary;
  totals: Totals;
  kpi: Kpi;
}

export interface SeriesPoint {
  t: number;
  tokens: { exploit: number; explore: number };
  cost: Money;
  pressure: number;
}

export interface Gauge {
  scope: string;
  value: number;
  limit: number;
  pressure: number;
  unit: string;
}

export interface Flags {
  protection_mode: boolean;
  over_budget: boolean;
  blocked: boolean;
  explore_floor_preserved: boolean;
}

/** Envelope of GET /api/runs/{run_id}/reactor_status (also /budget, /kpi). */
export interface ReactorStatus {
  run_id: string;
  status: RunStatusName;
  as_of: number;
  cursor: number;
  reactor?: Reactor;
  series?: { bucket_s: number; points: SeriesPoint[] };
  gauges?: Gauge[];
  flags?: Flags;
}

/** One row of the events table (docs/events.md). */
export interface HudEvent {
  id: number;
  run_id: string;
  ts: number;
  name: string;
  step: string | null;
  idea_id: string | null;
  lane: Lane | null;
  payload: Record<string, unknown>;
}

export type StreamMessage =
  | { type: "snapshot"; cursor: number; status: ReactorStatus | null; events: HudEvent[] }
  | { type: "update"; cursor: number; status: ReactorStatus | null; events: HudEvent[] }
  | { type: "run"; run_id: string };

/** One entry of GET /api/runs. */
export interface RunSummary {
  run_id: string;
  status: RunStatusName;
  started_at: number | null;
  finished_at?: number | null;
  [extra: string]: unknown;
}
