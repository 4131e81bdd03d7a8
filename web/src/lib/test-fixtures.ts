/** Small scripted runs for unit tests (not shipped: only *.test.ts import this). */
import type { HudEvent } from "./api-types";

export class EventScript {
  readonly events: HudEvent[] = [];
  private id = 0;
  constructor(
    readonly runId = "r_test",
    public t = 1000,
  ) {}

  add(name: string, payload: Record<string, unknown> = {}, extra: Partial<HudEvent> = {}, dt = 1): HudEvent {
    this.t += dt;
    const ev: HudEvent = {
      id: ++this.id,
      run_id: this.runId,
      ts: this.t,
      name,
      step: name.split(".")[0] ?? null,
      idea_id: null,
      lane: null,
      payload,
      ...extra,
    };
    this.events.push(ev);
    return ev;
  }
}

/** metadata_sync + two ideas, one call each, a fallback, a block and simulations. */
export function sampleRun(): EventScript {
  const s = new EventScript();
  s.add("metadata_sync", {
    budget: { limits: { request: 10000, batch: 10000, day: 100000, money_day: 1 }, exploit_ratio: 0.7, explore_ratio: 0.3 },
    provider: "mock",
    model: "mock-1",
  });
  s.add("retrieval.pack_built", { subcategories: ["option-volatility"], subcategory_names: { "option-volatility": "Volatility Index" } }, { idea_id: "i1", lane: "explore" });
  s.add("retrieval.pack_built", { subcategories: ["price-momentum"], subcategory_names: { "price-momentum": "Momentum" } }, { idea_id: "i2", lane: "exploit" });
  s.add("budget.check_passed", { prompt_tokens: 2000, completion_tokens: 500 }, { idea_id: "i1", lane: "explore" });
  s.add("budget.reserved", { reservation_id: "res1", tokens: 2500, cost: "0.01" }, { idea_id: "i1", lane: "explore" });
  s.add("llm.call", { prompt_tokens: 2000, completion_tokens: 400, cost: "0.0040", cache_hit: false }, { idea_id: "i1", lane: "explore" });
  s.add("budget.settled", { reservation_id: "res1", total_tokens: 2400, cost: "0.0040" }, { idea_id: "i1", lane: "explore" });
  s.add("candidate.created", { candidate_id: "c1", expression: "rank(close)", valid: true, fields: ["close"], operators: ["rank"] }, { idea_id: "i1", lane: "explore" });
  s.add("budget.fallback_applied", { stage: "fields", from_k: 40, to_k: 20, tokens_before: 9000, tokens_after: 6000, fallback_count: 1 }, { idea_id: "i2", lane: "exploit" });
  s.add("budget.reserved", { reservation_id: "res2", tokens: 6000, cost: "0.02" }, { idea_id: "i2", lane: "exploit" });
  s.add("simulation.submitted", { candidate_id: "c1" }, { idea_id: "i1", lane: "explore" });
  s.add("simulation.completed", { candidate_id: "c1", sharpe: 1.4, fitness: 1.1, passed: true, total_s: 2 }, { idea_id: "i1", lane: "explore" });
  return s;
}
