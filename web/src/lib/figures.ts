/**
 * The headline figures as the HUD prints them, from the server's status only (docs/api.md defines
 * each). Pure: the readouts use it, and golden.test.ts checks it against the golden event log the
 * Python tests pin, so the HUD and the CLI show the same numbers.
 */
import type { Reactor, ReactorStatus } from "./api-types";
import { fmtCompact, fmtDuration, fmtInt, fmtPct } from "./format";
import { scopeLabel } from "./labels";

export const FINISHED = new Set(["completed", "failed", "interrupted"]);

export interface Figures {
  tokens: string;
  tokensSub: string;
  simulations: string;
  simulationsSub: string;
  exhaustion: string;
  exhaustionSub: string;
  exhaustionUrgent: boolean;
  coverage: string;
  novelty: string;
  noveltySub: string;
}

export function exhaustionText(status: string, r: Reactor): { text: string; sub: string } {
  if (FINISHED.has(status)) return { text: "—", sub: "run finished" };
  if (r.time_to_exhaustion_s == null) return { text: "—", sub: "no spend in the last minute" };
  return { text: fmtDuration(r.time_to_exhaustion_s), sub: `${scopeLabel(r.exhaustion_scope)} at this rate` };
}

export function figures(status: ReactorStatus | null, r: Reactor): Figures {
  const st = status?.status ?? "waiting";
  const t = r.totals;
  const s = r.simulation;
  const ex = exhaustionText(st, r);
  return {
    tokens: fmtInt(t.total_tokens),
    tokensSub: `${fmtCompact(t.prompt_tokens)} in · ${fmtCompact(t.completion_tokens)} out`,
    simulations: `${fmtInt(s.done)} done`,
    simulationsSub: `${s.passed} pass · ${s.failed} fail · ${s.errors} error · ${s.in_flight} live`,
    exhaustion: ex.text,
    exhaustionSub: ex.sub,
    exhaustionUrgent: !FINISHED.has(st) && r.time_to_exhaustion_s != null && r.time_to_exhaustion_s < 60,
    coverage: `${fmtInt(r.kpi.coverage)} sub`,
    novelty: fmtPct(r.kpi.novelty, 1),
    noveltySub: r.kpi.structural_novelty == null ? "structural — (after the batch)" : `structural ${fmtPct(r.kpi.structural_novelty)}`,
  };
}
