/**
 * Token particles: each prompt injection sends particles into the core, in proportion to its
 * tokens. Plain typed arrays, stepped once per frame; the 3D layer only uploads `positions` and
 * `colors`. No allocation per frame.
 */

export const TOKENS_PER_PARTICLE = 20;
export const MIN_PER_INJECTION = 6;
export const MAX_PER_INJECTION = 360;

export type Rng = () => number;

/** How many particles an injection of `tokens` sends at particle budget `fraction` (0..1]. */
export function particlesFor(tokens: number, fraction = 1): number {
  if (!(tokens > 0)) return 0;
  const n = Math.min(MAX_PER_INJECTION, Math.max(MIN_PER_INJECTION, Math.round(tokens / TOKENS_PER_PARTICLE)));
  return Math.max(1, Math.round(n * Math.min(1, Math.max(0.05, fraction))));
}

export class ParticleField {
  readonly positions: Float32Array;
  readonly colors: Float32Array;
  private readonly r0: Float32Array;
  private readonly theta: Float32Array;
  private readonly phi: Float32Array;
  private readonly spin: Float32Array;
  private readonly age: Float32Array;
  private readonly life: Float32Array;
  private readonly delay: Float32Array;
  private readonly baseColor: Float32Array;
  /** Indices [0, count) are alive; dead ones are swapped to the end. */
  count = 0;
  /** Particles absorbed by the core during the last step (drives the core's flash). */
  absorbed = 0;
  totalSpawned = 0;

  constructor(
    readonly capacity: number,
    readonly coreRadius = 0.55,
    private readonly rng: Rng = Math.random,
  ) {
    this.positions = new Float32Array(capacity * 3);
    this.colors = new Float32Array(capacity * 3);
    this.r0 = new Float32Array(capacity);
    this.theta = new Float32Array(capacity);
    this.phi = new Float32Array(capacity);
    this.spin = new Float32Array(capacity);
    this.age = new Float32Array(capacity);
    this.life = new Float32Array(capacity);
    this.delay = new Float32Array(capacity);
    this.baseColor = new Float32Array(capacity * 3);
  }

  /** Spawn an injection's particles; returns how many were actually spawned (capacity bound). */
  inject(tokens: number, lane: string | null, fraction = 1): number {
    const want = particlesFor(tokens, fraction);
    const n = Math.min(want, this.capacity - this.count);
    const [cr, cg, cb] = lane === "explore" ? [0.55, 0.6, 1.6] : [0.3, 1.1, 1.6];
    const rnd = this.rng;
    for (let k = 0; k < n; k++) {
      const i = this.count++;
      this.r0[i] = 2.6 + rnd() * 1.4;
      this.theta[i] = rnd() * Math.PI * 2;
      // bias towards the equatorial plane: it reads as an accretion disc
      this.phi[i] = Math.PI / 2 + (rnd() - 0.5) * 1.6;
      this.spin[i] = 0.6 + rnd() * 1.2;
      this.age[i] = 0;
      this.life[i] = 1.8 + rnd() * 1.6;
      this.delay[i] = rnd() * 0.9;
      const w = 0.75 + rnd() * 0.25;
      this.baseColor[i * 3] = cr * w;
      this.baseColor[i * 3 + 1] = cg * w;
      this.baseColor[i * 3 + 2] = cb;
    }
    this.totalSpawned += n;
    return n;
  }

  /** Advance by dt seconds; `heat` (0..1) tints particles near the core toward red. */
  step(dt: number, heat = 0): void {
    this.absorbed = 0;
    const d = Math.min(Math.max(dt, 0), 0.1);
    let i = 0;
    while (i < this.count) {
      this.age[i]! += d;
      const t = (this.age[i]! - this.delay[i]!) / this.life[i]!;
      if (t >= 1) {
        this.absorbed++;
        this.kill(i);
        continue;
      }
      const u = Math.max(0, t);
      const ease = u * u * (3 - 2 * u);
      const r = this.coreRadius + (this.r0[i]! - this.coreRadius) * (1 - ease);
      this.theta[i]! += d * this.spin[i]! * (1 + 4 * ease);
      const sp = Math.sin(this.phi[i]! + (Math.PI / 2 - this.phi[i]!) * ease * 0.7);
      const th = this.theta[i]!;
      this.positions[i * 3] = r * sp * Math.cos(th);
      this.positions[i * 3 + 1] = r * Math.cos(this.phi[i]! + (Math.PI / 2 - this.phi[i]!) * ease * 0.7);
      this.positions[i * 3 + 2] = r * sp * Math.sin(th);
      const fade = t < 0 ? 0 : Math.min(1, u * 6);
      const hot = heat * ease;
      this.colors[i * 3] = (this.baseColor[i * 3]! * (1 - hot) + 1.0 * hot) * fade;
      this.colors[i * 3 + 1] = (this.baseColor[i * 3 + 1]! * (1 - hot) + 0.35 * hot) * fade;
      this.colors[i * 3 + 2] = (this.baseColor[i * 3 + 2]! * (1 - hot) + 0.2 * hot) * fade;
      i++;
    }
  }

  /** Drop every particle (run switch, replay scrub backwards). */
  clear(): void {
    this.count = 0;
  }

  private kill(i: number): void {
    const last = --this.count;
    if (i === last) return;
    const arrs1 = [this.r0, this.theta, this.phi, this.spin, this.age, this.life, this.delay];
    for (const a of arrs1) a[i] = a[last]!;
    for (const a of [this.positions, this.colors, this.baseColor]) {
      a[i * 3] = a[last * 3]!;
      a[i * 3 + 1] = a[last * 3 + 1]!;
      a[i * 3 + 2] = a[last * 3 + 2]!;
    }
  }
}
