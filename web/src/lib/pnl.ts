/** Cumulative PnL chart points (pure): a series of dates and dollars → at most `max` points, the
 *  first and last kept, evenly strided in between (a line chart cannot show more than its pixels). */
export interface PnlPoint {
  i: number;
  date: string;
  v: number;
}

export function pnlPoints(series: { dates: readonly string[]; values: readonly number[] } | null | undefined, max = 400): PnlPoint[] {
  if (!series) return [];
  const n = Math.min(series.dates.length, series.values.length);
  if (n === 0) return [];
  const step = n > max ? (n - 1) / (max - 1) : 1;
  const out: PnlPoint[] = [];
  const count = n > max ? max : n;
  for (let k = 0; k < count; k++) {
    const i = k === count - 1 ? n - 1 : Math.round(k * step);
    const v = series.values[i]!;
    if (Number.isFinite(v)) out.push({ i, date: series.dates[i]!, v });
  }
  return out;
}

/** "$1.23M" / "-$45.6k" / "$789": a compact dollar figure for axis labels. */
export function fmtDollars(v: number): string {
  const a = Math.abs(v);
  const s = v < 0 ? "-" : "";
  if (a >= 1e6) return `${s}$${(a / 1e6).toFixed(2)}M`;
  if (a >= 1e3) return `${s}$${(a / 1e3).toFixed(1)}k`;
  return `${s}$${a.toFixed(0)}`;
}
