/**
 * Budget alerts as the HUD prints them: `reactor.alerts` (each a `budget.threshold_crossed` with the
 * server's share, spend and cap). Formatting only: the share is the server's, never recomputed here.
 */
import type { BudgetAlert } from "./api-types";
import { fmtInt, fmtPct, fmtUsd } from "./format";
import { scopeLabel } from "./labels";

const amount = (v: string, unit: BudgetAlert["unit"]) => (unit === "usd" ? fmtUsd(Number(v)) : fmtInt(Number(v)));

/** "day 80% · 15,400 / 19,000 tok (81.1%)": the threshold crossed, spend / cap, the share then. */
export function alertText(a: BudgetAlert): string {
  const unit = a.unit === "usd" ? "" : " tok";
  return `${scopeLabel(a.scope)} ${fmtPct(a.threshold)} · ${amount(a.spent, a.unit)} / ${amount(a.limit, a.unit)}${unit} (${fmtPct(a.share, 1)})`;
}

/** Red from 95 %, amber from 80 %, else cyan: how loud an alert is. */
export function alertLevel(a: BudgetAlert): "high" | "mid" | "low" {
  return a.threshold >= 0.95 ? "high" : a.threshold >= 0.8 ? "mid" : "low";
}

/** The newest `n` alerts, newest first (the server sends them oldest first). */
export function newestAlerts(alerts: readonly BudgetAlert[], n: number): BudgetAlert[] {
  return alerts.slice(-n).reverse();
}
