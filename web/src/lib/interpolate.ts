/**
 * Per-frame interpolation: discrete updates (≤ 20/s over the WebSocket, 1/s when polling) become
 * continuous motion. Exponential approach is frame-rate independent: the same wall time gives the
 * same result whether it is covered by 60 small steps or 10 large ones.
 */

/** Move `current` toward `target`; `tau` is the time constant in seconds (63 % after tau). */
export function approach(current: number, target: number, dt: number, tau: number): number {
  if (!Number.isFinite(target)) return current;
  if (!Number.isFinite(current)) return target;
  if (tau <= 0 || dt <= 0) return dt <= 0 ? current : target;
  const k = 1 - Math.exp(-dt / tau);
  const next = current + (target - current) * k;
  return Math.abs(target - next) < 1e-9 * Math.max(1, Math.abs(target)) ? target : next;
}

/** A set of named numbers that glide toward their targets. */
export class Smoother {
  readonly values: Record<string, number> = {};
  private readonly targets: Record<string, number> = {};
  private readonly taus: Record<string, number> = {};

  constructor(private readonly defaultTau = 0.35) {}

  /** Set a target; the first time a key is seen it jumps there (no glide from 0 on load). */
  set(key: string, target: number, tau?: number): void {
    if (!Number.isFinite(target)) return;
    if (!(key in this.values)) this.values[key] = target;
    this.targets[key] = target;
    if (tau != null) this.taus[key] = tau;
  }

  /** Jump straight to the target (run switch, replay scrub). */
  snap(key?: string): void {
    for (const k of key ? [key] : Object.keys(this.targets)) this.values[k] = this.targets[k]!;
  }

  target(key: string): number | undefined {
    return this.targets[key];
  }

  get(key: string, fallback = 0): number {
    return this.values[key] ?? fallback;
  }

  step(dt: number): void {
    const d = Math.min(Math.max(dt, 0), 0.25); // a stalled tab must not overshoot or teleport oddly
    for (const k of Object.keys(this.targets)) {
      this.values[k] = approach(this.values[k] ?? this.targets[k]!, this.targets[k]!, d, this.taus[k] ?? this.defaultTau);
    }
  }

  clear(): void {
    for (const k of Object.keys(this.values)) delete this.values[k];
    for (const k of Object.keys(this.targets)) delete this.targets[k];
  }
}

/**
 * Server clock estimate: maps local monotonic time to server seconds so scrolling views (pulse
 * line) move smoothly between messages. Corrections are slewed, never jumped, unless large.
 */
export class ServerClock {
  private offset: number | null = null; // server_s - local_s
  private targetOffset: number | null = null;

  /** `serverTs` is the server's "now" (the envelope's `as_of`) seen at local time `localS`. */
  observe(serverTs: number, localS: number): void {
    const o = serverTs - localS;
    if (this.offset == null || Math.abs(o - this.offset) > 5) this.offset = o;
    this.targetOffset = o;
  }

  step(dt: number): void {
    if (this.offset == null || this.targetOffset == null) return;
    this.offset = approach(this.offset, this.targetOffset, dt, 0.5);
  }

  now(localS: number): number | null {
    return this.offset == null ? null : localS + this.offset;
  }

  reset(): void {
    this.offset = null;
    this.targetOffset = null;
  }
}
