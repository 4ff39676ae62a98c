import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LiveSocket } from "./socket";

/** A WebSocket stand-in the test opens, feeds and closes by hand. */
class FakeSocket {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: ((e: { code: number; reason: string }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(text: string) {
    this.sent.push(JSON.parse(text));
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  receive(message: object) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code, reason: "" });
  }
}

function make() {
  const live = new LiveSocket({
    url: "ws://test/ws",
    createSocket: (url) => new FakeSocket(url) as unknown as WebSocket,
    backoffMs: (attempt) => 1000 * (attempt + 1),
    silenceTimeoutMs: 25_000,
    pingIntervalMs: 10_000,
  });
  live.start();
  return live;
}

describe("LiveSocket", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.all = [];
  });
  afterEach(() => vi.useRealTimers());

  it("uses one socket for every subscription and subscribes once per topic", () => {
    const live = make();
    live.subscribe({ topic: "sessions" });
    live.subscribe({ topic: "sessions" });
    live.subscribe({ topic: "session", session_id: "exec_a" }, () => 7);
    live.subscribe({ topic: "session", session_id: "exec_b" }, () => 0);
    FakeSocket.all[0].open();
    expect(FakeSocket.all).toHaveLength(1);
    expect(FakeSocket.all[0].sent).toEqual([
      { action: "subscribe", topic: "sessions" },
      { action: "subscribe", topic: "session", session_id: "exec_a", after_seq: 7 },
      { action: "subscribe", topic: "session", session_id: "exec_b" },
    ]);
  });

  it("unsubscribes only when the last subscriber leaves", () => {
    const live = make();
    FakeSocket.all[0].open();
    const a = live.subscribe({ topic: "sessions" });
    const b = live.subscribe({ topic: "sessions" });
    a();
    expect(FakeSocket.all[0].sent.filter((m) => m.action === "unsubscribe")).toHaveLength(0);
    b();
    expect(FakeSocket.all[0].sent.at(-1)).toEqual({ action: "unsubscribe", topic: "sessions" });
  });

  it("reports a lost connection, reconnects with backoff and resubscribes from the latest seq", () => {
    const live = make();
    let seq = 3;
    live.subscribe({ topic: "session", session_id: "exec_a" }, () => seq);
    const reopened: boolean[] = [];
    live.onOpen((again) => reopened.push(again));
    FakeSocket.all[0].open();
    expect(live.connection.status).toBe("open");

    FakeSocket.all[0].drop();
    expect(live.connection.status).toBe("reconnecting");
    expect(live.connection.retryInMs).toBe(1000);
    seq = 9;
    vi.advanceTimersByTime(1000);
    expect(FakeSocket.all).toHaveLength(2);
    FakeSocket.all[1].drop(); // the server is still down: the next wait is longer
    expect(live.connection.retryInMs).toBe(2000);
    vi.advanceTimersByTime(2000);
    FakeSocket.all[2].open();
    expect(live.connection.status).toBe("open");
    expect(reopened).toEqual([false, true]);
    expect(FakeSocket.all[2].sent).toContainEqual({ action: "subscribe", topic: "session", session_id: "exec_a", after_seq: 9 });
  });

  it("treats a silent server (no heartbeat) as disconnected", () => {
    const live = make();
    FakeSocket.all[0].open();
    vi.advanceTimersByTime(10_000);
    FakeSocket.all[0].receive({ type: "heartbeat", ts: 1 });
    vi.advanceTimersByTime(20_000);
    expect(live.connection.status).toBe("open");
    vi.advanceTimersByTime(10_000);
    expect(live.connection.status).toBe("reconnecting");
    expect(live.connection.lastError).toMatch(/no heartbeat/);
  });

  it("pings while connected and passes other messages to listeners", () => {
    const live = make();
    const got: unknown[] = [];
    live.onMessage((m) => got.push(m));
    FakeSocket.all[0].open();
    vi.advanceTimersByTime(10_000);
    expect(FakeSocket.all[0].sent).toContainEqual({ action: "ping" });
    FakeSocket.all[0].receive({ type: "pong" });
    FakeSocket.all[0].receive({ type: "event", session_id: "exec_a", seq: 1, ts: 0, kind: "state", data: {} });
    expect(got).toEqual([{ type: "event", session_id: "exec_a", seq: 1, ts: 0, kind: "state", data: {} }]);
  });
});
