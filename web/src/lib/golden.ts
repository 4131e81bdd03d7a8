/** The golden event log the Python tests pin (tests/telemetry/golden/), for unit tests only. */
import { readFileSync } from "node:fs";
import type { HudEvent, ReactorStatus } from "./api-types";

const dir = new URL("../../../tests/telemetry/golden/", import.meta.url);

export interface GoldenMoment {
  at: number;
  figures: Record<string, unknown>;
  status: ReactorStatus;
}

export const goldenEvents: HudEvent[] = JSON.parse(readFileSync(new URL("events.json", dir), "utf8"));
export const golden: { run_id: string; moments: GoldenMoment[] } = JSON.parse(readFileSync(new URL("expected.json", dir), "utf8"));

/** A stand-in for `reactor_status?at=`: the pinned status of the last pinned moment at or before `at`. */
export async function goldenStatusAt(_runId: string, at: number): Promise<ReactorStatus> {
  const m = [...golden.moments].reverse().find((x) => x.at <= at) ?? golden.moments[0]!;
  return structuredClone(m.status);
}
