"use client";
/**
 * The yield block: tokens per valid candidate, tokens and dollars per passing alpha, by lane, and the
 * best alpha with its Sharpe and fitness — the server's `kpi.yield` (GET /api/runs/{id}/kpi), asked
 * again when the run moves on (lib/yield.ts). "live" while the run is in progress, "final" once the
 * figures are the finished run's closing ones (what `run-batch` printed).
 */
import { useEffect, useRef, useState } from "react";
import type { Api } from "@/lib/api";
import type { YieldView } from "@/lib/api-types";
import { FINISHED } from "@/lib/figures";
import { runStatus } from "@/lib/reducer";
import { bestLine, YieldFeed, yieldRows } from "@/lib/yield";
import { useHudVersion, useRuntime } from "./runtime-context";

const POKE_MS = 3000;

export default function YieldBlock({ api, runId }: { api: Api; runId: string }) {
  const rt = useRuntime();
  useHudVersion(rt);
  const [y, setY] = useState<YieldView | null>(null);
  const [feed] = useState(() => new YieldFeed((id) => api.kpiYield(id), setY));
  const finished = rt.mode === "replay" || FINISHED.has(runStatus(rt.state));
  const latest = useRef({ runId, cursor: rt.state.cursor, finished });
  latest.current = { runId, cursor: rt.state.cursor, finished };
  useEffect(() => {
    feed.poke(runId, rt.state.cursor, finished, performance.now());
  });
  useEffect(() => {
    const id = setInterval(() => {
      const l = latest.current;
      feed.poke(l.runId, l.cursor, l.finished, performance.now());
    }, POKE_MS);
    return () => clearInterval(id);
  }, [feed]);
  (window.__hud ??= {}).yieldView = y;
  const final = y?.source === "cycle_completed";
  const head = "text-[9px] tracking-[0.12em] uppercase text-cyan-300/60 text-right whitespace-nowrap";
  return (
    <div className="pt-2 border-t border-cyan-400/15 min-w-0" data-testid="yield" data-source={y?.source ?? ""}>
      <div className="grid grid-cols-[minmax(0,1fr)_auto_auto_auto] gap-x-[7px] num text-[10px] leading-[13px]">
        <div className="text-[10px] tracking-[0.14em] uppercase font-semibold text-cyan-300/70 truncate" title={y ? (final ? "final: the finished run's closing figures" : "live: so far, the run is in progress") : ""}>
          <i className={`inline-block w-[5px] h-[5px] rounded-full mr-1 align-middle ${final ? "bg-violet-300" : y ? "bg-emerald-300 blink" : "bg-cyan-300/30"}`} data-testid="yield-source" />
          Yield
        </div>
        <div className={head} title="tokens per valid candidate">tok/val</div>
        <div className={head} title="tokens per passing alpha">tok/pass</div>
        <div className={head} title="USD per passing alpha">$/pass</div>
        {(y ? yieldRows(y) : []).map((r) => (
          <div key={r.lane} className="contents" data-testid="yield-row" data-lane={r.lane}>
            <div className={`truncate ${r.lane === "all" ? "text-cyan-100" : "text-cyan-200/70"}`} title={`${r.lane}: ${r.counts} valid / passing`}>
              {r.lane}
            </div>
            <div className="text-right text-cyan-100/90" data-field="tok-valid">{r.tokPerValid}</div>
            <div className="text-right text-cyan-100/90" data-field="tok-pass">{r.tokPerPassing}</div>
            <div className="text-right text-cyan-100/90" data-field="usd-pass">{r.costPerPassing}</div>
          </div>
        ))}
      </div>
      {!y ? <div className="num text-[10px] text-cyan-300/40">asking the server…</div> : null}
      {y?.best ? (
        <div className="mt-1 min-w-0" data-testid="yield-best" data-candidate-id={y.best.candidate_id}>
          <div className="text-[10px] tracking-[0.04em] uppercase text-emerald-300/70 font-semibold truncate" title={`${y.best.candidate_id} · ${final ? "final" : "so far"}`}>
            Best · {bestLine(y.best)}
          </div>
          <div className="num text-[11px] leading-[14px] text-emerald-100/90 break-all line-clamp-1 [@media(min-height:700px)]:line-clamp-3" data-testid="yield-best-expression" title={y.best.expression ?? ""}>
            {y.best.expression || "—"}
          </div>
        </div>
      ) : y ? (
        <div className="mt-1 num text-[10px] text-cyan-300/40">no simulated alpha yet</div>
      ) : null}
    </div>
  );
}
