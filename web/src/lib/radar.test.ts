import { describe, expect, it } from "vitest";
import type { RadarScan } from "./api-types";
import { placeBlips, placeLabels } from "./radar";

const scan = (subcategory: string, lane: string, sector: number, idea = "i"): RadarScan => ({ subcategory, lane, sector, name: subcategory, idea_id: idea });

describe("placeBlips", () => {
  it("puts each lane's blips inside its own wedge, spread evenly, one per subcategory", () => {
    const scans = [
      scan("a", "exploit", 2, "i1"),
      scan("a", "exploit", 2, "i2"),
      scan("b", "exploit", 5),
      scan("c", "exploit", 9),
      scan("d", "explore", 1),
      scan("e", "explore", 3),
    ];
    const blips = placeBlips(scans, 0.7, 100);
    expect(blips).toHaveLength(5);
    expect(blips.find((b) => b.subcategory === "a")!.ideas).toBe(2);
    for (const b of blips) {
      if (b.lane === "exploit") expect(b.angle).toBeGreaterThan(0), expect(b.angle).toBeLessThan(252);
      else expect(b.angle).toBeGreaterThan(252), expect(b.angle).toBeLessThan(360);
      expect(b.radius).toBeGreaterThan(30);
      expect(b.radius).toBeLessThan(90);
    }
    const exploit = blips.filter((b) => b.lane === "exploit").map((b) => b.angle);
    expect(exploit[1]! - exploit[0]!).toBeGreaterThan(60); // spread, not clustered
  });
});

describe("placeLabels", () => {
  const measure = (t: string) => t.length * 6.6;
  const polar = (c: number, r: number, deg: number): [number, number] => {
    const a = ((deg - 90) * Math.PI) / 180;
    return [c + r * Math.cos(a), c + r * Math.sin(a)];
  };

  it("never overlaps two labels and keeps them inside the radar, however crowded", () => {
    for (const n of [3, 8, 16, 24]) {
      const scans = Array.from({ length: n }, (_, i) => scan(`sub-${i}-with-a-long-name`, i % 3 ? "exploit" : "explore", (i % 12) + 1, `i${i}`));
      for (const size of [220, 300, 420]) {
        const R = size / 2 - 18;
        const blips = placeBlips(scans, 0.7, R);
        const labels = placeLabels(blips, size, (b) => polar(size / 2, b.radius, b.angle), measure);
        for (const l of labels) {
          expect(l.y).toBeGreaterThanOrEqual(22); // clear of the EXPLOIT / EXPLORE headers
          expect(l.y + l.h).toBeLessThanOrEqual(size - 18);
          expect(l.x).toBeGreaterThanOrEqual(0);
          expect(l.x + l.w).toBeLessThanOrEqual(size);
        }
        for (let i = 0; i < labels.length; i++)
          for (let j = i + 1; j < labels.length; j++) {
            const a = labels[i]!;
            const b = labels[j]!;
            const apart = a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
            expect(apart, `${a.text} / ${b.text} at ${size}px with ${n}`).toBe(true);
          }
        if (n <= 3 && size >= 420) expect(labels.every((l) => l.text.includes("·"))).toBe(true); // room for names
      }
    }
  });

  it("clips a long name with an ellipsis and keeps the full text for the tooltip", () => {
    const blips = placeBlips([scan("x", "exploit", 4)], 0.7, 120).map((b) => ({ ...b, name: "A Very Long Subcategory Name Indeed" }));
    const [l] = placeLabels(blips, 420, (b) => polar(210, b.radius, b.angle), measure);
    expect(l!.text).toMatch(/…$/);
    expect(l!.full).toBe("S4 · A Very Long Subcategory Name Indeed");
  });
});
