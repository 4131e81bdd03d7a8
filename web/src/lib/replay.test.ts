import { describe, expect, it } from "vitest";
import type { ReactorStatus } from "./api-types";
import { golden, goldenEvents, goldenStatusAt } from "./golden";
import { currentReactor } from "./reducer";
import { Replay } from "./replay";

describe("Replay", () => {
  it("shows the server's status for the last event at or before t, forward and backward", async () => {
    const asked: number[] = [];
    const r = new Replay(golden.run_id, goldenEvents, (id, at) => {
      asked.push(at);
      return goldenStatusAt(id, at);
    });
    expect(r.duration).toBe(goldenEvents.at(-1)!.ts - goldenEvents[0]!.ts);
    const m = golden.moments[2]!;
    r.seek(goldenEvents.find((e) => e.id === m.at)!.ts);
    await r.settled();
    expect(r.at).toBe(m.at);
    expect(currentReactor(r.state)).toEqual(m.status.reactor);
    r.seekFraction(1);
    await r.settled();
    expect(r.state.server?.status).toBe("completed");
    r.seek(goldenEvents[0]!.ts); // backwards: asks again, graph rebuilt
    await r.settled();
    expect(r.at).toBe(goldenEvents[0]!.id);
    expect(asked.at(-1)).toBe(goldenEvents[0]!.id);
  });

  it("keeps one request in flight and asks only for the newest moment", async () => {
    const pending: { at: number; resolve: (s: ReactorStatus) => void }[] = [];
    const r = new Replay(golden.run_id, goldenEvents, (_id, at) => new Promise((resolve) => pending.push({ at, resolve })));
    for (const e of goldenEvents.slice(0, 10)) r.seek(e.ts);
    expect(pending).toHaveLength(1);
    pending[0]!.resolve(await goldenStatusAt(golden.run_id, pending[0]!.at));
    await new Promise((res) => setTimeout(res, 10));
    expect(pending).toHaveLength(2);
    expect(pending[1]!.at).toBe(goldenEvents[9]!.id); // the intermediate seeks were skipped
    pending[1]!.resolve(await goldenStatusAt(golden.run_id, pending[1]!.at));
    await r.settled();
    expect(r.shownAt).toBe(goldenEvents[9]!.id);
  });

  it("a jump made while a step is in flight still snaps when its own answer arrives", async () => {
    const pending: { at: number; resolve: (s: ReactorStatus) => void }[] = [];
    const r = new Replay(golden.run_id, goldenEvents, (_id, at) => new Promise((resolve) => pending.push({ at, resolve })));
    const snaps: boolean[] = [];
    r.onChange = (snap) => snaps.push(snap);
    r.seek(goldenEvents[0]!.ts); // playing from the start
    r.seek(goldenEvents[1]!.ts); // a small step: not a jump
    r.seekFraction(1); // the user jumps to the end while the first answer is out
    pending[0]!.resolve(await goldenStatusAt(golden.run_id, pending[0]!.at));
    await new Promise((res) => setTimeout(res, 10));
    pending[1]!.resolve(await goldenStatusAt(golden.run_id, pending[1]!.at));
    await r.settled();
    expect(pending[1]!.at).toBe(goldenEvents.at(-1)!.id);
    expect(snaps.at(-1)).toBe(true); // the end is shown at once, not glided to
  });

  it("a seek back to the shown moment while another answer is out ends on that moment", async () => {
    const pending: { at: number; resolve: (s: ReactorStatus) => void }[] = [];
    const r = new Replay(golden.run_id, goldenEvents, (_id, at) => new Promise((resolve) => pending.push({ at, resolve })));
    const a = goldenEvents[2]!;
    r.seek(a.ts);
    pending[0]!.resolve(await goldenStatusAt(golden.run_id, pending[0]!.at));
    await new Promise((res) => setTimeout(res, 10));
    expect(r.shownAt).toBe(a.id);
    r.seekFraction(1); // out: the end
    r.seek(a.ts); // back to what is shown, before the end's answer arrives
    pending[1]!.resolve(await goldenStatusAt(golden.run_id, pending[1]!.at));
    await new Promise((res) => setTimeout(res, 10));
    expect(pending).toHaveLength(3); // the shown moment is asked for again
    pending[2]!.resolve(await goldenStatusAt(golden.run_id, pending[2]!.at));
    await r.settled();
    expect(r.at).toBe(a.id);
    expect(r.shownAt).toBe(a.id);
  });

  it("fires the overlay only while playing, not when jumping", async () => {
    const jump = new Replay(golden.run_id, goldenEvents, goldenStatusAt);
    jump.seek(jump.t0);
    await jump.settled();
    jump.seekFraction(1);
    await jump.settled();
    expect(jump.state.protectionSeq).toBe(0);
    const play = new Replay(golden.run_id, goldenEvents, goldenStatusAt);
    for (let t = play.t0; t <= play.t1; t += 0.5) {
      play.seek(t);
      await play.settled();
    }
    expect(play.state.protectionSeq).toBe(1);
    expect(play.state.protectionReason).toBe("Top-K fallback · fields 40→20");
  });
});
