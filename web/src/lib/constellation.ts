/**
 * Alpha constellation: ideas → candidates → the fields and operators they use, built from
 * `candidate.created` and coloured by lane and by simulation result. A fold over events, so live
 * and replay share it.
 */
import { laneOf, typed, type HudEvent, type Lane } from "./api-types";

export type NodeKind = "idea" | "candidate" | "field" | "operator";
export type CandidateResult = "pending" | "simulating" | "passed" | "failed" | "invalid" | "error";

export interface GraphNode {
  id: string;
  kind: NodeKind;
  label: string;
  lane: Lane | null;
  result?: CandidateResult;
  sharpe?: number;
  uses?: number;
}

export interface GraphLink {
  source: string;
  target: string;
  kind: "idea-candidate" | "candidate-field" | "candidate-operator";
}

export interface Graph {
  nodes: GraphNode[];
  links: GraphLink[];
}

export const COLORS = {
  exploit: "#22d3ee",
  explore: "#a78bfa",
  field: "#60a5fa",
  operator: "#fbbf24",
  pending: "#94a3b8",
  simulating: "#e2e8f0",
  passed: "#4ade80",
  failed: "#f97316",
  invalid: "#ef4444",
  error: "#ef4444",
} as const;

export function nodeColor(n: GraphNode): string {
  switch (n.kind) {
    case "idea":
      return n.lane === "explore" ? COLORS.explore : COLORS.exploit;
    case "candidate":
      return COLORS[n.result ?? "pending"];
    case "field":
      return COLORS.field;
    default:
      return COLORS.operator;
  }
}

export class GraphAcc {
  private readonly nodes = new Map<string, GraphNode>();
  private readonly links = new Map<string, GraphLink>();
  private cursor = 0;
  /** Bumped on every structural or colour change; cheap change detection for the view. */
  version = 0;

  apply(ev: HudEvent): void {
    if (ev.id <= this.cursor) return;
    this.cursor = ev.id;
    const e = typed(ev);
    const p = (e.payload ?? {}) as Record<string, unknown>; // payloads are checked at runtime too (old stores)
    const cid = typeof p.candidate_id === "string" ? p.candidate_id : null;
    switch (e.name) {
      case "idea.refined": {
        if (!ev.idea_id) return;
        const id = `idea:${ev.idea_id}`;
        const title = typeof p.title === "string" ? p.title : ev.idea_id;
        const n = this.nodes.get(id);
        if (n) n.label = title;
        else this.nodes.set(id, { id, kind: "idea", label: title, lane: laneOf(ev.lane) });
        this.version++;
        return;
      }
      case "candidate.created": {
        if (!cid) return;
        const cNode = `cand:${cid}`;
        this.nodes.set(cNode, {
          id: cNode,
          kind: "candidate",
          label: typeof p.expression === "string" ? p.expression : cid,
          lane: laneOf(ev.lane),
          result: p.valid === false ? "invalid" : "pending",
        });
        if (ev.idea_id) {
          const iNode = `idea:${ev.idea_id}`;
          if (!this.nodes.has(iNode)) this.nodes.set(iNode, { id: iNode, kind: "idea", label: ev.idea_id, lane: laneOf(ev.lane) });
          this.link(iNode, cNode, "idea-candidate");
        }
        for (const f of Array.isArray(p.fields) ? p.fields : []) {
          if (typeof f !== "string") continue;
          this.leaf(`field:${f}`, "field", f);
          this.link(cNode, `field:${f}`, "candidate-field");
        }
        for (const o of Array.isArray(p.operators) ? p.operators : []) {
          if (typeof o !== "string") continue;
          this.leaf(`op:${o}`, "operator", o);
          this.link(cNode, `op:${o}`, "candidate-operator");
        }
        this.version++;
        return;
      }
      case "simulation.submitted":
        this.result(cid, "simulating");
        return;
      case "simulation.completed":
        this.result(cid, p.passed === true ? "passed" : "failed", typeof p.sharpe === "number" ? p.sharpe : undefined);
        return;
      case "simulation.failed":
        this.result(cid, "error");
        return;
      default:
        return;
    }
  }

  graph(): Graph {
    return { nodes: [...this.nodes.values()].map((n) => ({ ...n })), links: [...this.links.values()].map((l) => ({ ...l })) };
  }

  get size(): number {
    return this.nodes.size;
  }

  private leaf(id: string, kind: NodeKind, label: string): void {
    const n = this.nodes.get(id);
    if (n) n.uses = (n.uses ?? 1) + 1;
    else this.nodes.set(id, { id, kind, label, lane: null, uses: 1 });
  }

  private link(source: string, target: string, kind: GraphLink["kind"]): void {
    this.links.set(`${source}>${target}`, { source, target, kind });
  }

  private result(cid: string | null, result: CandidateResult, sharpe?: number): void {
    if (!cid) return;
    const n = this.nodes.get(`cand:${cid}`);
    if (!n || n.result === "invalid") return;
    n.result = result;
    if (sharpe != null) n.sharpe = sharpe;
    this.version++;
  }
}
