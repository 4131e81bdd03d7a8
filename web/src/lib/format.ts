/** Display formatting for readouts (pure). */
export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

export function fmtCompact(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return fmtInt(n);
}

export function fmtUsd(n: number): string {
  if (!Number.isFinite(n)) return "$—";
  return n >= 100 ? `$${n.toFixed(2)}` : `$${n.toFixed(4)}`;
}

export function fmtPct(x: number, digits = 0): string {
  return `${(x * 100).toFixed(digits)}%`;
}

export function fmtDuration(s: number | null): string {
  if (s == null || !Number.isFinite(s)) return "∞";
  if (s < 0) return "0s";
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${Math.floor(s % 60).toString().padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60).toString().padStart(2, "0")}m`;
}

export function fmtClock(ts: number): string {
  const d = new Date(ts * 1000);
  return d.toISOString().slice(11, 19);
}
