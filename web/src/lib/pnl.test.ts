import { describe, expect, it } from "vitest";
import { fmtDollars, pnlPoints } from "./pnl";

describe("pnlPoints", () => {
  it("keeps a short series whole", () => {
    const pts = pnlPoints({ dates: ["2020-01-01", "2020-01-02", "2020-01-03"], values: [0, 5, -2] });
    expect(pts.map((p) => p.v)).toEqual([0, 5, -2]);
    expect(pts[2]!.date).toBe("2020-01-03");
  });
  it("downsamples a long one, keeping both ends", () => {
    const n = 1000;
    const dates = Array.from({ length: n }, (_, i) => `d${i}`);
    const values = Array.from({ length: n }, (_, i) => i * 2);
    const pts = pnlPoints({ dates, values }, 100);
    expect(pts).toHaveLength(100);
    expect(pts[0]!.i).toBe(0);
    expect(pts[99]!.i).toBe(n - 1);
    expect(pts.every((p, k) => k === 0 || p.i > pts[k - 1]!.i)).toBe(true);
  });
  it("is empty without a series", () => {
    expect(pnlPoints(null)).toEqual([]);
    expect(pnlPoints({ dates: [], values: [] })).toEqual([]);
  });
  it("formats dollars compactly", () => {
    expect(fmtDollars(1_234_567)).toBe("$1.23M");
    expect(fmtDollars(-45_600)).toBe("-$45.6k");
    expect(fmtDollars(789)).toBe("$789");
  });
});
