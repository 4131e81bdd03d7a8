"use client";
/** Numeric readouts (counting smoothly per frame) and one bar per budget scope. */
import { figures } from "@/lib/figures";
import { fmtCompact, fmtInt, fmtPct, fmtUsd } from "@/lib/format";
import { scopeLabel } from "@/lib/labels";
import { useHudFrame, useHudVersion, useRuntime, useSmoothText } from "./runtime-context";
import { useRef, type ReactNode } from "react";

function Stat({ label, k, fmt, sub, testid, accent }: { label: string; k: string; fmt: (v: number) => string; sub?: string; testid: string; accent?: string }) {
  const ref = useSmoothText<HTMLDivElement>(k, fmt);
  return (
    <div className="min-w-0">
      <div className="text-[10px] tracking-[0.2em] uppercase text-cyan-300/60 font-semibold truncate">{label}</div>
      <div ref={ref} data-testid={testid} className={`num text-[17px] leading-[21px] [@media(max-height:700px)]:leading-[18px] glow layer truncate ${accent ?? "text-cyan-100"}`}>
        —
      </div>
      {sub ? (
        <div className="num text-[10px] text-cyan-200/50 truncate" title={sub} data-testid={`${testid}-sub`}>
          {sub}
        </div>
      ) : null}
    </div>
  );
}

/** A readout whose text is not a number to count towards (e.g. "—" for a finished run). */
function TextStat({ label, text, sub, testid, accent }: { label: string; text: string; sub: string; testid: string; accent?: string }) {
  return (
    <div className="min-w-0">
      <div className="text-[10px] tracking-[0.2em] uppercase text-cyan-300/60 font-semibold truncate">{label}</div>
      <div data-testid={testid} className={`num text-[17px] leading-[21px] [@media(max-height:700px)]:leading-[18px] glow layer truncate ${accent ?? "text-cyan-100"}`}>
        {text}
      </div>
      <div className="num text-[10px] text-cyan-200/50 truncate" title={sub} data-testid={`${testid}-sub`}>
        {sub}
      </div>
    </div>
  );
}

function ScopeBar({ scope, limit, unit }: { scope: string; limit: number; unit: string }) {
  const fill = useRef<HTMLDivElement>(null);
  const pct = useRef<HTMLSpanElement>(null);
  useHudFrame((_dt, rt) => {
    const p = rt.smooth.get(`ring:${scope}`);
    if (fill.current) {
      fill.current.style.width = `${Math.min(100, p * 100).toFixed(2)}%`;
      fill.current.style.background = p >= 0.9 ? "linear-gradient(90deg,#b91c1c,#ff3b30)" : p >= 0.75 ? "linear-gradient(90deg,#b45309,#fbbf24)" : "linear-gradient(90deg,#0e7490,#3ff0ff)";
    }
    if (pct.current) pct.current.textContent = fmtPct(p, 1);
  });
  return (
    <div data-testid={`scope-${scope}`} className="layer">
      <div className="flex justify-between text-[9px] leading-[12px] tracking-[0.14em] uppercase">
        <span className="text-cyan-300/70 font-semibold whitespace-nowrap truncate" title={scopeLabel(scope)}>{scopeLabel(scope)}</span>
        <span className="num text-cyan-100/80 whitespace-nowrap">
          <span ref={pct}>0%</span> <span className="text-cyan-300/40">of {unit === "usd" ? fmtUsd(limit) : fmtCompact(limit)}</span>
        </span>
      </div>
      <div className="h-[3px] bg-cyan-950/60 mt-[2px] overflow-hidden">
        <div ref={fill} className="h-full" style={{ width: 0, boxShadow: "0 0 8px rgba(63,240,255,0.6)" }} />
      </div>
    </div>
  );
}

/** One bar per budget scope, matching the rings of the core. */
export function ScopeLegend() {
  const rt = useRuntime();
  useHudVersion(rt);
  // cumulative scopes first (they heat the core), request scopes last
  const order = (s: string) => (s.startsWith("request") ? 3 : s.startsWith("lane") ? 1 : s === "batch" ? 0 : 2);
  const rings = [...rt.reactor.rings].sort((a, b) => order(a.scope) - order(b.scope));
  return (
    <div className="flex flex-col gap-[4px]" data-testid="scope-legend">
      <div className="panel-title text-[11px]">Budget rings</div>
      {rings.map((g) => (
        <ScopeBar key={g.scope} scope={g.scope} limit={g.limit} unit={g.scope.startsWith("money") ? "usd" : "tok"} />
      ))}
      {rings.length === 0 ? <div className="num text-[11px] text-cyan-200/40">{rt.state.server ? "no budget limits in this run" : "waiting for the run's budget…"}</div> : null}
    </div>
  );
}

/** `yieldBlock`: the run's yield (with its best alpha) in place of the reactor's best alpha. */
export default function Readouts({ yieldBlock }: { yieldBlock?: ReactNode }) {
  const rt = useRuntime();
  useHudVersion(rt);
  const r = rt.reactor;
  const f = figures(rt.state.server, r);
  const best = r.simulation.best;
  return (
    <div className="flex flex-col gap-2" data-testid="readouts">
      <div className="grid grid-cols-2 gap-x-3 gap-y-[6px] [@media(max-height:700px)]:gap-y-[2px]">
        <Stat label="Tokens" k="tokens" fmt={fmtInt} testid="ro-tokens" sub={f.tokensSub} />
        <Stat label="Cost" k="cost" fmt={fmtUsd} testid="ro-cost" sub={`${r.totals.calls} call${r.totals.calls === 1 ? "" : "s"}`} />
        <Stat label="Velocity" k="velocity" fmt={(v) => `${v.toFixed(1)}/s`} testid="ro-velocity" sub={`tokens · ${r.velocity.window_s}s window`} />
        <TextStat label="Exhaustion" text={f.exhaustion} sub={f.exhaustionSub} testid="ro-tte" accent={f.exhaustionUrgent ? "text-red-300 glow-red" : undefined} />
        <Stat label="Fallbacks" k="fallbacks" fmt={fmtInt} testid="ro-fallbacks" sub={`${r.totals.blocked} blocked · ${r.totals.deferred} deferred`} accent="text-amber-200" />
        <Stat label="Cache" k="cacheHits" fmt={(v) => `${fmtInt(v)} hits`} testid="ro-cache" sub={`${fmtCompact(r.totals.tokens_saved)} tok saved`} />
        <Stat label="Coverage" k="coverage" fmt={(v) => `${fmtInt(v)} sub`} testid="ro-coverage" sub={`${fmtPct(r.kpi.coverage_share)} of catalogue`} />
        <Stat label="Novelty" k="novelty" fmt={(v) => fmtPct(v, 1)} testid="ro-novelty" sub={f.noveltySub} />
        <Stat
          label="Simulations"
          k="simDone"
          fmt={(v) => `${fmtInt(v)} done`}
          testid="ro-sims"
          sub={f.simulationsSub}
        />
        <Stat
          label="Best Sharpe"
          k="bestSharpe"
          fmt={(v) => (best ? v.toFixed(2) : "—")}
          testid="ro-sharpe"
          sub={r.simulation.latency_s.p50 != null ? `p50 ${r.simulation.latency_s.p50.toFixed(1)}s · p95 ${(r.simulation.latency_s.p95 ?? 0).toFixed(1)}s` : "no results yet"}
          accent="text-emerald-200"
        />
      </div>
      {yieldBlock ?? (best ? (
        <div className="pt-2 border-t border-cyan-400/15 min-w-0" data-testid="best-alpha">
          <div className="text-[10px] tracking-[0.2em] uppercase text-emerald-300/70 font-semibold">
            Best alpha · {best.candidate_id}
          </div>
          <div className="num text-[11px] leading-[15px] text-emerald-100/90 break-all line-clamp-3">{best.expression || "—"}</div>
        </div>
      ) : null)}
    </div>
  );
}
