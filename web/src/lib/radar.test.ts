import { describe, expect, it } from "vitest";
import type { RadarScan } from "./api-types";
import { placeBlips } from "./radar";

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
