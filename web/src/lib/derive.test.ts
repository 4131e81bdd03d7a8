import { describe, expect, it } from "vitest";
import { applyEvent, coreStateFor, deriveReactor, emptyAcc, snapshot } from "./derive";
import { EventScript, sampleRun } from "./test-fixtures";

describe("deriveReactor", () => {
  it("computes pressure per scope from settled + reserved tokens", () => {
    const { reactor } = deriveReactor(sampleRun().events);
    // batch: spent 2400 + reserved 6000 (res2 still open) over 10000
    expect(reactor.pressure_by_scope.batch).toBeCloseTo(0.84);
    expect(reactor.pressure_by_scope.day).toBeCloseTo(0.084);
    // request ring: the admitted prompt + the last settled completion; it does not heat the core
    expect(reactor.pressure_by_scope.request).toBeCloseTo(0.2);
    expect(reactor.pressure).toBeCloseTo(0.84);
    expect(reactor.core.state).toBe("warning");
    const batch = reactor.rings.find((r) => r.scope === "batch")!;
    expect(batch).toMatchObject({ spent: 2400, reserved: 6000, limit: 10000 });
  });

  it("attributes spend to the rings named by the reservation's scope keys, plus the baseline", () => {
    const s = new EventScript();
    s.add("metadata_sync", {
      budget: { limits: { batch: 10000, day: 20000, lane_explore: 3000, lane_exploit: 7000, money_day: null, request: 100 }, baseline: { day: 15000 } },
    });
    s.add("budget.check_passed", { prompt_tokens: 900, completion_tokens: 400 }, { lane: "explore" });
    s.add("budget.reserved", { reservation_id: "a", tokens: 1000, cost: "0.01", scopes: ["lane:r:explore", "batch:r", "day:2026-11-25@UTC"] }, { lane: "explore" });
    let r = deriveReactor(s.events).reactor;
    expect(r.pressure_by_scope.lane_explore).toBeCloseTo(1000 / 3000);
    expect(r.pressure_by_scope.lane_exploit).toBe(0);
    expect(r.pressure_by_scope.day).toBeCloseTo(16000 / 20000);
    expect(r.pressure_by_scope.money_day).toBeUndefined();
    expect(r.pressure_by_scope.request).toBeCloseTo(9); // over its cap, but request rings do not heat
    expect(r.pressure).toBeCloseTo(0.8);
    s.add("budget.settled", { reservation_id: "a", total_tokens: 700, completion_tokens: 100, cost: "0.005" }, { lane: "explore" });
    r = deriveReactor(s.events).reactor;
    expect(r.rings.find((g) => g.scope === "lane_explore")).toMatchObject({ spent: 700, reserved: 0 });
    expect(r.rings.find((g) => g.scope === "day")).toMatchObject({ spent: 15700 });
    expect(r.time_to_exhaustion_s).toBeCloseTo((3000 - 700) / (700 / 60)); // the explore lane is tightest
  });

  it("falls back to llm.call totals when the run has no ledger events", () => {
    const s = new EventScript();
    s.add("metadata_sync", { budget: { limits: { batch: 1000, lane_exploit: 500 } } });
    s.add("llm.call", { prompt_tokens: 300, completion_tokens: 100, cost: "0.001" }, { lane: "exploit" });
    const r = deriveReactor(s.events).reactor;
    expect(r.pressure_by_scope.batch).toBeCloseTo(0.4);
    expect(r.pressure_by_scope.lane_exploit).toBeCloseTo(0.8);
    expect(r.velocity.tokens_per_s).toBeCloseTo(400 / 60);
    expect(r.lanes.exploit.actual_share).toBe(1);
  });

  it("reports velocity over the window and time to exhaustion of the tightest scope", () => {
    const s = sampleRun();
    const { reactor } = deriveReactor(s.events, s.t);
    expect(reactor.velocity.tokens_per_s).toBeCloseTo(2400 / 60);
    expect(reactor.time_to_exhaustion_s).toBeCloseTo((10000 - 8400) / (2400 / 60));
    // 2 minutes later nothing was settled in the window: velocity 0, no exhaustion estimate
    const later = deriveReactor(s.events, s.t + 120).reactor;
    expect(later.velocity.tokens_per_s).toBe(0);
    expect(later.time_to_exhaustion_s).toBeNull();
  });

  it("holds protection mode for the window after a protection event", () => {
    const s = sampleRun();
    const fallbackTs = s.events.find((e) => e.name === "budget.fallback_applied")!.ts;
    const { acc } = deriveReactor(s.events);
    expect(snapshot(acc, fallbackTs + 5).protection_mode).toBe(true);
    expect(snapshot(acc, fallbackTs + 5).protection?.reason).toBe("fields 40→20");
    expect(snapshot(acc, fallbackTs + 31).protection_mode).toBe(false);
  });

  it("turns the core to blocked on a block, and counts it", () => {
    const s = sampleRun();
    s.add("budget.blocked", { failure_code: "BUDGET_DAY_TOKENS", scope: "day", limit: 1, observed: 2, action: "defer" }, { idea_id: "i2" });
    const { reactor } = deriveReactor(s.events);
    expect(reactor.core.state).toBe("blocked");
    expect(reactor.totals.blocked).toBe(1);
    expect(reactor.radar.feed.at(-1)).toContain("BUDGET_DAY_TOKENS");
  });

  it("derives injections, pulse and totals from llm calls", () => {
    const { reactor } = deriveReactor(sampleRun().events);
    expect(reactor.injections).toEqual([{ event_id: 6, ts: 1006, tokens: 2000, lane: "explore", idea_id: "i1" }]);
    expect(reactor.pulse).toHaveLength(1);
    expect(reactor.pulse[0]!.cost).toBe("0.004000");
    expect(reactor.totals).toMatchObject({ prompt_tokens: 2000, completion_tokens: 400, total_tokens: 2400, calls: 1, fallbacks: 1 });
    expect(Number(reactor.totals.cost)).toBeCloseTo(0.004);
  });

  it("marks a cost spike against the recent mean", () => {
    const s = new EventScript();
    for (const c of ["0.001", "0.001", "0.001", "0.005"]) s.add("llm.call", { prompt_tokens: 100, completion_tokens: 10, cost: c });
    const { reactor } = deriveReactor(s.events);
    expect(reactor.pulse.map((p) => p.spike)).toEqual([false, false, false, true]);
  });

  it("scans the subcategories of ideas in flight and drops finished ones", () => {
    const { reactor } = deriveReactor(sampleRun().events);
    // i1's only candidate finished its simulation; i2 is still in flight
    expect(reactor.radar.scanning.map((x) => [x.idea_id, x.subcategory, x.lane])).toEqual([["i2", "price-momentum", "exploit"]]);
    expect(reactor.radar.feed.some((l) => /^Sector \d+ \(Volatility Index\) Scanning\.\.\.$/.test(l))).toBe(true);
    expect(reactor.simulation).toMatchObject({ done: 1, passed: 1, failed: 0, in_flight: 0 });
    expect(reactor.simulation.best).toMatchObject({ candidate_id: "c1", sharpe: 1.4, expression: "rank(close)" });
    expect(reactor.lanes.explore).toMatchObject({ tokens: 2400, actual_share: 1, ideas: 1, target_share: 0.3 });
  });

  it("ignores events it has already applied (resume)", () => {
    const s = sampleRun();
    const acc = emptyAcc();
    for (const ev of s.events) applyEvent(acc, ev);
    for (const ev of s.events) applyEvent(acc, ev);
    expect(snapshot(acc).totals.calls).toBe(1);
  });

  it("maps pressure to core states at the contract thresholds", () => {
    expect(coreStateFor(0.74, false)).toBe("nominal");
    expect(coreStateFor(0.75, false)).toBe("warning");
    expect(coreStateFor(0.9, false)).toBe("critical");
    expect(coreStateFor(0.1, true)).toBe("blocked");
  });
});
