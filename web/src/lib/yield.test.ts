import { describe, expect, it } from "vitest";
import type { LaneYield, YieldView } from "./api-types";
import { Api } from "./api";
import { bestLine, yieldRows, YieldFeed } from "./yield";

const lane = (name: string, tokens: number, valid: number, passing: number, cost = "0.01"): LaneYield => ({
  lane: name,
  tokens,
  cost,
  candidates: valid + 1,
  valid,
  passing,
  tokens_per_valid: valid ? Math.round((tokens / valid) * 10) / 10 : null,
  cost_per_valid: valid ? String(Number(cost) / valid) : null,
  tokens_per_passing: passing ? Math.round((tokens / passing) * 10) / 10 : null,
  cost_per_passing: passing ? String(Number(cost) / passing) : null,
});

const view = (source: YieldView["source"] = "store"): YieldView => ({
  source,
  lanes: { unassigned: lane("unassigned", 300, 0, 0), explore: lane("explore", 4000, 2, 0), exploit: lane("exploit", 24000, 4, 2, "0.02") },
  total: lane("all", 28300, 6, 2, "0.031"),
  best: { candidate_id: "c7", lane: "exploit", expression: "rank(-ts_delta(close, 5))", sharpe: 1.6123, fitness: 1.1, turnover: 0.3, returns: 0.05, passed: false, failed_checks: ["LOW_SHARPE"] },
});

describe("yield rows", () => {
  it("prints the server's figures in lane order, all last, a dash where nothing is valid or passing", () => {
    const rows = yieldRows(view());
    expect(rows.map((r) => r.lane)).toEqual(["exploit", "explore", "unassigned", "all"]);
    expect(rows[0]).toEqual({ lane: "exploit", tokPerValid: "6,000", tokPerPassing: "12.0k", costPerPassing: "$0.0100", counts: "4 / 2" });
    expect(rows[1]).toMatchObject({ tokPerValid: "2,000", tokPerPassing: "—", costPerPassing: "—" });
    expect(rows[2]).toMatchObject({ tokPerValid: "—", counts: "0 / 0" });
    expect(rows[3]).toMatchObject({ tokPerPassing: "14.2k", costPerPassing: "$0.0155" });
  });

  it("describes the best alpha", () => {
    expect(bestLine(view().best!)).toBe("Sharpe 1.61 · fitness 1.10 · exploit · failed 1 check");
    expect(bestLine({ ...view().best!, passed: true, fitness: null })).toBe("Sharpe 1.61 · fitness — · exploit · passed");
  });
});

describe("YieldFeed", () => {
  const setup = () => {
    const asked: string[] = [];
    const answers: (YieldView | null)[] = [];
    let next: YieldView | null = view();
    const shown: (YieldView | null)[] = [];
    const feed = new YieldFeed(
      async (id) => {
        asked.push(id);
        answers.push(next);
        return next;
      },
      (y) => shown.push(y),
      1000,
      2,
    );
    return { feed, asked, shown, set: (y: YieldView | null) => (next = y) };
  };
  const flush = () => new Promise((r) => setTimeout(r, 0));

  it("asks when the run moved on, at most every interval, and stops at the closing figures", async () => {
    const { feed, asked, shown, set } = setup();
    expect(feed.poke("r1", 10, false, 0)).toBe(true);
    await flush();
    expect(shown.at(-1)?.source).toBe("store");
    expect(feed.poke("r1", 10, false, 5000)).toBe(false); // nothing new
    expect(feed.poke("r1", 12, false, 500)).toBe(false); // too soon
    expect(feed.poke("r1", 12, false, 1200)).toBe(true);
    await flush();
    set(view("cycle_completed"));
    expect(feed.poke("r1", 20, true, 2300)).toBe(true);
    await flush();
    expect(shown.at(-1)?.source).toBe("cycle_completed");
    expect(feed.poke("r1", 30, true, 9000)).toBe(false); // final: never again
    expect(asked).toEqual(["r1", "r1", "r1"]);
  });

  it("a finished run answered from the store is asked again a few times, then left", async () => {
    const { feed, asked } = setup();
    feed.poke("r1", 5, true, 0);
    await flush();
    expect(feed.poke("r1", 5, true, 1000)).toBe(true);
    await flush();
    expect(feed.poke("r1", 5, true, 2000)).toBe(true);
    await flush();
    expect(feed.poke("r1", 5, true, 3000)).toBe(false);
    expect(asked).toHaveLength(3);
  });

  it("a new run clears the block and asks at once; a late answer for the old run is dropped", async () => {
    const { feed, shown } = setup();
    feed.poke("r1", 5, false, 0);
    feed.poke("r2", 1, false, 10); // r1's answer is still in flight
    expect(shown).toEqual([null, null]);
    await flush();
    expect(feed.value).toBeNull(); // r1's answer came back for a run no longer shown
    expect(feed.poke("r2", 1, false, 20)).toBe(true);
    await flush();
    expect(feed.runId).toBe("r2");
    expect(feed.value?.source).toBe("store");
  });

  it("Api.kpiYield reads kpi.yield of the chart format", async () => {
    const urls: string[] = [];
    const api = new Api("http://h", async (u) => {
      urls.push(u);
      return { kpi: { current: {}, per_batch: [], yield: view("cycle_completed") } };
    });
    expect((await api.kpiYield("r 1"))?.source).toBe("cycle_completed");
    expect(urls).toEqual(["http://h/api/runs/r%201/kpi?format=chart"]);
    const none = new Api("", async () => ({ kpi: { yield: null } }));
    expect(await none.kpiYield("r")).toBeNull();
  });
});
