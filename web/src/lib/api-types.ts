/**
 * API types for the Reactor Core HUD (docs/reactor-contract.md, docs/events.md).
 *
 * The REST shapes are generated from the server's OpenAPI document: `npm run gen:api` reads
 * ../docs/openapi.json and writes src/lib/api-schema.gen.ts (openapi-typescript; checked in, and
 * src/lib/api-schema.test.ts fails when it is stale). Every other module imports API shapes only
 * from this file. The WebSocket messages are not in OpenAPI and are written by hand below.
 */

import type { components } from "./api-schema.gen";

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
/** One row of the events table (docs/events.md). */
export type HudEvent = Schemas["EventOut"];
/** One entry of GET /api/runs (`{runs: [...]}`); older/other servers may send a bare list. */
export type RunSummary = Pick<Schemas["RunSummary"], "run_id" | "status" | "started_at"> & Partial<Schemas["RunSummary"]>;
export type EventsPage = Schemas["EventsPage"];

/** WebSocket messages (`/api/runs/{id}/stream`, `/api/stream/latest`): not described by OpenAPI. */
export interface StreamFrame {
  cursor: number;
  /** null before any run exists (`/api/stream/latest` on an empty store). */
  run_id?: string | null;
  /** true when older events were left out (resume from further back with REST paging). */
  truncated?: boolean;
  status: ReactorStatus | null;
  events: HudEvent[];
}
export type StreamMessage =
  | ({ type: "snapshot" } & StreamFrame)
  | ({ type: "update" } & StreamFrame)
  | { type: "run"; run_id: string }
  | { type: "error"; error: { code: string; message: string; details?: Record<string, unknown> } };
