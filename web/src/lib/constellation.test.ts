import { describe, expect, it } from "vitest";
import { COLORS, GraphAcc, nodeColor } from "./constellation";
import { sampleRun } from "./test-fixtures";

describe("GraphAcc", () => {
  it("links ideas → candidates → fields/operators and colours by result", () => {
    const g = new GraphAcc();
    const s = sampleRun();
    s.add("candidate.created", { candidate_id: "c2", expression: "ts_rank(close, 5)", valid: true, fields: ["close"], operators: ["ts_rank"] }, { idea_id: "i2", lane: "exploit" });
    s.add("simulation.failed", { candidate_id: "c2", error_code: "X" }, { idea_id: "i2" });
    for (const e of s.events) g.apply(e);
    const { nodes, links } = g.graph();
    const ids = nodes.map((n) => n.id).sort();
    expect(ids).toEqual(["cand:c1", "cand:c2", "field:close", "idea:i1", "idea:i2", "op:rank", "op:ts_rank"]);
    expect(links).toContainEqual({ source: "idea:i1", target: "cand:c1", kind: "idea-candidate" });
    expect(links).toContainEqual({ source: "cand:c2", target: "op:ts_rank", kind: "candidate-operator" });
    const byId = Object.fromEntries(nodes.map((n) => [n.id, n]));
    expect(nodeColor(byId["cand:c1"]!)).toBe(COLORS.passed);
    expect(byId["cand:c1"]!.sharpe).toBe(1.4);
    expect(nodeColor(byId["cand:c2"]!)).toBe(COLORS.error);
    expect(nodeColor(byId["idea:i1"]!)).toBe(COLORS.explore);
    expect(nodeColor(byId["idea:i2"]!)).toBe(COLORS.exploit);
    expect(byId["field:close"]!.uses).toBe(2);
  });
});
