import { describe, expect, it } from "vitest";
import type { ReactorStatus } from "./api-types";
import { golden, goldenEvents } from "./golden";
import { currentReactor, emptyReactor, initialState, newInjections, reduce, runStatus } from "./reducer";

const at = (i: number): ReactorStatus => structuredClone(golden.moments[i]!.status);
const upto = (id: number) => goldenEvents.filter((e) => e.id <= id);

describe("reduce", () => {
  it("shows zeros, not a guess, before the server answers", () => {
    const s = reduce(initialState(), { type: "events", events: goldenEvents, live: false });
    expect(currentReactor(s)).toEqual(emptyReactor());
    expect(runStatus(s)).toBe("waiting");
    expect(s.graph.size).toBeGreaterThan(0); // the drawing still builds from events
  });

  it("takes a snapshot without firing live triggers", () => {
    const m = golden.moments[2]!;
    const s = reduce(initialState(), { type: "message", msg: { type: "snapshot", run_id: null, truncated: false, cursor: m.at, status: at(2), events: upto(m.at) } });
    expect(s.runId).toBe(golden.run_id);
    expect(s.protectionSeq).toBe(0);
    expect(currentReactor(s)).toEqual(m.status.reactor);
  });

  it("flashes the overlay when the server reports a new protection while live, once", () => {
    const [a, b] = [golden.moments[0]!, golden.moments[1]!]; // after the check failure, after the fallback
    let s = reduce(initialState(golden.run_id), { type: "message", msg: { type: "snapshot", run_id: null, truncated: false, cursor: a.at, status: at(0), events: upto(a.at) } });
    expect(s.protectionSeq).toBe(0); // a check failure alone is not a protection
    s = reduce(s, { type: "message", msg: { type: "update", run_id: null, truncated: false, cursor: b.at, status: at(1), events: upto(b.at) } });
    expect(s.protectionSeq).toBe(1);
    expect(s.protectionReason).toBe("Top-K fallback · fields 40→20");
    s = reduce(s, { type: "status", status: at(2) });
    expect(s.protectionSeq).toBe(1); // the same protection: no new flash
  });

  it("ignores stale polls and other runs", () => {
    let s = reduce(initialState(golden.run_id), { type: "status", status: at(3) });
    s = reduce(s, { type: "status", status: at(1) });
    expect(s.server?.cursor).toBe(golden.moments[3]!.at);
    s = reduce(s, { type: "status", status: { ...at(4), run_id: "r_other" } });
    expect(s.server?.cursor).toBe(golden.moments[3]!.at);
  });

  it("resets on a snapshot of a different run and on reset", () => {
    let s = reduce(initialState(golden.run_id), { type: "status", status: at(2) });
    s = reduce(s, { type: "message", msg: { type: "snapshot", run_id: null, truncated: false, cursor: 0, status: { ...at(0), run_id: "r_new" }, events: [] } });
    expect(s.runId).toBe("r_new");
    expect(reduce(s, { type: "reset", runId: "x" }).runId).toBe("x");
  });

  it("ignores error frames and takes the run id from the frame", () => {
    let s = reduce(initialState(), { type: "message", msg: { type: "error", error: { code: "NOT_FOUND", message: "no run", details: {} } } });
    expect(s.runId).toBeNull();
    s = reduce(s, { type: "message", msg: { type: "snapshot", run_id: "r_9", cursor: 0, truncated: false, status: null, events: [] } });
    expect(s.runId).toBe("r_9");
  });

  it("hands each injection to the particles once", () => {
    const r = at(4).reactor!;
    const a = newInjections(r, 0);
    expect(a.fresh).toHaveLength(3);
    expect(newInjections(r, a.lastId).fresh).toHaveLength(0);
  });
});
