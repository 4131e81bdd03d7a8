/**
 * The yield block: what a valid candidate and a passing alpha cost, by lane, and the best alpha. The
 * figures are the server's (`kpi.yield` of GET /api/runs/{id}/kpi, computed once by
 * telemetry/alpha_yield.py); this module only decides when to ask again and how to print them.
 */
import type { BestAlpha, LaneYield, YieldView } from "./api-types";
import { fmtCompact, fmtUsd } from "./format";

export interface YieldRow {
  lane: string;
  tokPerValid: string;
  tokPerPassing: string;
  costPerPassing: string;
  /** "3 / 1": valid / passing (what the divisions are over). */
  counts: string;
}

const LANE_ORDER = ["exploit", "explore"];

const tok = (v: number | null) => (v == null ? "—" : fmtCompact(v));
const usd = (v: string | null) => (v == null ? "—" : fmtUsd(Number(v)));

function row(y: LaneYield, label = y.lane): YieldRow {
  return {
    lane: label,
    tokPerValid: tok(y.tokens_per_valid),
    tokPerPassing: tok(y.tokens_per_passing),
    costPerPassing: usd(y.cost_per_passing),
    counts: `${y.valid} / ${y.passing}`,
  };
}

/** The lanes (exploit, explore, then any other the server names, e.g. "unassigned") and "all". */
export function yieldRows(y: YieldView): YieldRow[] {
  const names = Object.keys(y.lanes).sort((a, b) => {
    const ia = LANE_ORDER.indexOf(a);
    const ib = LANE_ORDER.indexOf(b);
    return (ia < 0 ? 9 : ia) - (ib < 0 ? 9 : ib) || a.localeCompare(b);
  });
  return [...names.map((n) => row(y.lanes[n]!)), row(y.total, "all")];
}

/** "Sharpe 1.61 · fitness 1.12 · exploit · passed" for the best alpha. */
export function bestLine(b: BestAlpha): string {
  const parts = [`Sharpe ${b.sharpe == null ? "—" : b.sharpe.toFixed(2)}`, `fitness ${b.fitness == null ? "—" : b.fitness.toFixed(2)}`, b.lane];
  parts.push(b.passed ? "passed" : b.failed_checks.length ? `failed ${b.failed_checks.length} check${b.failed_checks.length === 1 ? "" : "s"}` : "not passed");
  return parts.join(" · ");
}

export type FetchYield = (runId: string) => Promise<YieldView | null>;

/**
 * Asks the server for a run's yield when the run has moved on (its cursor grew), at most every
 * `minIntervalMs`; once the answer is the finished run's closing figures (`cycle_completed`) it never
 * asks again. A finished run whose first answer was still computed from the store (the runs row lags
 * the last event by a moment) is asked again a few times.
 */
export class YieldFeed {
  runId: string | null = null;
  value: YieldView | null = null;
  private asked = -1;
  private lastAt = Number.NEGATIVE_INFINITY;
  private inflight = false;
  private retries = 0;

  constructor(
    private readonly fetchYield: FetchYield,
    private readonly onChange: (y: YieldView | null) => void,
    readonly minIntervalMs = 2500,
    readonly finishedRetries = 5,
  ) {}

  /** Call on HUD updates and on a timer. `finished`: the server says the run is over. */
  poke(runId: string | null, cursor: number, finished: boolean, nowMs: number): boolean {
    if (runId !== this.runId) {
      this.runId = runId;
      this.value = null;
      this.asked = -1;
      this.lastAt = Number.NEGATIVE_INFINITY;
      this.retries = 0;
      this.onChange(null);
    }
    if (!runId || this.inflight) return false;
    if (this.value?.source === "cycle_completed") return false;
    const moved = cursor > this.asked;
    const settle = finished && this.value != null && this.retries < this.finishedRetries;
    if (!moved && this.value != null && !settle) return false;
    if (nowMs - this.lastAt < this.minIntervalMs) return false;
    if (!moved && settle) this.retries++;
    this.inflight = true;
    this.asked = Math.max(this.asked, cursor);
    this.lastAt = nowMs;
    const id = runId;
    this.fetchYield(id)
      .then((y) => {
        if (this.runId !== id) return;
        this.value = y;
        this.onChange(y);
      })
      .catch(() => undefined) // the next poke asks again
      .finally(() => {
        this.inflight = false;
      });
    return true;
  }
}
