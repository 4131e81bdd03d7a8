import { describe, expect, it } from "vitest";
import { approach, ServerClock, Smoother } from "./interpolate";

describe("approach", () => {
  it("is frame-rate independent", () => {
    let a = 0;
    for (let i = 0; i < 60; i++) a = approach(a, 1, 1 / 60, 0.3);
    let b = 0;
    for (let i = 0; i < 10; i++) b = approach(b, 1, 1 / 10, 0.3);
    expect(a).toBeCloseTo(b, 10);
    expect(a).toBeCloseTo(1 - Math.exp(-1 / 0.3), 10);
  });
  it("never overshoots", () => {
    expect(approach(0, 1, 10, 0.1)).toBeLessThanOrEqual(1);
    expect(approach(5, 5, 0.016, 0.3)).toBe(5);
  });
});

describe("Smoother", () => {
  it("jumps on first sight, then glides without jumps", () => {
    const s = new Smoother(0.2);
    s.set("p", 0.4);
    expect(s.get("p")).toBe(0.4);
    s.set("p", 0.9);
    const seen: number[] = [];
    for (let i = 0; i < 120; i++) {
      s.step(1 / 60);
      seen.push(s.get("p"));
    }
    const steps = seen.map((v, i) => v - (i ? seen[i - 1]! : 0.4));
    expect(Math.max(...steps)).toBeLessThan(0.05); // no visible jump in one frame
    expect(seen.at(-1)).toBeCloseTo(0.9, 3);
  });
  it("clamps a stalled frame", () => {
    const s = new Smoother(1);
    s.set("x", 0);
    s.set("x", 1);
    s.step(30); // tab was in the background for 30 s
    expect(s.get("x")).toBeCloseTo(1 - Math.exp(-0.25), 6);
  });
});

describe("ServerClock", () => {
  it("maps local time to server time and slews corrections", () => {
    const c = new ServerClock();
    expect(c.now(1)).toBeNull();
    c.observe(1000, 10);
    expect(c.now(11)).toBe(1001);
    c.observe(1002, 11); // server is 1 s ahead of the estimate
    c.step(0.1);
    const n = c.now(11)!;
    expect(n).toBeGreaterThan(1001);
    expect(n).toBeLessThan(1002);
  });
});
