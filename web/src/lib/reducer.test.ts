import { describe, expect, it } from "vitest";
import type { ReactorStatus } from "./api-types";
import { deriveReactor } from "./derive";
import { currentReactor, initialState, newInjections, reduce } from "./reducer";
import { sampleRun } from "./test-fixtures";

function status(cursor: number, protection = false, runId = "r_test"): ReactorStatus {
  const reactor = deriveReactor([]).reactor;
  reactor.protection_mode = protection;
  reactor.pressure = 0.5;
  return { run_id: runId, status: "running", as_of: 1, cursor, reactor };
}

describe("reduce", () => {
  it("builds state from a snapshot without firing live triggers", () => {
    const ev = sampleRun().events;
    const s = reduce(initialState(), { type: "message", msg: { type: "snapshot", cursor: ev.length, status: null, events: ev } });
    expect(s.runId).toBe("r_test");
    expect(s.cursor).toBe(ev.length);
    expect(s.protectionSeq).toBe(0);
    expect(currentReactor(s).totals.calls).toBe(1);
  });

  it("fires the protection overlay on a live fallback and on protection_mode rising", () => {
    const ev = sampleRun().events;
    let s = reduce(initialState("r_test"), { type: "message", msg: { type: "snapshot", cursor: 3, status: status(3), events: ev.slice(0, 3) } });
    s = reduce(s, { type: "message", msg: { type: "update", cursor: ev.length, status: null, events: ev.slice(3) } });
    expect(s.protectionSeq).toBe(1);
    expect(s.protectionReason).toContain("fields 40→20");
    s = reduce(s, { type: "status", status: status(ev.length + 1, true) });
    expect(s.protectionSeq).toBe(2);
    s = reduce(s, { type: "status", status: status(ev.length + 2, true) });
    expect(s.protectionSeq).toBe(2); // still on: no new flash
  });

  it("prefers the server's reactor, ignores stale polls and other runs", () => {
    let s = reduce(initialState("r_test"), { type: "status", status: status(10) });
    expect(currentReactor(s).pressure).toBe(0.5);
    s = reduce(s, { type: "status", status: { ...status(5), as_of: 99 } });
    expect(s.server?.cursor).toBe(10);
    s = reduce(s, { type: "status", status: status(20, false, "r_other") });
    expect(s.server?.cursor).toBe(10);
  });

  it("resets on a snapshot of a different run and on reset", () => {
    const ev = sampleRun().events;
    let s = reduce(initialState(), { type: "events", events: ev, live: false });
    s = reduce(s, { type: "message", msg: { type: "snapshot", cursor: 0, status: status(0, false, "r_new"), events: [] } });
    expect(s.runId).toBe("r_new");
    expect(s.acc.totals.calls).toBe(0);
    expect(reduce(s, { type: "reset", runId: "x" }).runId).toBe("x");
  });

  it("ignores error frames and takes the run id from the frame", () => {
    let s = reduce(initialState(), { type: "message", msg: { type: "error", error: { code: "NOT_FOUND", message: "no run" } } });
    expect(s.runId).toBeNull();
    s = reduce(s, { type: "message", msg: { type: "snapshot", run_id: "r_9", cursor: 0, truncated: false, status: null, events: [] } });
    expect(s.runId).toBe("r_9");
  });

  it("hands each injection to the particles once", () => {
    const r = deriveReactor(sampleRun().events).reactor;
    const a = newInjections(r, 0);
    expect(a.fresh).toHaveLength(1);
    expect(newInjections(r, a.lastId).fresh).toHaveLength(0);
  });
});
