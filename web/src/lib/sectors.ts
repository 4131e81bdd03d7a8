/** Radar helpers. Sector numbers and names come from the server (`reactor.radar.scanning`), which
 * keeps them unique among the subcategories in view; the HUD only needs a stable hash for jitter. */

/** FNV-1a, so a layout is the same in every browser and in tests. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
