/**
 * Replay of a finished run. The server decides every figure: at time t the replay asks for
 * `reactor_status?at=<id of the last event at or before t>` and shows the answer. Locally it keeps
 * only the event timeline (to map time to an event id) and the constellation graph (a drawing).
 * One request in flight at a time; while it is out, only the newest wanted moment is remembered, so
 * a fast scrub or 64× play never queues requests.
 */
import type { HudEvent, ReactorStatus } from "./api-types";
import { initialState, reduce, type HudState } from "./reducer";

/** Forward steps up to this many seconds count as "playing": overlays and particles fire. */
export const LIVE_STEP_S = 2.5;

export type StatusAt = (runId: string, at: number) => Promise<ReactorStatus>;

export class Replay {
  readonly events: HudEvent[];
  readonly t0: number;
  readonly t1: number;
  state: HudState;
  t: number;
  /** Called when a server answer changed the state (`snap`: a jump, not a step). */
  onChange: (snap: boolean) => void = () => {};
  /** The event id the shown status is at (0: none yet). */
  shownAt = 0;
  private next = 0;
  private wanted: { at: number; live: boolean } | null = null;
  private inflight = false;
  private pendingSnap = false;

  constructor(
    readonly runId: string,
    events: readonly HudEvent[],
    private readonly statusAt: StatusAt,
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

  /** Events up to the current time. */
  get applied(): number {
    return this.next;
  }

  /** The id of the last event at or before the current time (0 before the first). */
  get at(): number {
    return this.next ? this.events[this.next - 1]!.id : 0;
  }

  /** Move to absolute time `t` (seconds, server clock). Returns how many events were passed. */
  seek(t: number): number {
    const target = Math.min(Math.max(t, this.t0), this.t1);
    const back = target < this.t;
    if (back) {
      const graph = initialState(this.runId).graph; // the drawing is rebuilt; figures come from the server
      this.state.graph = graph;
      this.next = 0;
      this.state.cursor = 0;
    }
    const live = !back && target - this.t <= LIVE_STEP_S && this.next > 0;
    let end = this.next;
    while (end < this.events.length && this.events[end]!.ts <= target) end++;
    const batch = this.events.slice(this.next, end);
    this.next = end;
    this.t = target;
    if (batch.length) reduce(this.state, { type: "events", events: batch, live });
    // an answer in flight is for another moment: ask again even if `at` is what is shown now
    if (this.at && (this.at !== this.shownAt || this.inflight)) this.want(this.at, live);
    this.state.version++;
    return batch.length;
  }

  seekFraction(f: number): number {
    return this.seek(this.t0 + Math.min(1, Math.max(0, f)) * this.duration);
  }

  /** Resolves once the shown status is the one for the current time (tests, screenshots). */
  async settled(): Promise<void> {
    while (this.inflight || (this.at && this.at !== this.shownAt)) await new Promise((r) => setTimeout(r, 5));
  }

  private want(at: number, live: boolean): void {
    if (!live) this.pendingSnap = true;
    this.wanted = { at, live: live && !this.pendingSnap };
    if (!this.inflight) void this.pump();
  }

  private async pump(): Promise<void> {
    while (this.wanted && this.wanted.at !== this.shownAt) {
      const { at, live } = this.wanted;
      this.inflight = true;
      try {
        const status = await this.statusAt(this.runId, at);
        const snap = this.pendingSnap;
        if (this.wanted?.at === at) this.pendingSnap = false; // an older answer must not use up the jump

        reduce(this.state, { type: "status", status, live });
        this.shownAt = at;
        this.onChange(snap);
      } catch {
        this.shownAt = at; // keep the last good view; the next seek asks again
      } finally {
        this.inflight = false;
      }
    }
  }
}
