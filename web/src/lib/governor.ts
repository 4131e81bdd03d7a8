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

export interface GovernorOptions {
  /** Step down when the mean frame time of the window exceeds this (ms). */
  slowMs: number;
  /** Step up only when the mean frame time stays below this (ms). */
  fastMs: number;
  /** Frames per decision window. */
  window: number;
  /** Seconds a level must stay fast before trying the next level up. */
  upAfterS: number;
  /** Seconds to wait after any change before judging again (shader compiles, warm-up). */
  settleS: number;
  /** A level that proved too slow is not retried for this long (s), doubling each time. */
  retryBackoffS: number;
}

export const DEFAULT_GOVERNOR: GovernorOptions = {
  slowMs: 1000 / 45,
  fastMs: 1000 / 56,
  window: 20,
  upAfterS: 2.5,
  settleS: 0.6,
  retryBackoffS: 8,
};

export class QualityGovernor {
  level: number;
  private samples: number[] = [];
  private changedAt = 0;
  private fastSince: number | null = null;
  private readonly banned = new Map<number, { until: number; backoff: number }>();
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
    if (nowS - this.changedAt < this.opts.settleS) return false;
    this.samples.push(frameMs);
    if (this.samples.length < this.opts.window) return false;
    const mean = this.samples.reduce((a, b) => a + b, 0) / this.samples.length;
    this.samples = [];
    if (mean > this.opts.slowMs && this.level > this.minLevel) {
      const failed = this.level;
      const prev = this.banned.get(failed);
      const backoff = prev ? Math.min(prev.backoff * 2, 300) : this.opts.retryBackoffS;
      this.banned.set(failed, { until: nowS + backoff, backoff });
      // far too slow: drop two levels at once
      const drop = mean > this.opts.slowMs * 3 ? 2 : 1;
      return this.change(Math.max(this.minLevel, this.level - drop), nowS, mean);
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
    this.history.push({ t: nowS, level, meanMs });
    if (this.history.length > 50) this.history.shift();
    return true;
  }
}
