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
