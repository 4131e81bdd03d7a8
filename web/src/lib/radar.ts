/** Radar layout (pure): where each subcategory in flight sits on the exploit/explore radar. */
import type { RadarScan } from "./api-types";
import { hash32 } from "./sectors";

export interface Blip extends RadarScan {
  key: string;
  ideas: number;
  angle: number;
  radius: number;
}

/** One blip per (lane, subcategory): several ideas scanning the same sector share it. */
export function placeBlips(scans: readonly RadarScan[], exploitShare: number, R: number): Blip[] {
  const exploitSpan = 360 * Math.min(0.95, Math.max(0.05, exploitShare));
  const seen = new Map<string, RadarScan & { ideas: number }>();
  for (const s of scans) {
    const k = `${s.lane}:${s.subcategory}`;
    const prev = seen.get(k);
    if (prev) prev.ideas++;
    else seen.set(k, { ...s, ideas: 1 });
  }
  // spread each lane's blips evenly over its wedge (ordered by sector), on three staggered radii
  const out: Blip[] = [];
  for (const lane of ["exploit", "explore", null] as const) {
    const group = [...seen.values()]
      .filter((s) => (lane === null ? s.lane !== "exploit" && s.lane !== "explore" : s.lane === lane))
      .sort((a, b) => a.sector - b.sector || a.subcategory.localeCompare(b.subcategory));
    const start = lane === "explore" ? exploitSpan : 0;
    const span = lane === "explore" ? 360 - exploitSpan : lane === "exploit" ? exploitSpan : 360;
    group.forEach((s, i) => {
      const h = hash32(`${s.lane}:${s.subcategory}`);
      const angle = start + span * ((i + 0.5) / group.length) + ((h % 7) - 3) * 0.4;
      const radius = R * [0.42, 0.64, 0.84][i % 3]!;
      out.push({ ...s, key: `${s.lane}:${s.subcategory}`, angle, radius });
    });
  }
  return out;
}

export interface LabelBox {
  key: string;
  /** Text to show: "S3 · Volatility Index" or, when there is no room, just "S3". */
  text: string;
  /** Full text, for the tooltip. */
  full: string;
  /** Offset of the label's left edge and vertical centre from the blip, px. */
  dx: number;
  dy: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

const LABEL_H = 14;
const BAND_TOP = 22;
const BAND_BOTTOM = 18;
const GAP = 13;
const MAX_NAME = 18;

function clip(name: string): string {
  return name.length <= MAX_NAME ? name : `${name.slice(0, MAX_NAME - 1).trimEnd()}…`;
}

const hits = (a: { x: number; y: number; w: number; h: number }, b: { x: number; y: number; w: number; h: number }) =>
  a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/**
 * Radar labels that never overlap each other and stay inside the `size`×`size` box. Each label tries
 * its natural side (outward from the centre), then the other side, then nudged up or down; if none
 * fits it shrinks to the sector number, and if even that does not fit it is left out (the blip and
 * its tooltip remain). `measure(text)` is the text's width in px (canvas measureText in the browser).
 */
export function placeLabels(
  blips: readonly Blip[],
  size: number,
  pos: (b: Blip) => [number, number],
  measure: (text: string) => number,
): LabelBox[] {
  const c = size / 2;
  const placed: LabelBox[] = [];
  const dots = blips.map((b) => {
    const [x, y] = pos(b);
    return { x: x - 9, y: y - 9, w: 18, h: 18 };
  });
  // closest to the centre first: they have the least room
  const order = [...blips].sort((a, b) => a.radius - b.radius || a.angle - b.angle);
  for (const b of order) {
    const [x, y] = pos(b);
    const full = `S${b.sector} · ${b.name}${b.ideas > 1 ? ` ×${b.ideas}` : ""}`;
    const texts = [`S${b.sector} · ${clip(b.name)}${b.ideas > 1 ? ` ×${b.ideas}` : ""}`, `S${b.sector}`];
    const natural = x > c ? -1 : 1; // outward: right of the blip on the left half, left on the right half
    let done: LabelBox | null = null;
    for (const text of texts) {
      const w = Math.ceil(measure(text)) + 2;
      for (const side of [natural, -natural]) {
        for (const dy of [0, -LABEL_H, LABEL_H, -2 * LABEL_H, 2 * LABEL_H]) {
          const left = side > 0 ? x + GAP : x - GAP - w;
          const box = { x: left, y: y + dy - LABEL_H / 2, w, h: LABEL_H };
          // inside the box, clear of the lane headers (top) and the target/in-flight line (bottom)
          if (box.x < 0 || box.x + w > size || box.y < BAND_TOP || box.y + LABEL_H > size - BAND_BOTTOM) continue;
          if (placed.some((p) => hits(p, box))) continue;
          if (dots.some((d, i) => blips[i]!.key !== b.key && hits(d, box))) continue;
          done = { key: b.key, text, full, dx: left - x, dy, ...box };
          break;
        }
        if (done) break;
      }
      if (done) break;
    }
    if (done) placed.push(done);
  }
  return placed;
}
