/**
 * API types for the Reactor Core HUD (docs/reactor-contract.md, docs/events.md).
 *
 * Nothing here is hand-written: the REST and WebSocket shapes are generated from the server's
 * OpenAPI document (`npm run gen:api`: ../docs/openapi.json → src/lib/api-schema.gen.ts) and the
 * event payloads from the published event schema (`npm run gen:events`: ../docs/event-schema.json →
 * src/lib/events.gen.ts). Both are checked in; api-schema.test.ts and events-schema.test.ts fail
 * when either is stale. Every other module imports API shapes only from this file.
 */

import type { components } from "./api-schema.gen";
import type { components as eventComponents } from "./events.gen";

type Schemas = components["schemas"];

/** Money is a decimal string in USD (never a float on the wire). */
export type Money = string;
export type Lane = "exploit" | "explore";
/** The wire says `lane: string | null`; anything but the two lanes reads as none. */
export const laneOf = (v: string | null | undefined): Lane | null => (v === "exploit" || v === "explore" ? v : null);
export type RunStatusName = string;
export type CoreState = Schemas["Core"]["state"];

export type Ring = Schemas["Ring"];
export type Injection = Schemas["Injection"];
export type PulsePoint = Schemas["PulsePoint"];
export type LaneShare = Schemas["LaneShare"];
export type RadarScan = Schemas["RadarScan"];
export type SimulationSummary = Schemas["SimulationSummary"];
export type Totals = Schemas["Totals"];
export type Kpi = Schemas["Kpi"];
export type Reactor = Schemas["Reactor"];
export type SeriesPoint = Schemas["SeriesPoint"];
export type Gauge = Schemas["Gauge"];
export type Flags = Schemas["Flags"];
/** Envelope of GET /api/runs/{run_id}/reactor_status (also /budget, /kpi). */
export type ReactorStatus = Schemas["ReactorStatus"];
/** One row of the events table (docs/events.md), as on the wire. */
export type HudEvent = Schemas["EventOut"];
/** Every event name (docs/event-schema.json). */
export type EventName = eventComponents["schemas"]["EventName"];
/** Event name → payload (keys may be absent on the wire, extra keys allowed). */
export type EventPayloads = { [N in EventName]: Partial<eventComponents["schemas"]["EventPayloads"][N]> };
/** An event whose payload type follows its name (narrow with `switch (e.name)`). */
export type TypedEvent = { [N in EventName]: Omit<HudEvent, "name" | "payload"> & { name: N; payload: EventPayloads[N] } }[EventName];
/** The wire event seen through its name's payload type (no runtime conversion). */
export const typed = (e: HudEvent): TypedEvent => e as unknown as TypedEvent;
/** One entry of GET /api/runs (`{runs: [...]}`); older/other servers may send a bare list. */
export type RunSummary = Pick<Schemas["RunSummary"], "run_id" | "status" | "started_at"> & Partial<Schemas["RunSummary"]>;
export type EventsPage = Schemas["EventsPage"];

/** WebSocket messages (`/api/runs/{id}/stream`, `/api/stream/latest`, `/api/runs/{id}/replay`),
 * published in the OpenAPI components by the server (server/schemas.py: StreamSnapshot, …). */
export type StreamFrame = Omit<Schemas["StreamSnapshot"], "type">;
export type StreamMessage = Schemas["StreamSnapshot"] | Schemas["StreamUpdate"] | Schemas["StreamRun"] | Schemas["StreamError"];
export type ReplayMessage = Schemas["ReplayFrame"] | Schemas["StreamError"];

/** The fleet view (GET /api/live/reactor_status, `/api/stream/live`): one reactor over every running
 * run, run_id "live"; `runs` names each run and its holder (host:pid). */
export type LiveStatus = Schemas["LiveStatus"];
export type LiveRun = Schemas["LiveRun"];
export type LiveMessage = Schemas["StreamLive"];

/** One row of GET /api/runs/{run_id}/candidates (open: the candidate's stored fields). */
export type CandidateRow = Schemas["CandidateOut"] & { expression?: string | null; lane?: string | null };
/** GET /api/runs/{run_id}/candidates/{candidate_id}: the candidate with its newest simulation. */
export type CandidateDetail = Schemas["CandidateDetail"];
export type SimulationDetail = Schemas["SimulationDetail"];

/** GET /api/runs/{run_id}/kpi → `kpi.yield`: tokens and cost per valid candidate and per passing alpha,
 * by lane, and the best alpha (the server's telemetry/alpha_yield.py; the HUD only prints it). */
export type YieldView = Schemas["YieldView"];
export type LaneYield = Schemas["LaneYield"];
export type BestAlpha = Schemas["BestAlpha"];
/** One `budget.threshold_crossed` as the reactor view carries it (`reactor.alerts`). */
export type BudgetAlert = Schemas["BudgetAlert"];
