import { describe, expect, it } from "vitest";
import { DEFAULT_GOVERNOR, LEVELS, MAX_LEVEL, QualityGovernor } from "./governor";

function run(g: QualityGovernor, ms: number, seconds: number, t0: number): number {
  let t = t0;
  while (t < t0 + seconds) {
    t += ms / 1000;
    g.sample(ms, t);
  }
  return t;
}

describe("quality levels", () => {
  it("shed effects in the order multisampling → glitch → bloom → particles → dpr", () => {
    const order = ["multisampling", "glitch", "bloom", "particles", "dpr"] as const;
    // each later effect is cut at a lower level than the one before it
    const cutLevel = (k: (typeof order)[number]) => Math.max(...LEVELS.filter((l) => l[k] !== LEVELS[MAX_LEVEL]![k]).map((l) => l.level));
    const cuts = order.map(cutLevel);
    for (let i = 1; i < cuts.length; i++) expect(cuts[i]).toBeLessThan(cuts[i - 1]!);
  });
});

describe("QualityGovernor", () => {
  it("steps down under slow frames (SwiftShader-like 220 ms) until it bottoms out", () => {
    const g = new QualityGovernor();
    run(g, 220, 30, 0);
    expect(g.level).toBe(0);
    expect(g.history.length).toBeGreaterThan(1);
  });

  it("settles where frames are fast and does not oscillate into a level that was slow", () => {
    const g = new QualityGovernor();
    // frame time depends on the level: bloom levels are slow, others fast
    let t = 0;
    for (let i = 0; i < 60 * 60; i++) {
      const ms = g.quality.bloom ? 60 : 16.7;
      t += ms / 1000;
      g.sample(ms, t);
    }
    expect(g.level).toBe(3);
    // it may probe level 4 again after its back-off, but rarely
    const probes = g.history.filter((h) => h.level === 4).length;
    expect(probes).toBeLessThanOrEqual(4);
  });

  it("steps back up when frames are cheap", () => {
    const g = new QualityGovernor(1);
    run(g, 16.7, 20, 0);
    expect(g.level).toBe(MAX_LEVEL);
  });

  it("ignores hidden-tab frames", () => {
    const g = new QualityGovernor();
    for (let i = 0; i < 100; i++) g.sample(5000, i);
    expect(g.level).toBe(MAX_LEVEL);
    expect(DEFAULT_GOVERNOR.slowMs).toBeGreaterThan(DEFAULT_GOVERNOR.fastMs);
  });
});
