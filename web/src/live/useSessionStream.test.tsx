import { MantineProvider } from "@mantine/core";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, renderHook, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { keys } from "../api/hooks";
import { LiveProvider } from "./LiveProvider";
import { LiveSocket } from "./socket";
import { FakeSocket } from "../test/fakeSocket";
import { useSessionStream } from "./useSessionStream";

const ev = (seq: number) => ({ seq, ts: "2026-01-01T00:00:00Z", kind: "order", data: { n: seq } });

/** The server's tape for one session; GET /events answers from it like the real endpoint. */
function serveTape(tape: ReturnType<typeof ev>[]) {
  const calls: number[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: RequestInfo | URL) => {
      const url = new URL(String(input), "http://test");
      if (url.pathname.endsWith("/events")) {
        const after = Number(url.searchParams.get("after_seq") ?? 0);
        calls.push(after);
        const events = tape.filter((e) => e.seq > after);
        return new Response(JSON.stringify({ status: "events_listed", data: { session_id: "exec_a", events, last_seq: tape.length } }));
      }
      return new Response(JSON.stringify({ status: "ok", data: { items: [] } }));
    }),
  );
  return calls;
}

function setup(quiet = false) {
  const socket = new LiveSocket({ url: "ws://test/ws", createSocket: () => new FakeSocket() as unknown as WebSocket, backoffMs: () => 10 });
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const wrapper = ({ children }: { children: ReactNode }) => (
    <MantineProvider>
      <QueryClientProvider client={client}>
        <LiveProvider socket={socket}>{children}</LiveProvider>
      </QueryClientProvider>
    </MantineProvider>
  );
  return { ...renderHook(({ q }) => useSessionStream("exec_a", q), { wrapper, initialProps: { q: quiet } }), client };
}

const seqs = (result: { current: ReturnType<typeof useSessionStream> }) => result.current.log.events.map((e) => e.seq);

describe("useSessionStream", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("leaves the records its events made stale marked stale when it goes away before reading them", async () => {
    serveTape([ev(1)]); // an order event: the session's orders are stale
    const { result, client, unmount } = setup();
    client.setQueryData(keys.records("exec_a", "orders"), []); // read before the event
    act(() => FakeSocket.last.open());
    await waitFor(() => expect(seqs(result)).toEqual([1]));
    expect(client.getQueryState(keys.records("exec_a", "orders"))?.isInvalidated).toBe(false); // its read is scheduled
    unmount(); // e.g. the Backtests page moved on to the next run before the scheduled read
    expect(client.getQueryState(keys.records("exec_a", "orders"))?.isInvalidated).toBe(true);
  });

  it("shows each event once when HTTP catch-up and the socket both deliver it", async () => {
    const tape = [ev(1), ev(2), ev(3)];
    serveTape(tape);
    const { result } = setup();
    act(() => FakeSocket.last.open());
    await waitFor(() => expect(seqs(result)).toEqual([1, 2, 3]));
    act(() => {
      FakeSocket.last.push({ type: "event", session_id: "exec_a", ...ev(3) });
      FakeSocket.last.push({ type: "event", session_id: "exec_a", ...ev(4) });
      FakeSocket.last.push({ type: "event", session_id: "exec_other", ...ev(5) });
    });
    expect(seqs(result)).toEqual([1, 2, 3, 4]);
  });

  it("catches up over HTTP when the socket skips events or a tick is ahead", async () => {
    const tape = [ev(1), ev(2)];
    const calls = serveTape(tape);
    const { result } = setup();
    act(() => FakeSocket.last.open());
    await waitFor(() => expect(seqs(result)).toEqual([1, 2]));
    tape.push(ev(3), ev(4), ev(5));
    act(() => FakeSocket.last.push({ type: "event", session_id: "exec_a", ...ev(5) })); // 3 and 4 missed
    await waitFor(() => expect(seqs(result)).toEqual([1, 2, 3, 4, 5]));
    expect(result.current.log.gap).toBe(false);
    tape.push(ev(6));
    act(() => FakeSocket.last.push({ type: "tick", session_id: "exec_a", seq: 6, kind: "price", data: { prices: { BTC_USDT: { price: 10, ts: 1_600_000_000_000_000 } } } }));
    await waitFor(() => expect(seqs(result)).toEqual([1, 2, 3, 4, 5, 6]));
    expect(result.current.prices.BTC_USDT.price).toBe(10);
    expect(calls).toContain(5);
    expect(calls).not.toContain(6); // the answer's last_seq says there is nothing newer
  });

  it("after a reconnect, resubscribes from the last seq held and fetches what it missed", async () => {
    const tape = [ev(1)];
    const calls = serveTape(tape);
    const { result } = setup();
    act(() => FakeSocket.last.open());
    await waitFor(() => expect(seqs(result)).toEqual([1]));
    const first = FakeSocket.last;
    tape.push(ev(2), ev(3));
    act(() => first.onclose?.({ code: 1006, reason: "" }));
    await waitFor(() => expect(FakeSocket.last).not.toBe(first));
    act(() => FakeSocket.last.open());
    await waitFor(() => expect(seqs(result)).toEqual([1, 2, 3]));
    expect(FakeSocket.last.sent).toContainEqual({ action: "subscribe", topic: "session", session_id: "exec_a", after_seq: 1 });
    expect(calls).toContain(1);
  });

  it("does not read again a record read since the session ended; one read before the end it does", async () => {
    const fill = { ...ev(1), kind: "fill" }; // a fill makes fills, orders, positions, equity and trades stale
    serveTape([fill]);
    const { result, client } = setup();
    const ended = { session_id: "exec_a", mode: "paper", state: "completed" };
    client.setQueryData(keys.records("exec_a", "orders"), []); // read while the session ran
    await new Promise((resolve) => setTimeout(resolve, 5));
    client.setQueryData(keys.session("exec_a"), ended); // then the page learnt of its end
    client.setQueryData(keys.records("exec_a", "fills"), []); // and read the fills again
    act(() => FakeSocket.last.open());
    await waitFor(() => expect(seqs(result)).toEqual([1]));
    await waitFor(() => expect(client.getQueryState(keys.records("exec_a", "orders"))?.isInvalidated).toBe(true), { timeout: 3000 });
    expect(client.getQueryState(keys.records("exec_a", "fills"))?.isInvalidated).toBe(false);
  });

  it("quiet (a running backtest's page): no events pushed, no catch-up on ticks; at the end the rest is read once", async () => {
    const tape = [ev(1), ev(2)];
    const calls = serveTape(tape);
    const { result, rerender, client } = setup(true);
    act(() => FakeSocket.last.open());
    await waitFor(() => expect(seqs(result)).toEqual([1, 2])); // the tape so far, read once at open
    expect(FakeSocket.last.sent).toContainEqual({ action: "subscribe", topic: "session", session_id: "exec_a", events: false });
    expect(result.current.deferred).toBe(true);
    tape.push(ev(3), ev(4));
    act(() => FakeSocket.last.push({ type: "tick", session_id: "exec_a", seq: 4, kind: "price", data: { prices: { BTC_USDT: { price: 10, ts: 1_600_000_000_000_000 } } } }));
    await waitFor(() => expect(result.current.prices.BTC_USDT?.price).toBe(10));
    expect(calls).toEqual([0]); // the tick ahead of the tape read nothing
    // a summary that counts new events makes the records stale (no event says which)
    client.setQueryData(keys.records("exec_a", "equity"), []);
    act(() => FakeSocket.last.push({ type: "session", data: { session_id: "exec_a", mode: "paper", state: "running", last_seq: 4 } }));
    await waitFor(() => expect(client.getQueryState(keys.records("exec_a", "equity"))?.isInvalidated).toBe(true), { timeout: 3000 });
    rerender({ q: false }); // the backtest ended
    await waitFor(() => expect(seqs(result)).toEqual([1, 2, 3, 4]));
    expect(calls).toEqual([0, 2]); // what it recorded meanwhile, from where the tape stood
    expect(FakeSocket.last.sent).toContainEqual({ action: "unsubscribe", topic: "session", session_id: "exec_a", events: false });
    // the catch-up reads what was recorded meanwhile; the socket does not replay it as well
    expect(FakeSocket.last.sent.at(-1)).toEqual({ action: "subscribe", topic: "session", session_id: "exec_a" });
    expect(result.current.deferred).toBe(false);
  });
});
