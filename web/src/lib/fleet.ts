/**
 * "All live runs": follows `/api/stream/live`, the server's fleet view (one reactor over every
 * running run; the server aggregates, the HUD only shows it). Reconnects with backoff; while the
 * socket is down it polls GET /api/live/reactor_status.
 */
import { backoffDelay, type ConnState, type SocketFactory, type Timers } from "./stream";
import type { LiveMessage, LiveStatus } from "./api-types";
import type { FetchJson } from "./api";

export const FLEET_RUN_ID = "live";

export interface FleetOptions {
  wsBase: string;
  httpBase: string;
  socket: SocketFactory;
  get: FetchJson;
  onStatus(status: LiveStatus): void;
  onState?(state: ConnState): void;
  timers?: Timers;
  pollMs?: number;
}

export class FleetStream {
  attempt = 0;
  messages = 0;
  private stopped = false;
  private ws: ReturnType<SocketFactory> | null = null;
  private timer: unknown = null;
  private readonly timers: Timers;

  constructor(private readonly opts: FleetOptions) {
    this.timers = opts.timers ?? { setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms), clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>) };
  }

  url(): string {
    return `${this.opts.wsBase}/api/stream/live`;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.timers.clearTimeout(this.timer);
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
    this.opts.onState?.("closed");
  }

  handle(data: unknown): void {
    let msg: LiveMessage;
    try {
      msg = JSON.parse(typeof data === "string" ? data : String(data)) as LiveMessage;
    } catch {
      return;
    }
    if (msg?.type !== "live" || !msg.status) return;
    this.messages++;
    this.opts.onStatus(msg.status);
  }

  private connect(): void {
    if (this.stopped) return;
    this.opts.onState?.(this.attempt === 0 ? "connecting" : "reconnecting");
    let ws: ReturnType<SocketFactory>;
    try {
      ws = this.opts.socket(this.url());
    } catch {
      this.retry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.opts.onState?.("live");
    };
    ws.onmessage = (ev) => this.handle(ev.data);
    ws.onerror = () => {
      /* onclose follows */
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.retry();
    };
  }

  /** One REST poll while the socket is down, then a reconnect after the backoff. */
  private retry(): void {
    if (this.stopped) return;
    const delay = backoffDelay(this.attempt++);
    this.opts.onState?.("polling");
    this.opts
      .get(`${this.opts.httpBase}/api/live/reactor_status`)
      .then((status) => !this.stopped && this.opts.onStatus(status as LiveStatus))
      .catch(() => undefined);
    this.timer = this.timers.setTimeout(() => this.connect(), delay);
  }
}
