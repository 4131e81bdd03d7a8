/**
 * Replay of a finished run from its events: the same reducer, fed the events up to time t.
 * Forward play applies only the new events (cheap); seeking backwards rebuilds from the start.
 */
import type { HudEvent } from "./api-types";
import { initialState, reduce, type HudState } from "./reducer";

/** Forward steps up to this many seconds count as "playing": overlays and particles fire. */
export const LIVE_STEP_S = 2.5;

export class Replay {
  readonly events: HudEvent[];
  readonly t0: number;
  readonly t1: number;
  state: HudState;
  t: number;
  private next = 0;

  constructor(
    readonly runId: string,
    events: readonly HudEvent[],
  ) {
    this.events = [...events].sort((a, b) => a.id - b.id);
    this.t0 = this.events[0]?.ts ?? 0;
    this.t1 = this.events[this.events.length - 1]?.ts ?? this.t0;
    this.state = initialState(runId);
    this.t = this.t0 - 1e-6;
  }

  get duration(): number {
    return Math.max(0, this.t1 - this.t0);
  }

  /** Fraction 0..1 of the way through the run. */
  get progress(): number {
    return this.duration ? Math.min(1, Math.max(0, (this.t - this.t0) / this.duration)) : 1;
  }

  /** Events applied so far. */
  get applied(): number {
    return this.next;
  }

  /** Move to absolute time `t` (seconds, server clock). Returns how many events were applied. */
  seek(t: number): number {
    const target = Math.min(Math.max(t, this.t0), this.t1);
    if (target < this.t) {
      this.state = initialState(this.runId);
      this.next = 0;
      this.t = this.t0 - 1e-6;
    }
    const live = target - this.t <= LIVE_STEP_S && this.next > 0;
    let end = this.next;
    while (end < this.events.length && this.events[end]!.ts <= target) end++;
    const batch = this.events.slice(this.next, end);
    this.next = end;
    this.t = target;
    if (batch.length) this.state = reduce(this.state, { type: "events", events: batch, live });
    else this.state.version++;
    return batch.length;
  }

  seekFraction(f: number): number {
    return this.seek(this.t0 + Math.min(1, Math.max(0, f)) * this.duration);
  }
}
