import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ReactorStatus, StreamMessage } from "./api-types";
import { backoffDelay, LiveStream, type SocketLike } from "./stream";

class FakeSocket implements SocketLike {
  static all: FakeSocket[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  closed = false;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  close() {
    this.closed = true;
  }
  open() {
    this.onopen?.({});
  }
  send(msg: unknown) {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
  drop() {
    this.onclose?.({});
  }
}

const status = (cursor: number): ReactorStatus => ({ run_id: "r1", status: "running", as_of: 0, cursor });

function makeApi() {
  return {
    status: vi.fn(async () => status(7)),
    eventsPage: vi.fn(async (_run: string, after: number) => ({
      events: [{ id: after + 1, run_id: "r1", ts: 1, name: "llm.call", step: "llm", idea_id: null, lane: null, payload: {} }],
      next: after + 1,
      done: true,
    })),
    runs: vi.fn(async () => [{ run_id: "r1", status: "running", started_at: 1 }]),
    follow: vi.fn(async () => "r1"),
  };
}

describe("backoffDelay", () => {
  it("doubles, caps and jitters ±25 %", () => {
    expect(backoffDelay(0, 500, 10000, () => 0.5)).toBe(500);
    expect(backoffDelay(3, 500, 10000, () => 0.5)).toBe(4000);
    expect(backoffDelay(10, 500, 10000, () => 0.5)).toBe(10000);
    expect(backoffDelay(0, 500, 10000, () => 0)).toBe(375);
    expect(backoffDelay(0, 500, 10000, () => 1)).toBe(625);
  });
});

describe("LiveStream", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.all = [];
  });
  afterEach(() => vi.useRealTimers());

  it("connects, tracks the cursor, reconnects with backoff and resumes after the cursor", async () => {
    const got: StreamMessage[] = [];
    const states: string[] = [];
    const api = makeApi();
    const s = new LiveStream({
      wsBase: "ws://h",
      target: { kind: "run", runId: "r1" },
      api,
      socket: (u) => new FakeSocket(u),
      onMessage: (m) => got.push(m),
      onState: (st) => states.push(st),
      rng: () => 0.5,
      pollMs: 1000,
    });
    s.start();
    expect(FakeSocket.all[0]!.url).toBe("ws://h/api/runs/r1/stream?after=0");
    FakeSocket.all[0]!.open();
    FakeSocket.all[0]!.send({ type: "snapshot", cursor: 42, status: status(42), events: [] });
    expect(s.cursor).toBe(42);
    expect(states.at(-1)).toBe("live");

    FakeSocket.all[0]!.drop();
    expect(s.state).toBe("polling");
    await vi.advanceTimersByTimeAsync(0);
    expect(api.eventsPage).toHaveBeenCalledWith("r1", 42, 500);
    expect(got.at(-1)).toMatchObject({ type: "update", cursor: 43 });

    await vi.advanceTimersByTimeAsync(500); // first backoff step
    expect(FakeSocket.all).toHaveLength(2);
    expect(FakeSocket.all[1]!.url).toBe("ws://h/api/runs/r1/stream?after=43");
    FakeSocket.all[1]!.drop(); // still down: next delay doubles
    await vi.advanceTimersByTimeAsync(999);
    expect(FakeSocket.all).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(2);
    expect(FakeSocket.all).toHaveLength(3);
    FakeSocket.all[2]!.open();
    expect(s.state).toBe("live");
    const polls = api.eventsPage.mock.calls.length;
    await vi.advanceTimersByTimeAsync(5000);
    expect(api.eventsPage.mock.calls.length).toBe(polls); // polling stopped
    s.stop();
    expect(FakeSocket.all[2]!.closed).toBe(true);
  });

  it("follows the latest run and restarts its cursor on a run switch", () => {
    const got: StreamMessage[] = [];
    const s = new LiveStream({
      wsBase: "ws://h",
      target: { kind: "latest" },
      api: makeApi(),
      socket: (u) => new FakeSocket(u),
      onMessage: (m) => got.push(m),
    });
    s.start();
    const ws = FakeSocket.all[0]!;
    expect(ws.url).toBe("ws://h/api/stream/latest?after=0");
    ws.open();
    ws.send({ type: "snapshot", cursor: 9, status: status(9), events: [] });
    ws.send({ type: "run", run_id: "r2" });
    expect(s.runId).toBe("r2");
    expect(s.cursor).toBe(0);
    ws.onmessage?.({ data: "not json" });
    expect(got).toHaveLength(2);
    s.stop();
  });
});
