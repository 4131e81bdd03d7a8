/**
 * The HUD runtime: owns the display state (live reducer or replay), the per-frame interpolation,
 * the particle field and the quality governor, and ticks them once per animation frame.
 * Components read from it; they never hold state logic. Framework-free (no React, no three).
 */
import type { Reactor, ReactorStatus, StreamMessage } from "./api-types";
import { QualityGovernor, START_LEVEL, type Quality } from "./governor";
import { ServerClock, Smoother } from "./interpolate";
import { ParticleField } from "./particles";
import { currentReactor, initialState, newInjections, reduce, runStatus, type HudAction, type HudState } from "./reducer";
import type { Replay } from "./replay";
import type { ConnState } from "./stream";

export type Mode = "live" | "replay";
export type FrameListener = (dt: number, rt: HudRuntime) => void;

export const PARTICLE_CAPACITY = 2400;
const NOTIFY_MS = 80; // React re-renders at most ~12/s; motion is per-frame via refs

export class HudRuntime {
  mode: Mode = "live";
  live: HudState = initialState();
  replay: Replay | null = null;
  playing = false;
  speed = 8;
  conn: ConnState = "idle";
  readonly smooth = new Smoother(0.35);
  readonly clock = new ServerClock();
  readonly governor: QualityGovernor;
  readonly particles = new ParticleField(PARTICLE_CAPACITY);
  reactor: Reactor;
  frames = 0;
  lastFrameMs = 0;
  /** Seconds since start (local, monotonic). */
  time = 0;
  /** Short glitch burst timer (s), set on a block. */
  burst = 0;
  /** Absorption flash (0..1) when particles hit the core. */
  flash = 0;
  private lastInjectionId = 0;
  private lastBlockSeq = 0;
  private readonly frameTimes = new Float32Array(600);
  private frameIdx = 0;
  private lastT: number | null = null;
  private version = 0;
  private notified = -1;
  private lastNotify = 0;
  private readonly listeners = new Set<() => void>();
  private readonly frameListeners = new Set<FrameListener>();

  /** `pinned`: hold the quality level fixed (benchmarks, screenshots of a given level). */
  constructor(startLevel?: number, pinned = false) {
    this.governor =
      pinned && startLevel != null
        ? new QualityGovernor(startLevel, undefined, startLevel, startLevel)
        : new QualityGovernor(startLevel ?? START_LEVEL);
    this.reactor = currentReactor(this.live);
    this.retarget(true);
  }

  // --- state in -----------------------------------------------------------------------------

  get state(): HudState {
    return this.mode === "replay" && this.replay ? this.replay.state : this.live;
  }

  dispatch(action: HudAction): void {
    const before = this.live.runId;
    this.live = reduce(this.live, action);
    if (this.mode !== "live") return;
    const switched = this.live.runId !== before;
    const status: ReactorStatus | null = this.live.server;
    if (status?.as_of) this.clock.observe(status.as_of, this.time);
    else if (this.live.lastTs) this.clock.observe(this.live.lastTs, this.time);
    this.refresh(switched);
  }

  message(msg: StreamMessage): void {
    if (msg.type === "run") {
      this.dispatch({ type: "reset", runId: msg.run_id });
      return;
    }
    this.dispatch({ type: "message", msg });
  }

  setConn(c: ConnState): void {
    this.conn = c;
    this.bump();
  }

  startLive(runId: string | null): void {
    this.mode = "live";
    this.replay = null;
    this.playing = false;
    this.live = initialState(runId);
    this.clock.reset();
    this.refresh(true);
  }

  startReplay(replay: Replay, play = true): void {
    this.mode = "replay";
    this.replay = replay;
    this.playing = play;
    replay.onChange = (snap) => {
      if (this.replay === replay) this.refresh(snap);
    };
    replay.seek(replay.t0);
    this.refresh(true);
  }

  seekFraction(f: number): void {
    if (!this.replay) return;
    this.replay.seekFraction(f);
    this.bump();
  }

  setPlaying(p: boolean): void {
    if (this.replay && p && this.replay.progress >= 1) this.replay.seek(this.replay.t0);
    this.playing = p;
    this.bump();
  }

  setSpeed(s: number): void {
    this.speed = s;
    this.bump();
  }

  /** The server-clock time the display is at. */
  displayNow(): number {
    if (this.mode === "replay" && this.replay) return this.replay.t;
    return this.clock.now(this.time) ?? this.state.lastTs;
  }

  private refresh(snap: boolean): void {
    const st = this.state;
    this.reactor = currentReactor(st);
    if (snap) {
      this.particles.clear();
      this.lastInjectionId = this.reactor.injections.reduce((m, i) => Math.max(m, i.event_id), 0);
      this.lastBlockSeq = st.blockSeq;
    } else {
      const { fresh, lastId } = newInjections(this.reactor, this.lastInjectionId);
      this.lastInjectionId = lastId;
      for (const inj of fresh.slice(-12)) this.particles.inject(inj.tokens, inj.lane, this.quality.particles);
      if (st.blockSeq !== this.lastBlockSeq) {
        this.lastBlockSeq = st.blockSeq;
        this.burst = 1.6;
      }
    }
    this.retarget(snap);
    this.bump();
  }

  private retarget(snap: boolean): void {
    const r = this.reactor;
    const s = this.smooth;
    s.set("pressure", r.pressure, 0.5);
    s.set("heat", r.core.heat, 0.6);
    for (const ring of r.rings) s.set(`ring:${ring.scope}`, ring.pressure, 0.5);
    s.set("velocity", r.velocity.tokens_per_s, 0.8);
    s.set("tte", r.time_to_exhaustion_s ?? -1, 0.8);
    s.set("exploitShare", r.lanes.exploit.actual_share || r.lanes.exploit.target_share, 0.8);
    s.set("exploitTarget", r.lanes.exploit.target_share, 0.8);
    s.set("tokens", r.totals.total_tokens, 0.45);
    s.set("promptTokens", r.totals.prompt_tokens, 0.45);
    s.set("completionTokens", r.totals.completion_tokens, 0.45);
    s.set("cost", Number(r.totals.cost), 0.45);
    s.set("calls", r.totals.calls, 0.3);
    s.set("fallbacks", r.totals.fallbacks, 0.25);
    s.set("blocked", r.totals.blocked, 0.25);
    s.set("deferred", r.totals.deferred, 0.25);
    s.set("cacheHits", r.totals.cache_hits, 0.25);
    s.set("tokensSaved", r.totals.tokens_saved, 0.45);
    s.set("coverage", r.kpi.coverage, 0.4);
    s.set("coverageShare", r.kpi.coverage_share, 0.5);
    s.set("novelty", r.kpi.novelty, 0.5);
    s.set("simDone", r.simulation.done, 0.25);
    s.set("simPassed", r.simulation.passed, 0.25);
    s.set("simFailed", r.simulation.failed, 0.25);
    s.set("simInFlight", r.simulation.in_flight, 0.25);
    s.set("bestSharpe", r.simulation.best?.sharpe ?? 0, 0.5);
    if (snap) s.snap();
  }

  // --- frames -------------------------------------------------------------------------------

  get quality(): Quality {
    return this.governor.quality;
  }

  /** Call once per animation frame with the rAF timestamp (ms). */
  tick(nowMs: number): void {
    const t = nowMs / 1000;
    const dt = this.lastT == null ? 1 / 60 : Math.max(0, t - this.lastT);
    this.lastT = t;
    this.time = t;
    this.frames++;
    if (this.frames > 1) {
      this.lastFrameMs = dt * 1000;
      this.frameTimes[this.frameIdx++ % this.frameTimes.length] = this.lastFrameMs;
      if (this.governor.sample(this.lastFrameMs, t)) this.bump();
    }
    if (this.mode === "replay" && this.replay && this.playing) {
      const before = this.replay.t;
      this.replay.seek(before + Math.min(dt, 0.25) * this.speed); // the server's answer refreshes
      if (this.replay.progress >= 1) this.playing = false;
      this.bump();
    }
    this.smooth.step(dt);
    this.clock.step(dt);
    this.particles.step(dt, this.smooth.get("heat"));
    this.flash = Math.max(0, this.flash - dt * 2.5) + Math.min(0.6, this.particles.absorbed * 0.02);
    this.burst = Math.max(0, this.burst - dt);
    for (const f of this.frameListeners) f(dt, this);
    if (this.version !== this.notified && nowMs - this.lastNotify >= NOTIFY_MS) {
      this.notified = this.version;
      this.lastNotify = nowMs;
      for (const l of this.listeners) l();
    }
  }

  onFrame(f: FrameListener): () => void {
    this.frameListeners.add(f);
    return () => this.frameListeners.delete(f);
  }

  /** Frame-time percentile over the last ≤ 600 frames (ms). */
  frameTimePercentile(q: number): number {
    const n = Math.min(this.frameIdx, this.frameTimes.length);
    if (!n) return 0;
    const a = Array.from(this.frameTimes.subarray(0, n)).sort((x, y) => x - y);
    return a[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]!;
  }

  // --- React subscription -------------------------------------------------------------------

  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  getVersion = (): number => this.notified;

  private bump(): void {
    this.version++;
  }

  /** A compact, serialisable picture for tests and benchmarks (window.__hud.state). */
  debugState(): Record<string, unknown> {
    const r = this.reactor;
    const st = this.state;
    return {
      mode: this.mode,
      conn: this.conn,
      runId: st.runId,
      status: runStatus(st),
      cursor: st.cursor,
      version: this.version,
      pressure: r.pressure,
      coreState: r.core.state,
      protectionMode: r.protection_mode,
      protectionSeq: st.protectionSeq,
      totals: r.totals,
      scanning: r.radar.scanning.map((s) => s.subcategory),
      particles: this.particles.count,
      particlesSpawned: this.particles.totalSpawned,
      graphNodes: st.graph.size,
      replay: this.replay
        ? { t: this.replay.t, t0: this.replay.t0, t1: this.replay.t1, applied: this.replay.applied, at: this.replay.at, shownAt: this.replay.shownAt, playing: this.playing }
        : null,
    };
  }
}
