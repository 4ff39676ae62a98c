import { MantineProvider } from "@mantine/core";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, renderHook, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { keys } from "../api/hooks";
import type { SessionList, SessionSummary } from "../api/types";
import { useThrottled } from "../components/useThrottled";
import { FakeSocket } from "../test/fakeSocket";
import { LiveProvider } from "./LiveProvider";
import { BACKTEST_PACE_MS, updateEvery } from "./pace";
import { LiveSocket } from "./socket";
import { useSessionListUpdates } from "./useSessionListUpdates";
import { useSessionStream } from "./useSessionStream";

const summary = (mode: string, state: string, progress: number) =>
  ({ session_id: "exec_a", mode, state, progress: { done: progress } }) as unknown as SessionSummary;
const priceTick = (seq: number, price: number) => ({
  type: "tick",
  session_id: "exec_a",
  seq,
  kind: "price",
  data: { prices: { BTC_USDT: { price, ts: 1_600_000_000_000_000 + seq * 60_000_000 } } },
});

function wrapperFor(client: QueryClient) {
  const socket = new LiveSocket({ url: "ws://test/ws", createSocket: () => new FakeSocket() as unknown as WebSocket, backoffMs: () => 10 });
  return ({ children }: { children: ReactNode }) => (
    <MantineProvider>
      <QueryClientProvider client={client}>
        <LiveProvider socket={socket}>{children}</LiveProvider>
      </QueryClientProvider>
    </MantineProvider>
  );
}

function streamOf(mode: string) {
  vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify({ status: "events_listed", data: { session_id: "exec_a", events: [], last_seq: 0 } }))));
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  client.setQueryData(keys.session("exec_a"), summary(mode, "running", 0));
  const hook = renderHook(() => useSessionStream("exec_a"), { wrapper: wrapperFor(client) });
  act(() => FakeSocket.last.open());
  return { ...hook, client };
}

describe("pace", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it("paces only a backtest that has not ended", () => {
    expect(updateEvery(summary("backtest", "running", 0))).toBe(BACKTEST_PACE_MS);
    expect(updateEvery(summary("backtest", "starting", 0))).toBe(BACKTEST_PACE_MS);
    expect(updateEvery(summary("backtest", "completed", 0))).toBe(0);
    expect(updateEvery(summary("paper", "running", 0))).toBe(0);
    expect(updateEvery(undefined)).toBe(0);
  });

  it("takes in a running backtest's ticks together, once a second, none lost", async () => {
    const { result } = streamOf("backtest");
    act(() => [1, 2, 3].forEach((seq) => FakeSocket.last.push(priceTick(seq, 100 + seq))));
    expect(result.current.prices.BTC_USDT).toBeUndefined(); // held, not one render each
    await waitFor(() => expect(result.current.prices.BTC_USDT?.price).toBe(103), { timeout: 2 * BACKTEST_PACE_MS });
    expect(result.current.ticks.BTC_USDT.map((t) => t.price)).toEqual([101, 102, 103]);
  });

  it("takes in a paper session's ticks as they come", () => {
    const { result } = streamOf("paper");
    act(() => FakeSocket.last.push(priceTick(1, 101)));
    expect(result.current.prices.BTC_USDT?.price).toBe(101);
  });

  it("shows a running backtest's newest progress once a second, and its end at once", async () => {
    const { client } = streamOf("backtest");
    act(() => [1, 2, 3].forEach((n) => FakeSocket.last.push({ type: "session", data: summary("backtest", "running", n) })));
    expect(client.getQueryData<SessionSummary>(keys.session("exec_a"))?.progress).toEqual({ done: 0 });
    await waitFor(() => expect(client.getQueryData<SessionSummary>(keys.session("exec_a"))?.progress).toEqual({ done: 3 }), { timeout: 2 * BACKTEST_PACE_MS });
    act(() => FakeSocket.last.push({ type: "session", data: summary("backtest", "completed", 4) }));
    expect(client.getQueryData<SessionSummary>(keys.session("exec_a"))?.state).toBe("completed");
  });

  it("updates a session list with a running backtest's newest progress once a second, its end at once", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify({ status: "ok", data: { sessions: [] } }))));
    const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    const listKey = [...keys.sessions(), { limit: 20 }];
    client.setQueryData<SessionList>(listKey, { sessions: [summary("backtest", "running", 0)] } as SessionList);
    renderHook(() => useSessionListUpdates(), { wrapper: wrapperFor(client) });
    act(() => FakeSocket.last.open());
    const listed = () => client.getQueryData<SessionList>(listKey)?.sessions[0];
    act(() => [1, 2].forEach((n) => FakeSocket.last.push({ type: "session", data: summary("backtest", "running", n) })));
    expect(listed()?.progress).toEqual({ done: 0 });
    await waitFor(() => expect(listed()?.progress).toEqual({ done: 2 }), { timeout: 2 * BACKTEST_PACE_MS });
    act(() => FakeSocket.last.push({ type: "session", data: summary("backtest", "completed", 3) }));
    expect(listed()?.state).toBe("completed");
  });
});

describe("useThrottled", () => {
  afterEach(() => vi.useRealTimers());

  it("shows at most one change per wait, the newest, at the wait's end", () => {
    vi.useFakeTimers();
    vi.setSystemTime(10_000);
    const { result, rerender } = renderHook(({ value, every }) => useThrottled(value, every), { initialProps: { value: 1, every: 1000 } });
    act(() => void vi.advanceTimersByTime(0));
    expect(result.current).toBe(1);
    rerender({ value: 2, every: 1000 });
    rerender({ value: 3, every: 1000 });
    expect(result.current).toBe(1);
    act(() => void vi.advanceTimersByTime(999));
    expect(result.current).toBe(1);
    act(() => void vi.advanceTimersByTime(1));
    expect(result.current).toBe(3); // 2 was skipped
    rerender({ value: 4, every: 0 }); // no wait: at once
    expect(result.current).toBe(4);
  });

  it("is not postponed by a steady stream of changes", () => {
    vi.useFakeTimers();
    vi.setSystemTime(10_000);
    const { result, rerender } = renderHook(({ value }) => useThrottled(value, 1000), { initialProps: { value: 0 } });
    act(() => void vi.advanceTimersByTime(0));
    for (let value = 1; value <= 10; value += 1) {
      rerender({ value });
      act(() => void vi.advanceTimersByTime(300));
    }
    // 3 s of changes every 300 ms: shown at least twice since, the newest within a second
    expect(result.current).toBeGreaterThanOrEqual(7);
  });
});

describe("a held summary", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("never takes a session back from its end", async () => {
    const { client } = streamOf("backtest");
    act(() => FakeSocket.last.push({ type: "session", data: summary("backtest", "running", 5) })); // held
    // meanwhile the page reads the session again and finds it ended (its end came by HTTP)
    act(() => {
      client.setQueryData(keys.session("exec_a"), summary("backtest", "completed", 9));
    });
    await new Promise((resolve) => setTimeout(resolve, BACKTEST_PACE_MS + 200)); // the held one is applied
    expect(client.getQueryData<SessionSummary>(keys.session("exec_a"))?.state).toBe("completed");
    expect(client.getQueryData<SessionSummary>(keys.session("exec_a"))?.progress).toEqual({ done: 9 });
  });
});
