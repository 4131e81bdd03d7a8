/**
 * The golden event log, HUD side: for every pinned moment, the figures the HUD prints from the
 * server's status are exactly the figures pytest pins (tests/telemetry/test_golden.py), in the HUD's
 * format. The HUD derives nothing from events, so agreeing here means agreeing with the CLI.
 */
import { describe, expect, it } from "vitest";
import { figures } from "./figures";
import { fmtCompact, fmtDuration, fmtInt, fmtPct } from "./format";
import { golden } from "./golden";

describe("golden event log", () => {
  it("has the moments the Python side pins", () => {
    expect(golden.moments.length).toBeGreaterThanOrEqual(5);
  });

  for (const m of golden.moments) {
    it(`prints the pinned figures at event ${m.at}`, () => {
      const g = m.figures as Record<string, number | string | boolean | null>;
      const r = m.status.reactor!;
      const f = figures(m.status, r);
      expect(f.tokens).toBe(fmtInt(g.tokens_total as number));
      expect(f.tokensSub).toBe(`${fmtCompact(g.tokens_in as number)} in · ${fmtCompact(g.tokens_out as number)} out`);
      expect((g.tokens_in as number) + (g.tokens_out as number)).toBe(g.tokens_total);
      expect(f.simulationsSub.startsWith(`${g.passed} pass · ${g.failed} fail · ${g.errors} error`)).toBe(true);
      expect(f.coverage).toBe(`${g.coverage} sub`);
      expect(f.novelty).toBe(fmtPct(g.novelty as number, 1));
      expect(f.noveltySub).toContain(g.structural_novelty == null ? "—" : fmtPct(g.structural_novelty as number));
      expect(r.protection_mode).toBe(g.protection_mode);
      if (g.status === "completed") {
        expect(f.exhaustion).toBe("—");
        expect(f.exhaustionUrgent).toBe(false);
      } else {
        expect(f.exhaustion).toBe(fmtDuration(g.exhaustion_s as number));
        expect(f.exhaustionSub).toContain(String(g.exhaustion_scope));
      }
      // no internal event names in anything the HUD prints
      for (const text of Object.values(f)) expect(String(text)).not.toMatch(/\b[a-z]+\.[a-z_]+\b|metadata_sync|cycle_completed/);
    });
  }
});
