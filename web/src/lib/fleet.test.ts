import { describe, expect, it } from "vitest";
import { FleetStream } from "./fleet";
import type { LiveStatus } from "./api-types";
import type { SocketLike } from "./stream";

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
}

const idle: LiveStatus = { run_id: "live", status: "idle", as_of: 1, cursor: 7, runs: [] };

describe("FleetStream", () => {
  it("follows /api/stream/live, passes live frames on, polls REST and reconnects when the socket drops", async () => {
    FakeSocket.all = [];
    const got: LiveStatus[] = [];
    const states: string[] = [];
    const pending: (() => void)[] = [];
    const polled: string[] = [];
    const s = new FleetStream({
      wsBase: "ws://h",
      httpBase: "http://h",
      socket: (url) => new FakeSocket(url),
      get: async (url) => {
        polled.push(url);
        return { ...idle, cursor: 9 };
      },
      onStatus: (st) => got.push(st),
      onState: (st) => states.push(st),
      timers: { setTimeout: (fn) => pending.push(fn), clearTimeout: () => undefined },
    });
    s.start();
    const ws = FakeSocket.all[0]!;
    expect(ws.url).toBe("ws://h/api/stream/live");
    ws.onopen?.({});
    ws.onmessage?.({ data: JSON.stringify({ type: "live", status: idle }) });
    ws.onmessage?.({ data: "not json" });
    ws.onmessage?.({ data: JSON.stringify({ type: "update", status: idle }) });
    expect(got).toEqual([idle]);
    ws.onclose?.({});
    await Promise.resolve();
    await Promise.resolve();
    expect(polled).toEqual(["http://h/api/live/reactor_status"]);
    expect(got.at(-1)?.cursor).toBe(9);
    expect(states).toEqual(["connecting", "live", "polling"]);
    pending.shift()!();
    expect(FakeSocket.all).toHaveLength(2);
    s.stop();
    expect(FakeSocket.all[1]!.closed).toBe(true);
  });
});
