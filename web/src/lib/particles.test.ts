import { describe, expect, it } from "vitest";
import { ParticleField, particlesFor } from "./particles";

function seeded(seed = 1) {
  let s = seed;
  return () => ((s = (s * 16807) % 2147483647) - 1) / 2147483646;
}

describe("particles", () => {
  it("scale with tokens, within bounds, and with the quality fraction", () => {
    expect(particlesFor(0)).toBe(0);
    expect(particlesFor(2000)).toBe(100);
    expect(particlesFor(4000)).toBe(2 * particlesFor(2000));
    expect(particlesFor(10)).toBe(6);
    expect(particlesFor(1e9)).toBe(360);
    expect(particlesFor(2000, 0.5)).toBe(50);
  });

  it("fly into the core and are absorbed", () => {
    const f = new ParticleField(1000, 0.5, seeded());
    expect(f.inject(2000, "explore")).toBe(100);
    let absorbed = 0;
    let maxR = 0;
    for (let i = 0; i < 60 * 5; i++) {
      f.step(1 / 60, 0.5);
      absorbed += f.absorbed;
      for (let k = 0; k < f.count; k++) {
        const [x, y, z] = [f.positions[k * 3]!, f.positions[k * 3 + 1]!, f.positions[k * 3 + 2]!];
        maxR = Math.max(maxR, Math.hypot(x, y, z));
      }
    }
    expect(f.count).toBe(0);
    expect(absorbed).toBe(100);
    expect(maxR).toBeLessThanOrEqual(4.01);
  });

  it("respects capacity", () => {
    const f = new ParticleField(150, 0.5, seeded());
    expect(f.inject(1e9, "exploit")).toBe(150);
    expect(f.inject(2000, "exploit")).toBe(0);
    f.clear();
    expect(f.count).toBe(0);
  });
});
