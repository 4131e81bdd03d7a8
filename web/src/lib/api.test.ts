import { describe, expect, it } from "vitest";
import { Api, normaliseEventsPage, normaliseRuns, wsBase } from "./api";

describe("api normalisation", () => {
  it("accepts a bare list or {runs} and sorts newest first", () => {
    const a = normaliseRuns([{ run_id: "a", status: "completed", started_at: 1 }, { run_id: "b", status: "running", started_at: 2 }, { nope: 1 }]);
    expect(a.map((r) => r.run_id)).toEqual(["b", "a"]);
    expect(normaliseRuns({ runs: [{ run_id: "x", status: "running" }] })[0]!.started_at).toBeNull();
  });

  it("pages events from a list or an envelope", () => {
    const ev = (id: number) => ({ id, run_id: "r", ts: id, name: "x", step: null, idea_id: null, lane: null, payload: {} });
    expect(normaliseEventsPage([ev(1), ev(2)], 0, 2)).toMatchObject({ next: 2, done: false });
    expect(normaliseEventsPage({ events: [ev(3)] }, 2, 10)).toMatchObject({ next: 3, done: true });
    expect(normaliseEventsPage({ events: [ev(3)], has_more: true }, 2, 10)).toMatchObject({ done: false });
    expect(normaliseEventsPage({ events: [] }, 5, 10)).toMatchObject({ next: 5, done: true });
  });

  it("pages through all events", async () => {
    const calls: string[] = [];
    const api = new Api("http://h", async (url) => {
      calls.push(url);
      const after = Number(new URL(url).searchParams.get("after"));
      const events = after < 2000 ? Array.from({ length: 1000 }, (_, i) => ({ id: after + i + 1 })) : [{ id: 2001 }];
      return { events };
    });
    const all = await api.allEvents("r 1");
    expect(all).toHaveLength(2001);
    expect(calls[0]).toBe("http://h/api/runs/r%201/events?after=0&limit=1000");
    expect(calls).toHaveLength(3);
  });

  it("derives the websocket origin", () => {
    expect(wsBase("https://h:1")).toBe("wss://h:1");
    expect(wsBase("", { protocol: "http:", host: "x:8" })).toBe("ws://x:8");
  });

  it("asks for a run's candidates and one candidate's detail by escaped ids", async () => {
    const calls: string[] = [];
    const api = new Api("http://h", async (url) => {
      calls.push(url);
      return url.endsWith("/candidates") ? { run_id: "r 1", candidates: [{ candidate_id: "c/1" }] } : { run_id: "r 1", candidate: {}, simulation: null };
    });
    expect((await api.candidates("r 1")).map((c) => c.candidate_id)).toEqual(["c/1"]);
    expect((await api.candidate("r 1", "c/1")).simulation).toBeNull();
    expect(calls).toEqual(["http://h/api/runs/r%201/candidates", "http://h/api/runs/r%201/candidates/c%2F1"]);
    const empty = new Api("", async () => ({}));
    expect(await empty.candidates("r")).toEqual([]);
  });
});
