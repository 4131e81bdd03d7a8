"use client";
/**
 * Candidate detail: the run's candidates (from GET /api/runs/{id}/candidates) and, for the one
 * selected (here or by clicking a constellation node), its expression, metrics, failed checks and
 * cumulative PnL chart (GET /api/runs/{id}/candidates/{candidate_id}). The server is the authority;
 * this only shows what it answers.
 */
import { curveLinear } from "@visx/curve";
import { LinearGradient } from "@visx/gradient";
import { scaleLinear } from "@visx/scale";
import { AreaClosed, LinePath } from "@visx/shape";
import { useEffect, useMemo, useState } from "react";
import type { Api } from "@/lib/api";
import type { CandidateDetail as Detail, CandidateRow } from "@/lib/api-types";
import { fmtDollars, pnlPoints, type PnlPoint } from "@/lib/pnl";

const fmtNum = (v: number | null | undefined, d = 2) => (v == null || !Number.isFinite(v) ? "—" : v.toFixed(d));
const fmtPctOf = (v: number | null | undefined) => (v == null || !Number.isFinite(v) ? "—" : `${(v * 100).toFixed(1)}%`);

export default function CandidateDetail({
  api,
  runId,
  selected,
  onSelect,
  onClose,
}: {
  api: Api;
  runId: string;
  selected: string | null;
  onSelect: (candidateId: string) => void;
  onClose: () => void;
}) {
  const [list, setList] = useState<CandidateRow[] | null>(null);
  const [detail, setDetail] = useState<Detail | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    const load = () =>
      api
        .candidates(runId)
        .then((c) => live && setList(c))
        .catch((e) => live && setError(String((e as Error).message ?? e)));
    void load();
    const id = setInterval(load, 5000);
    return () => {
      live = false;
      clearInterval(id);
    };
  }, [api, runId]);

  useEffect(() => {
    if (!selected) return;
    let live = true;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let tries = 0;
    setDetail(null);
    const load = () =>
      api
        .candidate(runId, selected)
        .then((d) => {
          if (!live) return;
          setDetail(d);
          setError(null);
          // a live run: ask again until the candidate's simulation has finished
          const s = d.simulation;
          const settled = s ? ["COMPLETE", "ERROR", "SKIPPED"].includes(s.status) : !d.candidate.valid;
          if (!settled && ++tries < 200) timer = setTimeout(load, 3000);
        })
        .catch((e) => live && setError(String((e as Error).message ?? e)));
    void load();
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
  }, [api, runId, selected]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && onClose();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);

  return (
    <div
      data-testid="candidate-detail"
      data-candidate-id={selected ?? ""}
      className="panel z-30 flex gap-3 p-3 text-cyan-50"
      style={{ position: "absolute", background: "rgba(3, 10, 20, 0.96)", left: "50%", top: "50%", transform: "translate(-50%, -50%)", width: "min(920px, 92vw)", height: "min(520px, 80vh)" }}
    >
      <div className="w-[min(260px,32%)] shrink-0 flex flex-col min-h-0">
        <div className="panel-title mb-1">Candidates · {list?.length ?? "…"}</div>
        <div className="flex-1 min-h-0 overflow-y-auto pr-1" data-testid="candidate-list">
          {(list ?? []).map((c) => (
            <button
              key={c.candidate_id}
              type="button"
              data-testid="candidate-item"
              data-candidate-id={c.candidate_id}
              data-valid={c.valid ? "1" : "0"}
              onClick={() => onSelect(c.candidate_id)}
              className={`block w-full text-left num text-[10px] px-2 py-1 border-b border-cyan-400/10 truncate hover:bg-cyan-400/10 ${
                c.candidate_id === selected ? "bg-cyan-400/15 text-cyan-50" : c.valid ? "text-cyan-200/80" : "text-red-300/70"
              }`}
              title={c.expression ?? c.candidate_id}
            >
              {c.expression ?? c.candidate_id}
              <span className="block text-cyan-300/40">{c.status}{c.lane ? ` · ${c.lane}` : ""}</span>
            </button>
          ))}
          {list && list.length === 0 ? <div className="num text-[10px] text-cyan-300/50">no candidates yet</div> : null}
        </div>
      </div>
      <div className="flex-1 min-w-0 flex flex-col gap-2 min-h-0">
        <div className="flex items-start gap-2">
          <div className="panel-title flex-1 truncate">{selected ? `Candidate ${selected}` : "Pick a candidate"}</div>
          <button type="button" data-testid="candidate-close" onClick={onClose} className="num text-[11px] px-2 border border-cyan-400/40 text-cyan-200 hover:bg-cyan-400/10">
            ✕
          </button>
        </div>
        {error ? <div className="num text-[11px] text-red-300">{error}</div> : null}
        {selected && !detail && !error ? <div className="num text-[11px] text-cyan-300/50 blink">loading…</div> : null}
        {detail ? <DetailBody detail={detail} /> : null}
      </div>
    </div>
  );
}

function DetailBody({ detail }: { detail: Detail }) {
  const c = detail.candidate as Detail["candidate"] & { expression?: string | null };
  const s = detail.simulation;
  const metrics: [string, string, string][] = [
    ["sharpe", "Sharpe", fmtNum(s?.sharpe)],
    ["fitness", "Fitness", fmtNum(s?.fitness)],
    ["turnover", "Turnover", fmtPctOf(s?.turnover)],
    ["returns", "Returns", fmtPctOf(s?.returns)],
  ];
  return (
    <>
      <pre data-testid="candidate-expression" className="num text-[12px] text-cyan-100 whitespace-pre-wrap break-all bg-cyan-400/5 border border-cyan-400/15 px-2 py-1 max-h-[72px] overflow-y-auto">
        {c.expression ?? "(no expression)"}
      </pre>
      <div className="grid grid-cols-4 gap-2" data-testid="candidate-metrics">
        {metrics.map(([key, label, value]) => (
          <div key={key} className="border border-cyan-400/15 px-2 py-1" data-metric={key}>
            <div className="text-[9px] tracking-[0.25em] uppercase text-cyan-300/60">{label}</div>
            <div className="num text-[18px] text-cyan-50 glow" data-testid={`metric-${key}`}>
              {value}
            </div>
          </div>
        ))}
      </div>
      <div className="num text-[10px] flex flex-wrap gap-1 items-center" data-testid="candidate-checks" data-failed={s?.failed_checks.length ?? 0}>
        {!s ? (
          <span className="text-cyan-300/60">not simulated{c.error_code ? ` · ${c.error_code}` : ""}</span>
        ) : s.status !== "COMPLETE" ? (
          <span className="text-red-300">
            {s.status.toLowerCase()}
            {s.error_code ? ` · ${s.error_code}` : ""}
            {s.message ? ` · ${s.message}` : ""}
          </span>
        ) : s.failed_checks.length ? (
          <>
            <span className="text-cyan-300/60 uppercase tracking-[0.2em] mr-1">failed checks</span>
            {s.failed_checks.map((name) => (
              <span key={name} data-testid="failed-check" className="px-1 border border-orange-400/60 text-orange-200">
                {name}
              </span>
            ))}
          </>
        ) : (
          <span className="text-emerald-300">all {s.checks.length} checks passed</span>
        )}
      </div>
      <div className="flex-1 min-h-[120px] border border-cyan-400/15 relative">
        {s?.pnl ? (
          <PnlChart points={pnlPoints(s.pnl)} />
        ) : (
          <div className="absolute inset-0 grid place-items-center num text-[11px] text-cyan-300/60" data-testid="pnl-unavailable">
            {s?.pnl_unavailable ? `PnL unavailable: ${s.pnl_unavailable}` : "no PnL series"}
          </div>
        )}
      </div>
    </>
  );
}

function PnlChart({ points }: { points: PnlPoint[] }) {
  const [box, setBox] = useState<HTMLDivElement | null>(null);
  const [size, setSize] = useState({ w: 0, h: 0 });
  useEffect(() => {
    if (!box) return;
    const ro = new ResizeObserver(([e]) => setSize({ w: Math.floor(e!.contentRect.width), h: Math.floor(e!.contentRect.height) }));
    ro.observe(box);
    return () => ro.disconnect();
  }, [box]);
  const pad = { l: 56, r: 10, t: 18, b: 18 };
  const { x, y, lo, hi } = useMemo(() => {
    const vs = points.map((p) => p.v);
    const lo = Math.min(0, ...vs);
    const hi = Math.max(0, ...vs);
    return {
      lo,
      hi,
      x: scaleLinear({ domain: [0, Math.max(1, points.length - 1)], range: [pad.l, Math.max(pad.l + 1, size.w - pad.r)] }),
      y: scaleLinear({ domain: [lo, hi === lo ? lo + 1 : hi], range: [Math.max(pad.t + 1, size.h - pad.b), pad.t], nice: true }),
    };
  }, [points, size.w, size.h, pad.l, pad.r, pad.t, pad.b]);
  const last = points[points.length - 1];
  const up = (last?.v ?? 0) >= 0;
  const stroke = up ? "#4ade80" : "#f97316";
  return (
    <div ref={setBox} className="absolute inset-0" data-testid="pnl-chart" data-points={points.length} data-last={last?.v ?? ""}>
      <div className="absolute left-2 top-1 text-[9px] tracking-[0.25em] uppercase text-cyan-300/60 pointer-events-none">Cumulative PnL</div>
      {size.w > 0 && points.length > 1 ? (
        <svg width={size.w} height={size.h}>
          <LinearGradient id="pnl-fill" from={stroke} to={stroke} fromOpacity={0.35} toOpacity={0.02} />
          {[lo, 0, hi].map((v, k) => (
            <g key={k}>
              <line x1={pad.l} x2={size.w - pad.r} y1={y(v)} y2={y(v)} stroke={v === 0 ? "rgba(165,243,252,0.35)" : "rgba(165,243,252,0.12)"} strokeDasharray={v === 0 ? undefined : "3 4"} />
              <text x={pad.l - 6} y={y(v) + 3} textAnchor="end" className="num" fontSize={9} fill="rgba(165,243,252,0.6)">
                {fmtDollars(v)}
              </text>
            </g>
          ))}
          <AreaClosed data={points} x={(_p, k) => x(k)} y={(p) => y(p.v)} yScale={y} fill="url(#pnl-fill)" curve={curveLinear} />
          <g data-testid="pnl-line">
            <LinePath data={points} x={(_p, k) => x(k)} y={(p) => y(p.v)} stroke={stroke} strokeWidth={1.6} curve={curveLinear} />
          </g>
          <text x={pad.l} y={size.h - 4} fontSize={9} className="num" fill="rgba(165,243,252,0.5)">
            {points[0]!.date}
          </text>
          <text x={size.w - pad.r} y={size.h - 4} fontSize={9} textAnchor="end" className="num" fill="rgba(165,243,252,0.5)">
            {last!.date} · {fmtDollars(last!.v)}
          </text>
        </svg>
      ) : null}
    </div>
  );
}
