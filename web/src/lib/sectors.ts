/** Radar sectors: a stable mapping from a subcategory id to a sector number (1..SECTORS) and a
 * display name. The server sends both in `reactor.radar.scanning`; this is the fallback used when
 * the view is rebuilt from events alone. */
export const SECTORS = 12;

const NAMES: Record<string, string> = {
  "option-volatility": "Volatility Index",
  "implied-volatility": "Implied Volatility",
  "price-volume": "Price / Volume",
  "price-momentum": "Momentum Field",
  "analyst-estimates": "Analyst Estimates",
  "fundamental-valuation": "Valuation Core",
  "earnings-quality": "Earnings Quality",
  "news-sentiment": "News Sentiment",
  "social-media": "Social Signal",
  "short-interest": "Short Interest",
  "liquidity": "Liquidity Grid",
  "insider-trading": "Insider Flow",
  "model-risk": "Risk Model",
};

/** FNV-1a, so the mapping is the same in every browser and in tests. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function sectorFor(subcategory: string): number {
  return (hash32(subcategory) % SECTORS) + 1;
}

export function subcategoryName(subcategory: string): string {
  const known = NAMES[subcategory];
  if (known) return known;
  return subcategory
    .split(/[-_\s.]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(" ");
}
