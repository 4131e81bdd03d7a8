"use client";
/**
 * Cost Pulse Line: an ECG trace whose beats are LLM calls and whose spikes are their costs. The
 * path is built (visx) when the data changes; per frame only a translate scrolls it, so motion is
 * continuous at 60 fps without re-rendering.
 */
import { curveLinear } from "@visx/curve";
import { LinearGradient } from "@visx/gradient";
import { scaleLinear } from "@visx/scale";
import { LinePath } from "@visx/shape";
import { useMemo, useRef, useState } from "react";
import type { PulsePoint } from "@/lib/api-types";
import { fmtUsd } from "@/lib/format";
import { useHudFrame, useHudVersion, useRuntime } from "./runtime-context";

const WINDOW_S = 90;
const PX_PER_S = 10;

interface Pt {
  t: number;
  v: number;
}

/** One heartbeat per call: P wave, QRS complex (height ∝ cost), T wave. */
export function ecgPoints(pulse: readonly PulsePoint[], maxCost: number): Pt[] {
  const pts: Pt[] = [];
  const sorted = [...pulse].sort((a, b) => a.ts - b.ts);
  let prevEnd = -Infinity;
  for (const p of sorted) {
    const c = Number(p.cost);
    const h = 0.18 + 0.82 * Math.sqrt(Math.max(0, c) / (maxCost || 1)) * (p.spike ? 1 : 0.85);
    const t = Math.max(p.ts, prevEnd + 0.2);
    pts.push(
      { t: t - 1.2, v: 0 },
      { t: t - 0.9, v: 0.06 },
      { t: t - 0.7, v: 0 },
      { t: t - 0.25, v: -0.08 },
      { t: t, v: h },
      { t: t + 0.25, v: -0.22 * h },
      { t: t + 0.45, v: 0 },
      { t: t + 0.9, v: 0.1 },
      { t: t + 1.3, v: 0 },
    );
    prevEnd = t + 1.3;
  }
  return pts;
}

const AHEAD_S = 60; // the trace layer extends this far past its anchor before it is rebuilt

export default function CostPulse({ width, height }: { width: number; height: number }) {
  const rt = useRuntime();
  useHudVersion(rt);
  const pulse = rt.reactor.pulse;
  const protection = rt.reactor.protection_mode;
  const layer = useRef<HTMLDivElement>(null);
  const [idleAnchor, setIdleAnchor] = useState(0);
  const lastTs = pulse.length ? pulse[pulse.length - 1]!.ts : 0;
  const anchor = Math.max(lastTs, idleAnchor) || rt.displayNow() || 0;
  const maxCost = useMemo(() => pulse.reduce((m, p) => Math.max(m, Number(p.cost)), 0), [pulse]);
  const t0 = anchor - WINDOW_S - 20;
  const layerW = (anchor + AHEAD_S - t0) * PX_PER_S;
  const pts = useMemo(() => {
    const body = ecgPoints(pulse, maxCost).filter((p) => p.t >= t0 - 2);
    return [{ t: t0 - 2, v: 0 }, ...body, { t: anchor + AHEAD_S, v: 0 }];
  }, [pulse, maxCost, anchor, t0]);
  const padTop = 22;
  const y = scaleLinear({ domain: [-0.3, 1.3], range: [height - 8, padTop] });
  const headX = width - 36;
  const x = (t: number) => (t - t0) * PX_PER_S;

  // Per frame only the layer's transform changes (compositor-only: no repaint of the trace).
  useHudFrame((_dt, r) => {
    const now = r.displayNow();
    if (!layer.current || !now) return;
    layer.current.style.transform = `translate3d(${(headX - (now - t0) * PX_PER_S).toFixed(1)}px,0,0)`;
    if (now > anchor + AHEAD_S - 5) setIdleAnchor(now);
  });

  const core = rt.reactor.core.state;
  const stroke = core === "blocked" || core === "critical" ? "#ff4d3d" : protection ? "#fbbf24" : "#3ff0ff";
  const spikes = pulse.filter((p) => p.spike && p.ts >= t0).slice(-6);
  return (
    <div className="relative overflow-hidden" style={{ width, height }} data-testid="cost-pulse">
      <svg width={width} height={height} className="absolute inset-0 layer">
        {Array.from({ length: Math.ceil(width / 24) }, (_, i) => (
          <line key={`v${i}`} x1={i * 24} x2={i * 24} y1={padTop} y2={height} stroke="rgba(34,211,238,0.07)" />
        ))}
        {[0.25, 0.5, 0.75].map((f) => (
          <line key={f} x1={0} x2={width} y1={padTop + (height - padTop) * f} y2={padTop + (height - padTop) * f} stroke="rgba(34,211,238,0.07)" />
        ))}
        <line x1={0} x2={headX} y1={y(0)} y2={y(0)} stroke="rgba(63,240,255,0.18)" strokeDasharray="2 4" />
      </svg>
      <div className="absolute top-0 bottom-0 left-0 overflow-hidden" style={{ width: headX }}>
        <div ref={layer} className="absolute top-0 left-0" style={{ width: layerW, height, willChange: "transform" }}>
          <svg width={layerW} height={height} className="block">
            <LinearGradient id="pulse-fill" from={stroke} to={stroke} fromOpacity={0.18} toOpacity={0} />
            <LinePath<Pt> data={pts} x={(d) => x(d.t)} y={(d) => y(d.v)} curve={curveLinear} stroke={stroke} strokeOpacity={0.25} strokeWidth={6} strokeLinejoin="round" />
            <LinePath<Pt> data={pts} x={(d) => x(d.t)} y={(d) => y(d.v)} curve={curveLinear} stroke={stroke} strokeWidth={1.6} strokeLinejoin="round" />
            {spikes.map((p) => (
              <g key={p.event_id} transform={`translate(${x(p.ts)},${y(1.0)})`}>
                <circle r={3} fill="#ff4d3d" />
                <text x={6} y={-4} fill="#ffb4a8" fontSize={10} className="num">
                  {fmtUsd(Number(p.cost))}
                </text>
              </g>
            ))}
          </svg>
        </div>
      </div>
      <div className="absolute inset-y-0 left-0 pointer-events-none" style={{ width: width * 0.2, background: "linear-gradient(90deg, rgba(5,16,29,1), rgba(5,16,29,0))" }} />
      <span
        className="absolute rounded-full blink"
        style={{ left: headX - 4, top: y(0) - 4, width: 8, height: 8, background: stroke, boxShadow: `0 0 10px 2px ${stroke}`, willChange: "opacity" }}
      />
      <div className="absolute left-2 top-[3px] panel-title text-[11px]">
        Cost pulse · {pulse.length} calls · peak {fmtUsd(maxCost)}
      </div>
      <div className="absolute right-2 top-[3px] num text-[10px] text-cyan-200/60">{WINDOW_S}s window</div>
    </div>
  );
}
