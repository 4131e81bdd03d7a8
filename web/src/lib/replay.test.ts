import { describe, expect, it } from "vitest";
import { deriveReactor } from "./derive";
import { currentReactor } from "./reducer";
import { Replay } from "./replay";
import { sampleRun } from "./test-fixtures";

describe("Replay", () => {
  it("shows the state at time t, forward and backward, equal to a fresh fold", () => {
    const ev = sampleRun().events;
    const r = new Replay("r_test", ev);
    expect(r.duration).toBe(ev.at(-1)!.ts - ev[0]!.ts);
    r.seek(ev[6]!.ts);
    expect(r.applied).toBe(7);
    const mid = currentReactor(r.state, r.t);
    expect(mid).toEqual(deriveReactor(ev.slice(0, 7), ev[6]!.ts).reactor);
    r.seekFraction(1);
    expect(currentReactor(r.state, r.t).simulation.done).toBe(1);
    r.seek(ev[2]!.ts); // backwards: rebuilt
    expect(r.applied).toBe(3);
    expect(currentReactor(r.state, r.t).totals.calls).toBe(0);
  });

  it("fires overlays only while playing, not when jumping", () => {
    const ev = sampleRun().events;
    const jump = new Replay("r_test", ev);
    jump.seekFraction(1);
    expect(jump.state.protectionSeq).toBe(0);
    const play = new Replay("r_test", ev);
    for (let t = play.t0; t <= play.t1; t += 0.5) play.seek(t);
    expect(play.state.protectionSeq).toBe(1);
  });
});
