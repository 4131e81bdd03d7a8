/**
 * Adaptive quality governor. Frame times go in; a quality level comes out. Effects are shed in
 * the order they cost under software GL: multisampling → glitch → bloom (the whole
 * EffectComposer) → particle count → device pixel ratio; and restored in reverse when frames are
 * cheap again. Pure: the caller passes frame times and the clock, so tests are deterministic.
 */

export interface Quality {
  level: number;
  multisampling: number;
  glitch: boolean;
  bloom: boolean;
  particles: number; // fraction of the particle budget
  dpr: number; // upper bound on device pixel ratio
}

export const LEVELS: readonly Quality[] = [
  { level: 0, multisampling: 0, glitch: false, bloom: false, particles: 0.3, dpr: 0.6 },
  { level: 1, multisampling: 0, glitch: false, bloom: false, particles: 0.3, dpr: 1 },
  { level: 2, multisampling: 0, glitch: false, bloom: false, particles: 0.6, dpr: 1.5 },
  { level: 3, multisampling: 0, glitch: false, bloom: false, particles: 1, dpr: 1.5 },
  { level: 4, multisampling: 0, glitch: false, bloom: true, particles: 1, dpr: 1.5 },
  { level: 5, multisampling: 0, glitch: true, bloom: true, particles: 1, dpr: 1.5 },
  { level: 6, multisampling: 4, glitch: true, bloom: true, particles: 1, dpr: 1.5 },
];
export const MAX_LEVEL = LEVELS.length - 1;
/** The best level without the EffectComposer. */
export const TOP_PLAIN_LEVEL = Math.max(...LEVELS.filter((l) => !l.bloom).map((l) => l.level));
/** Start without the EffectComposer: under software GL the first frames would otherwise take
 * ~250 ms each; a real GPU climbs to MAX_LEVEL within a few seconds. */
export const START_LEVEL = 3;

export interface GovernorOptions {
  /** Step down when the mean frame time of the window exceeds this (ms). */
  slowMs: number;
  /** Step up only when the mean frame time stays below this (ms). */
  fastMs: number;
  /** Frames per decision window (a window also closes after `windowMs` of frame time). */
  window: number;
  windowMs: number;
  /** Seconds a level must stay fast before trying the next level up. */
  upAfterS: number;
  /** Seconds to wait after any change before judging again (shader compiles, warm-up). */
  settleS: number;
  /** Seconds ignored at start (first load, shader compiles, lazy chunks). */
  warmupS: number;
  /** A level that proved too slow is not retried for this long (s), doubling each time. */
  retryBackoffS: number;
  /** A step down must cut the mean frame time by this fraction, else it is undone… */
  minGain: number;
  /** …and no step below that level is tried for this long (s): shedding effects that do not
   * cost anything only makes the HUD look worse (e.g. when the compositor is the bottleneck). */
  noGainHoldS: number;
}

export const DEFAULT_GOVERNOR: GovernorOptions = {
  slowMs: 1000 / 45,
  fastMs: 1000 / 56,
  window: 20,
  windowMs: 800,
  upAfterS: 1.5,
  settleS: 0.6,
  warmupS: 2,
  retryBackoffS: 8,
  minGain: 0.12,
  noGainHoldS: 30,
};

export class QualityGovernor {
  level: number;
  private samples: number[] = [];
  private windowSum = 0;
  private changedAt = 0;
  private fastSince: number | null = null;
  private readonly banned = new Map<number, { until: number; backoff: number }>();
  private startedAt: number | null = null;
  private dropCheck: { from: number; meanBefore: number } | null = null;
  private floor: { level: number; until: number } | null = null;
  readonly history: { t: number; level: number; meanMs: number }[] = [];

  constructor(
    start = MAX_LEVEL,
    private readonly opts: GovernorOptions = DEFAULT_GOVERNOR,
    private readonly minLevel = 0,
    private readonly maxLevel = MAX_LEVEL,
  ) {
    this.level = Math.min(Math.max(start, minLevel), maxLevel);
  }

  get quality(): Quality {
    return LEVELS[this.level]!;
  }

  /** Feed one frame's duration (ms) at time `nowS`. Returns true when the level changed. */
  sample(frameMs: number, nowS: number): boolean {
    if (!(frameMs > 0) || frameMs > 2000) return false; // tab was hidden; ignore
    this.startedAt ??= nowS;
    if (nowS - this.startedAt < this.opts.warmupS) return false;
    if (nowS - this.changedAt < this.opts.settleS) return false;
    this.samples.push(frameMs);
    this.windowSum += frameMs;
    if (this.samples.length < this.opts.window && (this.windowSum < this.opts.windowMs || this.samples.length < 3)) return false;
    const mean = this.samples.reduce((a, b) => a + b, 0) / this.samples.length;
    this.samples = [];
    this.windowSum = 0;
    const check = this.dropCheck;
    this.dropCheck = null;
    if (check && mean > check.meanBefore * (1 - this.opts.minGain)) {
      // the last step down bought (almost) nothing: undo it and hold here for a while
      this.floor = { level: check.from, until: nowS + this.opts.noGainHoldS };
      return this.change(check.from, nowS, mean);
    }
    const floor = this.floor && nowS < this.floor.until ? this.floor.level : this.minLevel;
    if (mean > this.opts.slowMs && this.level > floor) {
      const failed = this.level;
      const prev = this.banned.get(failed);
      const backoff = prev ? Math.min(prev.backoff * 2, 300) : this.opts.retryBackoffS;
      this.banned.set(failed, { until: nowS + backoff, backoff });
      // far too slow: drop two levels at once
      const drop = mean > this.opts.slowMs * 3 ? 2 : 1;
      let to = Math.max(floor, this.level - drop);
      // leaving the EffectComposer is one step of its own: land on the best level without it
      if (LEVELS[this.level]!.bloom && !LEVELS[to]!.bloom) to = Math.max(to, TOP_PLAIN_LEVEL);
      // below the composer, steps are checked: one that buys nothing is undone (see minGain)
      if (!LEVELS[this.level]!.bloom) this.dropCheck = { from: this.level, meanBefore: mean };
      return this.change(to, nowS, mean);
    }
    if (mean < this.opts.fastMs && this.level < this.maxLevel) {
      this.fastSince ??= nowS;
      const next = this.level + 1;
      const ban = this.banned.get(next);
      if (nowS - this.fastSince >= this.opts.upAfterS && (!ban || nowS >= ban.until)) {
        return this.change(next, nowS, mean);
      }
    } else {
      this.fastSince = null;
    }
    return false;
  }

  private change(level: number, nowS: number, meanMs: number): boolean {
    if (level === this.level) return false;
    this.level = level;
    this.changedAt = nowS;
    this.fastSince = null;
    this.samples = [];
    this.windowSum = 0;
    this.history.push({ t: nowS, level, meanMs });
    if (this.history.length > 50) this.history.shift();
    return true;
  }
}
