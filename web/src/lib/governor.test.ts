import { describe, expect, it } from "vitest";
import { DEFAULT_GOVERNOR, LEVELS, MAX_LEVEL, QualityGovernor, TOP_PLAIN_LEVEL } from "./governor";

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
  it("steps down under slow frames, and keeps what does not help once the composer is off", () => {
    const g = new QualityGovernor();
    run(g, 220, 30, 0); // every level equally slow
    expect(g.level).toBe(TOP_PLAIN_LEVEL);
    expect(Math.min(...g.history.map((h) => h.level))).toBeLessThan(TOP_PLAIN_LEVEL); // it did try
  });

  it("bottoms out when each step down helps (fill-bound)", () => {
    const g = new QualityGovernor();
    let t = 0;
    for (let i = 0; i < 2000; i++) {
      const ms = 30 + g.level * 40; // every level costs more than the one below, all too slow
      t += ms / 1000;
      g.sample(ms, t);
    }
    expect(g.level).toBe(0);
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

  it("decides within ~1 s of the warm-up even when frames are very slow", () => {
    const g = new QualityGovernor();
    run(g, 250, 1.6 + DEFAULT_GOVERNOR.warmupS, 0);
    expect(g.level).toBeLessThan(MAX_LEVEL);
  });

  it("undoes a step down that buys nothing (compositor-bound) and holds there", () => {
    const g = new QualityGovernor();
    // bloom levels cost 200 ms; below that every level costs 33 ms: shedding more is pointless
    let t = 0;
    const seen = new Set<number>();
    for (let i = 0; i < 3000; i++) {
      const ms = g.quality.bloom ? 200 : 33;
      t += ms / 1000;
      g.sample(ms, t);
      if (t > 20) seen.add(g.level);
    }
    expect(g.level).toBe(3);
    expect(Math.min(...seen)).toBeGreaterThanOrEqual(2); // may probe one level down, never to the bottom
  });

  it("ignores hidden-tab frames", () => {
    const g = new QualityGovernor();
    for (let i = 0; i < 100; i++) g.sample(5000, i);
    expect(g.level).toBe(MAX_LEVEL);
    expect(DEFAULT_GOVERNOR.slowMs).toBeGreaterThan(DEFAULT_GOVERNOR.fastMs);
  });
});
