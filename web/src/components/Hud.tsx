"use client";
/**
 * The Reactor Core HUD: wires the runtime to the server (live stream or replay) and lays out the
 * presentational panels. All state logic lives in src/lib/.
 */
import dynamic from "next/dynamic";
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import { Api, defaultFetchJson, wsBase } from "@/lib/api";
import type { LiveStatus, ReactorStatus, RunSummary } from "@/lib/api-types";
import { FLEET_RUN_ID, FleetStream } from "@/lib/fleet";
import { fmtClock, fmtPct } from "@/lib/format";
import { MAX_LEVEL } from "@/lib/governor";
import { statusLabel } from "@/lib/labels";
import { runStatus } from "@/lib/reducer";
import { Replay } from "@/lib/replay";
import { HudRuntime } from "@/lib/runtime";
import { LiveStream, type SocketLike } from "@/lib/stream";
import AlertStrip from "./AlertStrip";
import CostPulse from "./CostPulse";
import ProtectionOverlay from "./ProtectionOverlay";
import Radar from "./Radar";
import Readouts, { ScopeLegend } from "./Readouts";
import { RuntimeContext, useHudVersion, useRuntime, useSmoothText } from "./runtime-context";
import YieldBlock from "./YieldBlock";

const ReactorScene = dynamic(() => import("./ReactorScene"), { ssr: false, loading: () => <Booting label="igniting core" /> });
const CandidateDetail = dynamic(() => import("./CandidateDetail"), { ssr: false });
const Constellation = dynamic(() => import("./Constellation"), { ssr: false, loading: () => <Booting label="mapping constellation" /> });

const LATEST = "__latest__";
/** "All live runs": the server's fleet view (GET /api/live/reactor_status, /api/stream/live). */
const FLEET = "__fleet__";
/** Side columns and the reactor's readout strip scale with the window (1024×640 … 2560×1440). */
const SIDE_LEFT = "clamp(232px, 23vw, 380px)";
const SIDE_RIGHT = "clamp(240px, 24vw, 420px)";
const STRIP = "clamp(176px, 34%, 200px)";

function Booting({ label }: { label: string }) {
  return <div className="absolute inset-0 grid place-items-center num text-[11px] text-cyan-300/50 tracking-[0.3em] uppercase blink">{label}…</div>;
}

function useSize<T extends HTMLElement>(): [React.RefObject<T | null>, { w: number; h: number }] {
  const ref = useRef<T>(null);
  const [size, setSize] = useState({ w: 0, h: 0 });
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(([e]) => {
      const r = e!.contentRect;
      setSize((s) => (Math.abs(s.w - r.width) < 1 && Math.abs(s.h - r.height) < 1 ? s : { w: Math.floor(r.width), h: Math.floor(r.height) }));
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, size];
}

declare global {
  interface Window {
    __hud?: Record<string, unknown>;
  }
}

function params(): URLSearchParams {
  return new URLSearchParams(typeof window === "undefined" ? "" : window.location.search);
}

export default function Hud() {
  const [rt] = useState(() => {
    const p = params();
    const q = p.get("quality");
    return new HudRuntime(q == null ? undefined : Math.min(MAX_LEVEL, Math.max(0, Number(q))), p.get("pin") === "1");
  });
  const [api] = useState(() => new Api(params().get("api") ?? ""));
  const [runs, setRuns] = useState<RunSummary[]>([]);
  const [selected, setSelected] = useState<string>(() => (params().get("fleet") === "1" ? FLEET : params().get("run") ?? LATEST));
  const [replayLoad, setReplayLoad] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  // frame loop: interpolation, particles, governor, test/bench hook
  useEffect(() => {
    let id = 0;
    const loop = (ts: number) => {
      rt.tick(ts);
      const hud = (window.__hud ??= {});
      hud.frames = rt.frames;
      hud.quality = rt.governor.level;
      hud.qualityDetail = rt.quality;
      hud.lastFrameMs = rt.lastFrameMs;
      if (rt.frames % 15 === 0) {
        hud.state = rt.debugState();
        hud.p95 = rt.frameTimePercentile(0.95);
        hud.p50 = rt.frameTimePercentile(0.5);
        hud.governorHistory = rt.governor.history;
      }
      id = requestAnimationFrame(loop);
    };
    id = requestAnimationFrame(loop);
    const hud = (window.__hud ??= {});
    hud.runtime = rt;
    hud.seek = (f: number) => rt.seekFraction(f);
    hud.snapshot = () => ({ ...rt.debugState(), frames: rt.frames, quality: rt.governor.level, p95: rt.frameTimePercentile(0.95) });
    return () => cancelAnimationFrame(id);
  }, [rt]);

  // run list
  const refreshRuns = useCallback(async () => {
    try {
      const list = await api.runs();
      setRuns(list);
      (window.__hud ??= {}).runs = list;
      setError(null);
    } catch (e) {
      setError(String((e as Error).message ?? e));
    }
  }, [api]);
  useEffect(() => {
    void refreshRuns();
    const id = setInterval(refreshRuns, 5000);
    return () => clearInterval(id);
  }, [refreshRuns]);

  // connect: follow latest / a running run live, or replay a finished run
  const selectedRun = runs.find((r) => r.run_id === selected);
  const wantReplay = selected !== LATEST && selected !== FLEET && (params().get("mode") === "replay" || (selectedRun ? selectedRun.status !== "running" : false));
  const runsKnown = runs.length > 0 || error != null;
  useEffect(() => {
    if (selected === FLEET) {
      rt.startLive(FLEET_RUN_ID);
      const fleet = new FleetStream({
        wsBase: wsBase(api.base, window.location),
        httpBase: api.base,
        socket: (url) => new WebSocket(url) as unknown as SocketLike,
        get: defaultFetchJson,
        // the server aggregates; the HUD shows its envelope like any run's (run_id "live")
        onStatus: (status) => rt.dispatch({ type: "status", status: status as unknown as ReactorStatus }),
        onState: (s) => rt.setConn(s),
      });
      fleet.start();
      (window.__hud ??= {}).fleet = fleet;
      return () => fleet.stop();
    }
    if (selected !== LATEST && selected !== FLEET && !runsKnown && params().get("mode") !== "replay") return; // wait to learn the run's status
    if (wantReplay) {
      let cancelled = false;
      setReplayLoad("loading events…");
      rt.setConn("idle");
      api
        .allEvents(selected, (n) => !cancelled && setReplayLoad(`loading events… ${n}`))
        .then((events) => {
          if (cancelled) return;
          rt.startReplay(new Replay(selected, events, (id, at) => api.statusAt(id, at)), true);
          setReplayLoad(null);
        })
        .catch((e) => !cancelled && setReplayLoad(`replay failed: ${(e as Error).message}`));
      return () => {
        cancelled = true;
      };
    }
    rt.startLive(selected === LATEST ? null : selected);
    const stream = new LiveStream({
      wsBase: wsBase(api.base, window.location),
      target: selected === LATEST ? { kind: "latest" } : { kind: "run", runId: selected },
      api,
      socket: (url) => new WebSocket(url) as unknown as SocketLike,
      onMessage: (m) => rt.message(m),
      onState: (s) => rt.setConn(s),
    });
    stream.start();
    (window.__hud ??= {}).stream = stream;
    return () => stream.stop();
  }, [selected, wantReplay, runsKnown, api, rt]);

  return (
    <RuntimeContext.Provider value={rt}>
      <HudLayout
        api={api}
        runs={runs}
        selected={selected}
        onSelect={(id) => {
          setSelected(id);
          const u = new URL(window.location.href);
          u.searchParams.delete("fleet");
          if (id === LATEST) u.searchParams.delete("run");
          else if (id === FLEET) {
            u.searchParams.delete("run");
            u.searchParams.set("fleet", "1");
          } else u.searchParams.set("run", id);
          u.searchParams.delete("mode");
          window.history.replaceState(null, "", u);
        }}
        replayLoad={replayLoad}
        error={error}
      />
    </RuntimeContext.Provider>
  );
}

function HudLayout({
  api,
  runs,
  selected,
  onSelect,
  replayLoad,
  error,
}: {
  api: Api;
  runs: RunSummary[];
  selected: string;
  onSelect: (id: string) => void;
  replayLoad: string | null;
  error: string | null;
}) {
  const rt = useRuntime();
  useHudVersion(rt);
  const [centerRef] = useSize<HTMLDivElement>();
  const [pulseRef, pulseSize] = useSize<HTMLDivElement>();
  const [constRef, constSize] = useSize<HTMLDivElement>();
  const [radarRef, radarSize] = useSize<HTMLDivElement>();
  const [showGraph, setShowGraph] = useState(false);
  useEffect(() => {
    // the constellation loads after the core is up, so it never delays first paint
    const id = setTimeout(() => setShowGraph(true), 1200);
    return () => clearTimeout(id);
  }, []);
  const [off] = useState(() => new Set((params().get("off") ?? "").split(",")));
  useEffect(() => {
    if (off.has("overlay")) document.body.classList.add("no-overlay");
    if (off.has("panels")) document.body.classList.add("no-panels");
  }, [off]);
  // candidate detail: opened from the constellation (a node or its "candidates" list)
  const [detailOpen, setDetailOpen] = useState(false);
  const [candidate, setCandidate] = useState<string | null>(null);
  const openCandidate = useCallback((id: string | null) => {
    setCandidate(id);
    setDetailOpen(true);
  }, []);
  const closeDetail = useCallback(() => setDetailOpen(false), []);
  const detailRun = selected === FLEET ? null : rt.state.runId;
  const r = rt.reactor;
  const state = r.core.state;
  const glitching = state === "critical" || state === "blocked" || rt.burst > 0;
  return (
    <div className="relative h-screen w-screen overflow-hidden flex flex-col p-2 gap-2 text-cyan-50" data-testid="hud">
      <TopBar runs={runs} selected={selected} onSelect={onSelect} error={error} />
      <div className="flex-1 min-h-0 grid gap-2" style={{ gridTemplateColumns: `${SIDE_LEFT} minmax(0,1fr) ${SIDE_RIGHT}` }}>
        <section data-panel="telemetry" className="panel p-3 min-h-0 overflow-hidden flex flex-col gap-2">
          <div className="panel-title">Telemetry</div>
          <Readouts yieldBlock={detailRun ? <YieldBlock key={detailRun} api={api} runId={detailRun} /> : undefined} />
        </section>
        <section ref={centerRef} className={`relative min-h-0 overflow-hidden ${glitching ? "dom-glitch" : ""}`} data-testid="reactor">
          {/* the core and its rings draw above the readout strip, so no figure sits on a ring */}
          <div className="absolute inset-x-0 top-0" style={{ bottom: STRIP }}>
            {off.has("scene") ? null : <ReactorScene rt={rt} />}
          </div>
          {/* scanlines: a composited layer over the animated canvas; under software compositing it
              costs ~5 ms a frame, so it is only drawn at the Bloom levels (a real GPU) */}
          {off.has("overlay") || !rt.quality.bloom ? null : <div className="scanlines" />}
          <div className="absolute left-3 top-2 pointer-events-none max-w-[55%] min-w-0" data-testid="gauge-title">
            <div className="panel-title truncate">Holographic token gauge</div>
            {selected === FLEET ? (
              <FleetRuns />
            ) : (
              <div className="num text-[10px] text-cyan-300/50 mt-1 truncate" title={rt.state.runId ?? ""}>
                {rt.state.runId ?? "waiting for a run"} · {rt.mode === "replay" ? "replay" : statusLabel(runStatus(rt.state))}
              </div>
            )}
            <AlertStrip />
          </div>
          <div
            className="@container absolute inset-x-0 bottom-0 px-3 pb-2 pt-1 flex items-end gap-3 pointer-events-none border-t border-cyan-400/10"
            style={{ height: STRIP, background: "linear-gradient(0deg, rgba(3,10,20,0.85), rgba(3,10,20,0.35))" }}
          >
            <div className="min-w-0 w-[min(230px,48%)] shrink-0">
              <ScopeLegend />
            </div>
            <CoreReadout />
            <LaneReadout />
          </div>
          <ProtectionOverlay />
          {replayLoad ? <Booting label={replayLoad} /> : null}
        </section>
        <section data-panel="radar" className="panel p-3 min-h-0 overflow-hidden flex flex-col gap-1">
          <div className="panel-title">Exploit / explore radar</div>
          <div ref={radarRef} className="flex-1 min-h-0">
            {radarSize.w > 0 && !off.has("radar") ? <Radar size={Math.min(radarSize.w, Math.max(200, radarSize.h - 112))} /> : null}
          </div>
        </section>
      </div>
      <div className="grid gap-2 shrink-0" style={{ height: "clamp(140px, 24vh, 260px)", gridTemplateColumns: `${SIDE_LEFT} minmax(0,1fr)` }}>
        <section data-panel="constellation" className="panel p-0 overflow-hidden relative">
          <div className="absolute left-3 top-2 z-10 panel-title pointer-events-none">Alpha constellation</div>
          {detailRun ? (
            <button
              type="button"
              data-testid="open-candidates"
              onClick={() => openCandidate(candidate)}
              className="absolute right-2 top-7 z-10 num text-[10px] tracking-[0.2em] uppercase px-2 border border-cyan-400/40 text-cyan-200 hover:bg-cyan-400/10"
            >
              candidates
            </button>
          ) : null}
          <div ref={constRef} className="absolute inset-0">
            {showGraph && !off.has("graph") && constSize.w > 0 ? <Constellation width={constSize.w} height={constSize.h} onPick={openCandidate} /> : null}
          </div>
        </section>
        <section data-panel="pulse" className="panel px-2 pt-1 pb-1 overflow-hidden flex flex-col">
          <div ref={pulseRef} className="flex-1 min-h-0">
            {pulseSize.w > 0 && !off.has("pulse") ? <CostPulse width={pulseSize.w} height={pulseSize.h} /> : null}
          </div>
          <ReplayBar />
        </section>
      </div>
      {detailOpen && detailRun ? (
        <CandidateDetail api={api} runId={detailRun} selected={candidate} onSelect={setCandidate} onClose={closeDetail} />
      ) : null}
    </div>
  );
}

/** The fleet view's members: each running run, who runs it (host:pid), its own pressure. */
function FleetRuns() {
  const rt = useRuntime();
  useHudVersion(rt);
  const fleet = rt.state.server as unknown as LiveStatus | null;
  const runs = fleet?.runs ?? [];
  return (
    <div className="num text-[10px] text-cyan-300/60 mt-1 min-w-0" data-testid="fleet-runs" data-count={runs.length}>
      <div className="truncate">
        all live runs · {runs.length} running{fleet ? "" : " · connecting"}
      </div>
      {runs.slice(0, 6).map((r) => (
        <div key={r.run_id} className="truncate" data-testid="fleet-run" title={`${r.run_id} · ${r.holder ?? "?"}`}>
          <span className="text-cyan-100/80">{r.holder ?? "?"}</span> · {r.run_id} · {fmtPct(r.pressure, 0)} · {r.tokens_per_s.toFixed(0)} tok/s
        </div>
      ))}
      {runs.length > 6 ? <div>+{runs.length - 6} more</div> : null}
    </div>
  );
}

function LaneReadout() {
  const rt = useRuntime();
  useHudVersion(rt);
  const r = rt.reactor;
  const v = useSmoothText<HTMLSpanElement>("velocity", (x) => x.toFixed(1));
  return (
    <div className="hidden @min-[640px]:flex w-[170px] shrink-0 text-right pointer-events-none flex-col gap-1" data-testid="flow-readout">
      <div className="panel-title text-[11px]">Energy flow</div>
      <div className="num text-[22px] leading-6 text-cyan-100 glow">
        <span ref={v} className="layer inline-block">0</span>
        <span className="text-[11px] text-cyan-300/60"> tok/s</span>
      </div>
      <div className="num text-[10px] text-cyan-200/60">
        {r.simulation.in_flight} sims in flight · {r.radar.scanning.length} scans
      </div>
      <div className="num text-[10px] text-cyan-200/60">
        {r.totals.fallbacks} fallbacks · {r.totals.blocked} blocked
      </div>
    </div>
  );
}

function CoreReadout() {
  const rt = useRuntime();
  useHudVersion(rt);
  const pct = useSmoothText<HTMLSpanElement>("pressure", (v) => fmtPct(v, 1));
  const state = rt.reactor.core.state;
  const hot = state !== "nominal";
  const color = state === "nominal" ? "text-cyan-100 glow" : state === "warning" ? "text-amber-200 glow" : "text-red-200 glow-red";
  return (
    <div className="flex-1 min-w-0 flex justify-center pointer-events-none layer">
    <div className="flex flex-col items-center" data-testid="core-readout">
      <div className="text-[10px] tracking-[0.35em] text-cyan-300/60 font-semibold whitespace-nowrap">BUDGET PRESSURE</div>
      <span ref={pct} data-testid="core-pressure" className={`num text-[clamp(26px,3.2vw,44px)] leading-[1.1] font-semibold ${color} ${state === "blocked" ? "dom-glitch-text" : ""}`}>
        0%
      </span>
      <div
        data-testid="core-state"
        data-state={state}
        className={`mt-1 px-3 py-[1px] text-[11px] font-bold tracking-[0.4em] border ${
          hot ? (state === "warning" ? "border-amber-400/70 text-amber-200" : "border-red-500/80 text-red-200 blink") : "border-cyan-400/40 text-cyan-200"
        }`}
      >
        CORE {state.toUpperCase()}
      </div>
    </div>
    </div>
  );
}

function TopBar({ runs, selected, onSelect, error }: { runs: RunSummary[]; selected: string; onSelect: (id: string) => void; error: string | null }) {
  const rt = useRuntime();
  useHudVersion(rt);
  const fpsRef = useRef<HTMLSpanElement>(null);
  const clockRef = useRef<HTMLSpanElement>(null);
  useEffect(
    () =>
      rt.onFrame((_dt, r) => {
        if (r.frames % 20 !== 0) return;
        const p50 = r.frameTimePercentile(0.5);
        if (fpsRef.current) fpsRef.current.textContent = p50 ? `${(1000 / p50).toFixed(0)} fps` : "— fps";
        const now = r.displayNow();
        if (clockRef.current && now) clockRef.current.textContent = fmtClock(now);
      }),
    [rt],
  );
  const conn = rt.mode === "replay" ? "replay" : rt.conn;
  const connColor = conn === "live" ? "bg-emerald-400" : conn === "replay" ? "bg-violet-400" : conn === "polling" ? "bg-amber-400" : "bg-red-400";
  const q = rt.quality;
  const fx = [q.bloom && "bloom", q.glitch && "glitch", q.multisampling ? `msaa${q.multisampling}` : null].filter(Boolean).join("+") || "lite";
  return (
    <header data-panel="top" className="panel h-[46px] shrink-0 flex items-center gap-4 px-4 min-w-0">
      <div className="flex items-baseline gap-2 shrink-0">
        <span data-testid="hud-title" className="text-[20px] font-bold tracking-[0.28em] text-cyan-100 glow whitespace-nowrap">REACTOR CORE</span>
        <span className="text-[11px] tracking-[0.3em] text-cyan-400/70 whitespace-nowrap hidden xl:inline">BRAIN ENERGY FLOW</span>
      </div>
      <div className="flex-1" />
      <label className="flex items-center gap-2 text-[11px] tracking-[0.2em] text-cyan-300/70 uppercase min-w-0 flex-1 max-w-[560px]">
        Run
        <select className="hud-select min-w-0 w-full truncate" data-testid="run-picker" value={selected} onChange={(e) => onSelect(e.target.value)}>
          <option value={LATEST}>◉ follow latest (live)</option>
          <option value={FLEET}>◎ all live runs (fleet)</option>
          {runs.map((r) => (
            <option key={r.run_id} value={r.run_id}>
              {r.run_id} · {r.kind === "estimate" ? "estimate · " : ""}{r.status}
              {r.started_at ? ` · ${fmtClock(r.started_at)}` : ""}
              {r.holder ? ` · ${r.holder}` : ""}
            </option>
          ))}
        </select>
      </label>
      <span className="flex items-center gap-2 text-[11px] tracking-[0.2em] uppercase shrink-0" data-testid="conn-state" data-conn={conn}>
        <i className={`inline-block w-2 h-2 rounded-full ${connColor} ${conn === "live" ? "blink" : ""}`} style={{ boxShadow: "0 0 8px currentColor" }} />
        {conn}
      </span>
      <span className="num text-[11px] text-cyan-200/70 layer whitespace-nowrap" title="adaptive quality level">
        Q{q.level} {fx} · <span ref={fpsRef}>— fps</span>
      </span>
      <span ref={clockRef} className="num text-[12px] text-cyan-100/80 w-[64px] text-right layer">
        --:--:--
      </span>
      {error ? <span className="text-[11px] text-red-300" title={error}>API offline</span> : null}
    </header>
  );
}

function ReplayBar() {
  const rt = useRuntime();
  useHudVersion(rt);
  const rep = rt.replay;
  const live = rt.mode === "live";
  const rangeRef = useRef<HTMLInputElement>(null);
  const timeRef = useRef<HTMLSpanElement>(null);
  const dragging = useRef(false);
  useEffect(
    () =>
      rt.onFrame((_dt, r) => {
        if (!r.replay || !rangeRef.current) return;
        const p = r.replay.progress;
        if (!dragging.current) rangeRef.current.value = String(Math.round(p * 1000));
        rangeRef.current.style.setProperty("--p", `${(p * 100).toFixed(2)}%`);
        if (timeRef.current) timeRef.current.textContent = `${(r.replay.t - r.replay.t0).toFixed(1)}s / ${r.replay.duration.toFixed(1)}s`;
      }),
    [rt],
  );
  if (live || !rep) {
    return (
      <div className="h-[26px] flex items-center gap-3 text-[11px] tracking-[0.2em] uppercase text-cyan-300/60 border-t border-cyan-400/15 layer">
        <span className="text-emerald-300">● live</span>
        <span className="num normal-case tracking-normal">
          {rt.state.runId === FLEET_RUN_ID
            ? `all live runs · cursor ${rt.state.server?.cursor ?? 0} · ${(rt.state.server as unknown as LiveStatus | null)?.runs.length ?? 0} running`
            : `cursor ${rt.state.cursor} · ${rt.state.liveEvents} live events`}{" "}
          · {rt.particles.count} particles in flight
        </span>
      </div>
    );
  }
  return (
    <div className="h-[26px] flex items-center gap-3 border-t border-cyan-400/15 layer" data-testid="replay-bar">
      <button className="hud-btn" data-testid="replay-play" onClick={() => rt.setPlaying(!rt.playing)}>
        {rt.playing ? "❚❚ pause" : "▶ play"}
      </button>
      <select className="hud-select" value={rt.speed} onChange={(e) => rt.setSpeed(Number(e.target.value))} data-testid="replay-speed">
        {[1, 4, 8, 16, 64].map((s) => (
          <option key={s} value={s}>
            {s}×
          </option>
        ))}
      </select>
      <input
        ref={rangeRef}
        type="range"
        min={0}
        max={1000}
        defaultValue={0}
        className="scrubber flex-1"
        data-testid="replay-scrubber"
        onPointerDown={() => {
          dragging.current = true;
          rt.setPlaying(false);
        }}
        onPointerUp={() => (dragging.current = false)}
        onInput={(e) => rt.seekFraction(Number((e.target as HTMLInputElement).value) / 1000)}
      />
      <span ref={timeRef} className="num text-[11px] text-cyan-200/80 w-[120px] text-right" data-testid="replay-time">
        0s
      </span>
      <span className="num text-[10px] text-violet-300/80">{rep.events.length} events</span>
    </div>
  );
}
