import { describe, expect, it } from "vitest";
import type { BudgetAlert } from "./api-types";
import { alertLevel, alertText, newestAlerts } from "./alerts";

const alert = (threshold: number, over: Partial<BudgetAlert> = {}): BudgetAlert => ({
  event_id: Math.round(threshold * 100),
  ts: 1,
  scope: "day",
  scope_key: "day:2026-12-07@UTC",
  unit: "tokens",
  threshold,
  share: threshold + 0.011,
  spent: "15400",
  limit: "19000",
  window_end: "2026-12-08T00:00:00Z",
  ...over,
});

describe("budget alerts", () => {
  it("names the scope, the threshold and the server's spend, cap and share", () => {
    expect(alertText(alert(0.8, { share: 0.810526 }))).toBe("day 80% · 15,400 / 19,000 tok (81.1%)");
    expect(alertText(alert(0.5, { scope: "money_week", unit: "usd", spent: "2.6", limit: "5", share: 0.52 }))).toBe(
      "money/week 50% · $2.6000 / $5.0000 (52.0%)",
    );
  });

  it("grades and orders them", () => {
    expect([0.5, 0.8, 0.95].map((t) => alertLevel(alert(t)))).toEqual(["low", "mid", "high"]);
    expect(newestAlerts([alert(0.5), alert(0.8), alert(0.95)], 2).map((a) => a.threshold)).toEqual([0.95, 0.8]);
  });
});
