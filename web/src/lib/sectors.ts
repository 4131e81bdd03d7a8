/** Radar sectors: a stable mapping from a subcategory id to a sector number (1..SECTORS) and a
 * display name. The server sends both in `reactor.radar.scanning`; this is what the view uses when it
 * is rebuilt from events alone. */
export const SECTORS = 12;

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

/** The knowledge pack's name (sent with `retrieval.pack_built`), else the id made readable. */
export function subcategoryName(subcategory: string, names: ReadonlyMap<string, string>): string {
  const known = names.get(subcategory);
  if (known) return known;
  return subcategory
    .split(/[-_\s.]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(" ");
}
