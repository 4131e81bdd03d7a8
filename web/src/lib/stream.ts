/**
 * Live connection: WebSocket with auto-reconnect (exponential backoff + jitter, resume with
 * `after=cursor`), falling back to REST polling of reactor_status (+ events) while the socket is
 * down. All outside things are injected (socket class, HTTP, timers), so tests drive it with
 * fakes.
 */
import type { Api } from "./api";
import type { StreamMessage } from "./api-types";

export type ConnState = "idle" | "connecting" | "live" | "reconnecting" | "polling" | "closed";
export type StreamTarget = { kind: "run"; runId: string } | { kind: "latest" };

export interface SocketLike {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  close(): void;
}
export type SocketFactory = (url: string) => SocketLike;

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(h: unknown): void;
}

export interface StreamOptions {
  wsBase: string;
  target: StreamTarget;
  api: Pick<Api, "status" | "eventsPage" | "runs" | "follow">;
  socket: SocketFactory;
  onMessage(msg: StreamMessage): void;
  onState?(state: ConnState, detail: { attempt: number; delayMs?: number }): void;
  timers?: Timers;
  rng?: () => number;
  pollMs?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/** Delay before reconnect attempt `attempt` (0-based): base·2^attempt, capped, ±25 % jitter. */
export function backoffDelay(attempt: number, baseMs = 500, maxMs = 10_000, rng: () => number = Math.random): number {
  const raw = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(raw * (0.75 + 0.5 * rng()));
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
};

export class LiveStream {
  state: ConnState = "idle";
  cursor = 0;
  runId: string | null;
  attempt = 0;
  messages = 0;
  private ws: SocketLike | null = null;
  private reconnectTimer: unknown = null;
  private pollTimer: unknown = null;
  private stopped = false;
  private polling = false;
  private readonly timers: Timers;

  constructor(private readonly opts: StreamOptions) {
    this.timers = opts.timers ?? realTimers;
    this.runId = opts.target.kind === "run" ? opts.target.runId : null;
  }

  url(): string {
    const t = this.opts.target;
    const path = t.kind === "run" ? `/api/runs/${encodeURIComponent(t.runId)}/stream` : "/api/stream/latest";
    return `${this.opts.wsBase}${path}?after=${this.cursor}`;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.timers.clearTimeout(this.reconnectTimer);
    this.stopPolling();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = ws.onerror = ws.onmessage = ws.onopen = null;
      try {
        ws.close();
      } catch {
        /* already closed */
      }
    }
    this.setState("closed");
  }

  private setState(s: ConnState, delayMs?: number): void {
    this.state = s;
    this.opts.onState?.(s, { attempt: this.attempt, delayMs });
  }

  private connect(): void {
    if (this.stopped) return;
    this.setState(this.attempt === 0 ? "connecting" : this.polling ? "polling" : "reconnecting");
    let ws: SocketLike;
    try {
      ws = this.opts.socket(this.url());
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.stopPolling();
      this.setState("live");
    };
    ws.onmessage = (ev) => this.handle(ev.data);
    ws.onerror = () => {
      /* onclose follows */
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.scheduleReconnect();
    };
  }

  private handle(data: unknown): void {
    let msg: StreamMessage;
    try {
      msg = JSON.parse(typeof data === "string" ? data : String(data)) as StreamMessage;
    } catch {
      return;
    }
    this.messages++;
    if (msg.type === "run") {
      this.runId = msg.run_id;
      this.cursor = 0;
    } else if (msg.type === "snapshot" || msg.type === "update") {
      if (typeof msg.cursor === "number") this.cursor = Math.max(this.cursor, msg.cursor);
      const rid = msg.run_id ?? msg.status?.run_id ?? msg.events?.[0]?.run_id;
      if (rid) this.runId = rid;
    }
    this.opts.onMessage(msg);
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const delay = backoffDelay(this.attempt, this.opts.baseDelayMs, this.opts.maxDelayMs, this.opts.rng);
    this.attempt++;
    this.startPolling();
    this.setState(this.polling ? "polling" : "reconnecting", delay);
    this.timers.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = this.timers.setTimeout(() => this.connect(), delay);
  }

  private startPolling(): void {
    if (this.polling) return;
    this.polling = true;
    const tick = async () => {
      if (!this.polling || this.stopped) return;
      try {
        await this.pollOnce();
      } catch {
        /* server down too: keep trying */
      }
      if (this.polling && !this.stopped) this.pollTimer = this.timers.setTimeout(tick, this.opts.pollMs ?? 1000);
    };
    void tick();
  }

  private stopPolling(): void {
    this.polling = false;
    this.timers.clearTimeout(this.pollTimer);
  }

  /** One REST round: status + events after the cursor, delivered as an `update` message. */
  async pollOnce(): Promise<void> {
    if (!this.runId) {
      const follow = await this.opts.api.follow(); // the server decides which run "latest" is
      if (!follow) return;
      this.runId = follow;
    }
    const runId = this.runId;
    const [status, page] = await Promise.all([this.opts.api.status(runId), this.opts.api.eventsPage(runId, this.cursor, 500)]);
    if (!this.polling || this.runId !== runId) return;
    const cursor = Math.max(this.cursor, page.next);
    const type = this.cursor === 0 ? "snapshot" : "update";
    this.cursor = cursor;
    this.messages++;
    this.opts.onMessage({ type, cursor, run_id: runId, truncated: false, status, events: page.events });
  }
}
