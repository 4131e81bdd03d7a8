/**
 * REST client: one seam for HTTP. Same origin by default (the Python server serves web/out/ and
 * /api/...). Response shapes that docs/reactor-contract.md leaves open (the runs list, the events
 * page) are normalised here so the rest of the code sees one shape.
 */
import type { CandidateDetail, CandidateRow, HudEvent, ReactorStatus, RunSummary, YieldView } from "./api-types";

export type FetchJson = (url: string) => Promise<unknown>;

export const defaultFetchJson: FetchJson = async (url) => {
  const res = await fetch(url, { headers: { accept: "application/json" }, cache: "no-store" });
  if (!res.ok) throw new Error(`GET ${url} → HTTP ${res.status}`);
  return res.json();
};

/** `http(s)://host` → `ws(s)://host`; "" (same origin) uses the page's location. */
export function wsBase(httpBase: string, loc?: { protocol: string; host: string }): string {
  if (httpBase) return httpBase.replace(/^http/, "ws");
  if (!loc) return "";
  return `${loc.protocol === "https:" ? "wss:" : "ws:"}//${loc.host}`;
}

export function normaliseRuns(json: unknown): RunSummary[] {
  const list = Array.isArray(json) ? json : Array.isArray((json as { runs?: unknown })?.runs) ? (json as { runs: unknown[] }).runs : [];
  return list
    .filter((r): r is RunSummary => !!r && typeof (r as RunSummary).run_id === "string")
    .map((r) => ({ ...r, started_at: r.started_at ?? null }))
    .sort((a, b) => (b.started_at ?? 0) - (a.started_at ?? 0));
}

export interface EventsPage {
  events: HudEvent[];
  /** Cursor to pass as `after` for the next page. */
  next: number;
  /** True when the server says (or it looks like) there is nothing more. */
  done: boolean;
}

export function normaliseEventsPage(json: unknown, after: number, limit: number): EventsPage {
  const obj = (json ?? {}) as Record<string, unknown>;
  const events = (Array.isArray(json) ? json : Array.isArray(obj.events) ? obj.events : []) as HudEvent[];
  const maxId = events.reduce((m, e) => Math.max(m, e.id), after);
  const hint = [obj.next_after, obj.next_cursor].find((v) => typeof v === "number") as number | undefined;
  const next = events.length ? maxId : hint != null && hint > after ? hint : after;
  const doneFlag = typeof obj.has_more === "boolean" ? !obj.has_more : events.length < limit;
  return { events, next, done: doneFlag || next <= after };
}

export class Api {
  constructor(
    readonly base = "",
    private readonly get: FetchJson = defaultFetchJson,
  ) {}

  async runs(): Promise<RunSummary[]> {
    return normaliseRuns(await this.get(`${this.base}/api/runs`));
  }

  /** The run "follow latest" shows (the newest batch; never an estimate run), as the server decides. */
  async follow(): Promise<string | null> {
    const json = (await this.get(`${this.base}/api/runs?limit=1`)) as { follow?: string | null };
    return typeof json?.follow === "string" ? json.follow : null;
  }

  async status(runId: string): Promise<ReactorStatus> {
    return (await this.get(`${this.base}/api/runs/${encodeURIComponent(runId)}/reactor_status?format=both`)) as ReactorStatus;
  }

  /** What the live view showed right after event `at` (the server folds; the HUD only shows). */
  async statusAt(runId: string, at: number): Promise<ReactorStatus> {
    return (await this.get(`${this.base}/api/runs/${encodeURIComponent(runId)}/reactor_status?format=both&at=${at}`)) as ReactorStatus;
  }

  async eventsPage(runId: string, after: number, limit = 1000): Promise<EventsPage> {
    const json = await this.get(`${this.base}/api/runs/${encodeURIComponent(runId)}/events?after=${after}&limit=${limit}`);
    return normaliseEventsPage(json, after, limit);
  }

  /** The run's stored candidates, oldest first. */
  async candidates(runId: string): Promise<CandidateRow[]> {
    const json = (await this.get(`${this.base}/api/runs/${encodeURIComponent(runId)}/candidates`)) as { candidates?: CandidateRow[] };
    return Array.isArray(json?.candidates) ? json.candidates : [];
  }

  /** One candidate with its newest simulation: metrics, failed checks, cumulative PnL. */
  async candidate(runId: string, candidateId: string): Promise<CandidateDetail> {
    return (await this.get(
      `${this.base}/api/runs/${encodeURIComponent(runId)}/candidates/${encodeURIComponent(candidateId)}`,
    )) as CandidateDetail;
  }

  /** The run's yield (`kpi.yield` of GET /kpi): a finished run's closing figures, a running run's so
   * far; null when the server has none. Asks for the small chart format (the reactor comes by stream). */
  async kpiYield(runId: string): Promise<YieldView | null> {
    const json = (await this.get(`${this.base}/api/runs/${encodeURIComponent(runId)}/kpi?format=chart`)) as { kpi?: { yield?: YieldView | null } };
    return json?.kpi?.yield ?? null;
  }

  /** Every event of a run, paged (for replay). `onProgress` gets the count so far. */
  async allEvents(runId: string, onProgress?: (n: number) => void, maxPages = 500): Promise<HudEvent[]> {
    const out: HudEvent[] = [];
    let after = 0;
    for (let i = 0; i < maxPages; i++) {
      const page = await this.eventsPage(runId, after);
      out.push(...page.events);
      onProgress?.(out.length);
      if (page.done) break;
      after = page.next;
    }
    return out;
  }
}
