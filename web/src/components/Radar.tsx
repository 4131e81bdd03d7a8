"use client";
/**
 * Exploit/Explore Radar: two lane sectors sized by the lane shares, a rotating scanner, a blip
 * per subcategory of each idea in flight (it flares as the beam passes), and typed feedback.
 */
import { useEffect, useMemo, useRef, useState } from "react";
import { placeBlips, placeLabels, type Blip } from "@/lib/radar";
import { fmtPct } from "@/lib/format";
import { useHudFrame, useHudVersion, useRuntime } from "./runtime-context";

const SWEEP_DEG_PER_S = 72;
const OFF = new Set(typeof window === "undefined" ? [] : (new URLSearchParams(window.location.search).get("off") ?? "").split(","));

function polar(cx: number, cy: number, r: number, deg: number): [number, number] {
  const a = ((deg - 90) * Math.PI) / 180;
  return [cx + r * Math.cos(a), cy + r * Math.sin(a)];
}

function wedge(cx: number, cy: number, r0: number, r1: number, a0: number, a1: number): string {
  const large = a1 - a0 > 180 ? 1 : 0;
  const [x0, y0] = polar(cx, cy, r1, a0);
  const [x1, y1] = polar(cx, cy, r1, a1);
  const [x2, y2] = polar(cx, cy, r0, a1);
  const [x3, y3] = polar(cx, cy, r0, a0);
  return `M${x0},${y0} A${r1},${r1} 0 ${large} 1 ${x1},${y1} L${x2},${y2} A${r0},${r0} 0 ${large} 0 ${x3},${y3} Z`;
}


let measureCtx: CanvasRenderingContext2D | null = null;
let fontsHooked = false;
/** Width of a radar label in px, measured with the label's own font. */
function measureLabel(text: string): number {
  if (typeof document === "undefined") return text.length * 6.6;
  if (!measureCtx) {
    measureCtx = document.createElement("canvas").getContext("2d");
    if (!fontsHooked) {
      fontsHooked = true;
      void document.fonts?.ready.then(() => {
        measureCtx = null; // measure again with the web font once it has loaded
      });
    }
    if (measureCtx) measureCtx.font = `600 11px ${getComputedStyle(document.body).fontFamily}`;
  }
  return measureCtx ? measureCtx.measureText(text).width : text.length * 6.6;
}

function TypedLine({ text }: { text: string }) {
  const [n, setN] = useState(0);
  useEffect(() => {
    setN(0);
    const id = setInterval(() => setN((k) => (k >= text.length ? k : k + 1)), 16);
    return () => clearInterval(id);
  }, [text]);
  return (
    <span className={n < text.length ? "caret" : ""} data-full={text}>
      {text.slice(0, n)}
    </span>
  );
}

export default function Radar({ size }: { size: number }) {
  const rt = useRuntime();
  useHudVersion(rt);
  const r = rt.reactor;
  const R = size / 2 - 18;
  const c = size / 2;
  const sweep = useRef<HTMLDivElement>(null);
  const blipRefs = useRef(new Map<string, HTMLDivElement>());
  const angleRef = useRef(0);
  // until a few thousand tokens have flowed the actual split is noise: show the target split
  const laneTokens = r.lanes.exploit.tokens + r.lanes.explore.tokens;
  const exploitShare = (laneTokens >= 3000 ? r.lanes.exploit.actual_share : r.lanes.exploit.target_share) || 0.7;
  const exploitSpan = 360 * Math.min(0.95, Math.max(0.05, exploitShare));
  const blips = useMemo(() => placeBlips(r.radar.scanning, exploitShare, R), [r.radar.scanning, exploitShare, R]);
  const labels = useMemo(() => {
    const out = placeLabels(blips, size, (b) => polar(c, c, b.radius, b.angle), measureLabel);
    return new Map(out.map((l) => [l.key, l]));
  }, [blips, size, c]);
  const blipAngles = useRef<Blip[]>(blips);
  blipAngles.current = blips;

  // Only transform/opacity change per frame, on their own compositor layers: no repaint (cheap
  // even under software rendering, where an SVG repaint per frame cost ~300 ms).
  useHudFrame((dt) => {
    angleRef.current = (angleRef.current + dt * SWEEP_DEG_PER_S) % 360;
    if (sweep.current) sweep.current.style.transform = `rotate(${angleRef.current.toFixed(2)}deg)`;
    for (const b of blipAngles.current) {
      const el = blipRefs.current.get(b.key);
      if (!el) continue;
      const behind = (angleRef.current - b.angle + 360) % 360; // degrees since the beam passed
      el.style.opacity = Math.max(0.35, 1 - behind / 300).toFixed(3);
      // labels are revealed by the beam and fade out behind it, so a busy radar stays legible
      const label = el.querySelector<HTMLElement>('[data-testid="radar-label"]');
      if (label) label.style.opacity = (blipAngles.current.length <= 6 ? 1 : Math.max(0, 1 - behind / 75)).toFixed(3);
    }
  });

  const feed = r.radar.feed.slice(-6);
  return (
    <div className="flex flex-col gap-2" data-testid="radar">
      <div className="relative mx-auto" style={{ width: size, height: size }}>
      <svg width={size} height={size} className="block absolute inset-0 layer" aria-label="Exploit/explore radar">
        <defs>
          <radialGradient id="radar-bg">
            <stop offset="0%" stopColor="#0b3a4f" stopOpacity={0.55} />
            <stop offset="100%" stopColor="#020a12" stopOpacity={0.2} />
          </radialGradient>
        </defs>
        <circle cx={c} cy={c} r={R} fill="url(#radar-bg)" stroke="rgba(34,211,238,0.5)" />
        {/* lane sectors */}
        <path d={wedge(c, c, R * 0.12, R, 0, exploitSpan)} fill="rgba(34,211,238,0.10)" stroke="rgba(34,211,238,0.45)" />
        <path d={wedge(c, c, R * 0.12, R, exploitSpan, 360)} fill="rgba(167,139,250,0.12)" stroke="rgba(167,139,250,0.5)" />
        {/* target share marker */}
        {(() => {
          const [tx, ty] = polar(c, c, R + 8, 360 * r.lanes.exploit.target_share);
          return <circle cx={tx} cy={ty} r={3} fill="#fbbf24" />;
        })()}
        {[0.25, 0.5, 0.75].map((f) => (
          <circle key={f} cx={c} cy={c} r={R * f} fill="none" stroke="rgba(34,211,238,0.16)" strokeDasharray="2 3" />
        ))}
        {Array.from({ length: 36 }, (_, i) => {
          const [x0, y0] = polar(c, c, R, i * 10);
          const [x1, y1] = polar(c, c, R - (i % 3 === 0 ? 8 : 4), i * 10);
          return <line key={i} x1={x0} y1={y0} x2={x1} y2={y1} stroke="rgba(165,243,252,0.5)" />;
        })}
        <line x1={c - R} x2={c + R} y1={c} y2={c} stroke="rgba(34,211,238,0.12)" />
        <line x1={c} x2={c} y1={c - R} y2={c + R} stroke="rgba(34,211,238,0.12)" />
        <circle cx={c} cy={c} r={3} fill="#a5f3fc" />
        <text x={8} y={16} fill="#67e8f9" fontSize={11} fontWeight={700} letterSpacing="0.15em">
          EXPLOIT {fmtPct(r.lanes.exploit.actual_share)}
        </text>
        <text x={size - 8} y={16} textAnchor="end" fill="#c4b5fd" fontSize={11} fontWeight={700} letterSpacing="0.15em">
          EXPLORE {fmtPct(r.lanes.explore.actual_share)}
        </text>
        <text x={8} y={size - 6} fill="rgba(165,243,252,0.55)" fontSize={10} className="num">
          target {fmtPct(r.lanes.exploit.target_share)}/{fmtPct(r.lanes.explore.target_share)}
        </text>
        <text x={size - 8} y={size - 6} textAnchor="end" fill="rgba(165,243,252,0.55)" fontSize={10} className="num">
          {blips.length} in flight
        </text>
      </svg>
      {/* the rotating beam sits in a round clip, so its turning square never spills out of the panel */}
      <div className="absolute pointer-events-none overflow-hidden rounded-full" style={{ left: c - R, top: c - R, width: 2 * R, height: 2 * R }}>
      <div
        ref={sweep}
        data-off={OFF.has("sweep") ? "1" : undefined}
        className="absolute inset-0 pointer-events-none"
        style={{
          borderRadius: "50%",
          background: "conic-gradient(from 0deg, rgba(63,240,255,0) 0deg, rgba(63,240,255,0) 300deg, rgba(63,240,255,0.08) 330deg, rgba(63,240,255,0.32) 359deg, rgba(200,250,255,0.9) 360deg)",
          willChange: "transform",
        }}
      />
      </div>
      {blips.filter(() => !OFF.has("blips")).map((b) => {
        const [x, y] = polar(c, c, b.radius, b.angle);
        const col = b.lane === "explore" ? "#c4b5fd" : "#67e8f9";
        const label = labels.get(b.key);
        return (
          <div
            key={b.key}
            ref={(el) => {
              if (el) blipRefs.current.set(b.key, el);
              else blipRefs.current.delete(b.key);
            }}
            data-testid="radar-blip"
            data-subcategory={b.subcategory}
            data-sector={b.sector}
            data-lane={b.lane ?? ""}
            className="absolute pointer-events-none"
            title={`S${b.sector} · ${b.name}`}
            style={{ left: x, top: y, willChange: "opacity" }}
          >
            <span
              className="absolute rounded-full"
              style={{ left: -4, top: -4, width: 8, height: 8, background: col, boxShadow: `0 0 6px 2px ${col}` }}
            />
            <span className="absolute rounded-full" style={{ left: -9, top: -9, width: 18, height: 18, border: `1px solid ${col}`, opacity: 0.5 }} />
            {label ? (
              <span
                data-testid="radar-label"
                title={label.full}
                className="absolute whitespace-nowrap text-[11px] leading-[14px] font-semibold"
                style={{ color: col, left: label.dx, top: label.dy - 7, width: label.w, willChange: "opacity", textShadow: "0 0 4px #02060d, 0 0 2px #02060d" }}
              >
                {label.text}
              </span>
            ) : null}
          </div>
        );
      })}
      </div>
      <div className="num text-[11px] leading-[17px] px-1 h-[104px] overflow-hidden layer" data-testid="radar-feed">
        {feed.map((line, i) => (
          <div
            key={`${feed.length - i}:${line}`}
            className={i === feed.length - 1 ? "text-cyan-200" : "text-cyan-200/45"}
            style={{ whiteSpace: "nowrap", textOverflow: "ellipsis", overflow: "hidden" }}
          >
            <span className="text-cyan-500/70">&gt; </span>
            {i === feed.length - 1 ? <TypedLine text={line} /> : line}
          </div>
        ))}
      </div>
    </div>
  );
}
