import { useCallback, useEffect, useRef, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { query, request } from "../api/client";
import { keys, type RecordKind } from "../api/hooks";
import { pickList } from "../api/shape";
import { asNumber, toMillis } from "../format";
import { emptyLog, mergeEvents, tickShowsGap, type EventLog, type TapeEvent } from "./eventLog";
import { useLiveSocket } from "./LiveProvider";
import type { ServerMessage } from "./protocol";

export interface LivePrice {
  symbol: string;
  price: number;
  timeMs: number | null;
  receivedAt: number;
}

export interface EquityTick {
  timeSec: number;
  equity: number;
}

export interface SessionStream {
  log: EventLog;
  /** Latest price per symbol, from the session's price ticks. */
  prices: Record<string, LivePrice>;
  /** Price ticks per symbol since this page opened (market time, ms), oldest first. */
  ticks: Record<string, PriceTick[]>;
  equityTicks: EquityTick[];
  catchUps: number;
  catchUpError: string | null;
}

const MAX_TICKS = 20_000;

export interface PriceTick {
  timeMs: number;
  price: number;
}
const RECORD_KINDS: Record<string, RecordKind[]> = {
  order: ["orders"],
  fill: ["fills", "orders", "positions", "equity", "trades"],
  position: ["positions"],
  equity: ["equity"],
  state: ["orders", "fills", "positions", "equity", "trades"],
  results: ["positions", "equity", "trades"],
};

/**
 * A session's live view: its tape (HTTP catch-up + socket events, each once, in seq order),
 * its latest price and candles built from price ticks, and equity ticks. Queries for the
 * session's records are refreshed when events say they changed.
 */
export function useSessionStream(sessionId: string): SessionStream {
  const live = useLiveSocket();
  const client = useQueryClient();
  const logRef = useRef<EventLog>(emptyLog);
  const [log, setLog] = useState<EventLog>(emptyLog);
  const [prices, setPrices] = useState<Record<string, LivePrice>>({});
  const [ticks, setTicks] = useState<Record<string, PriceTick[]>>({});
  const [equityTicks, setEquityTicks] = useState<EquityTick[]>([]);
  const [catchUps, setCatchUps] = useState(0);
  const [catchUpError, setCatchUpError] = useState<string | null>(null);
  const inFlight = useRef<Promise<void> | null>(null);
  const again = useRef(false);

  const accept = useCallback(
    (events: TapeEvent[]) => {
      const before = logRef.current;
      const after = mergeEvents(before, events);
      if (after === before) return after;
      logRef.current = after;
      setLog(after);
      const fresh = events.filter((e) => !before.events.some((b) => b.seq === e.seq));
      refreshFor(fresh);
      return after;
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [sessionId],
  );

  function refreshFor(events: TapeEvent[]) {
    const kinds = new Set<RecordKind>();
    for (const event of events) {
      if (event.kind === "state" || event.kind === "results") {
        // A state change (above all the end) and the final results change everything shown.
        client.invalidateQueries({ queryKey: keys.session(sessionId) });
        client.invalidateQueries({ queryKey: keys.sessions() });
      }
      for (const kind of RECORD_KINDS[event.kind] ?? []) kinds.add(kind);
    }
    for (const kind of kinds) client.invalidateQueries({ queryKey: keys.records(sessionId, kind) });
    if (kinds.size > 0) client.invalidateQueries({ queryKey: keys.session(sessionId), exact: true });
  }

  const catchUp = useCallback((): Promise<void> => {
    if (inFlight.current) {
      again.current = true;
      return inFlight.current;
    }
    const run = async () => {
      try {
        for (let page = 0; page < 1000; page += 1) {
          const after = logRef.current.lastSeq;
          const { data } = await request<unknown>(
            `/sessions/${sessionId}/events${query({ after_seq: after, limit: 5000 })}`,
            { sessionId },
          );
          const events = pickList<TapeEvent>(data, "events");
          const merged = accept(events);
          const serverLast = (data as { last_seq?: number } | null)?.last_seq;
          // Done when the server has nothing newer, or this page added nothing.
          if (events.length === 0 || merged.lastSeq === after) break;
          if (typeof serverLast === "number" && merged.lastSeq >= serverLast) break;
        }
        setCatchUpError(null);
        setCatchUps((n) => n + 1);
      } catch (error) {
        setCatchUpError((error as Error).message);
      }
    };
    inFlight.current = run().finally(() => {
      inFlight.current = null;
      if (again.current) {
        again.current = false;
        void catchUp();
      }
    });
    return inFlight.current;
  }, [sessionId, accept]);

  useEffect(() => {
    logRef.current = emptyLog;
    setLog(emptyLog);
    setPrices({});
    setTicks({});
    setEquityTicks([]);
    void catchUp();
    const unsubscribe = live.subscribe(
      { topic: "session", session_id: sessionId },
      () => logRef.current.lastSeq,
    );
    const offOpen = live.onOpen((reconnected) => {
      if (reconnected) {
        void catchUp();
        client.invalidateQueries({ queryKey: keys.session(sessionId) });
      }
    });
    const offMessage = live.onMessage((message: ServerMessage) => {
      if (message.type === "event" && message.session_id === sessionId) {
        const merged = accept([message]);
        if (merged.gap) void catchUp();
      } else if (message.type === "subscribed" && message.session_id === sessionId) {
        if ((message.last_seq ?? 0) > logRef.current.lastSeq) void catchUp();
      } else if (message.type === "resync" && (!message.session_id || message.session_id === sessionId)) {
        void catchUp();
      } else if (message.type === "tick" && message.session_id === sessionId) {
        if (tickShowsGap(logRef.current, message.seq)) void catchUp();
        if (message.kind === "price") onPrice(message.data);
        if (message.kind === "equity") onEquity(message.data);
      }
    });
    return () => {
      unsubscribe();
      offOpen();
      offMessage();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [sessionId, live]);

  function onPrice(data: Record<string, unknown>) {
    for (const [symbol, value, ts] of pricesIn(data)) {
      const timeMs = toMillis(ts as number);
      setPrices((all) => ({ ...all, [symbol]: { symbol, price: value, timeMs, receivedAt: Date.now() } }));
      if (timeMs !== null) {
        setTicks((all) => ({
          ...all,
          [symbol]: [...(all[symbol] ?? []).slice(-MAX_TICKS), { timeMs, price: value }],
        }));
      }
    }
  }

  function onEquity(data: Record<string, unknown>) {
    const equity = asNumber(data.equity);
    const timeMs = toMillis((data.ts ?? data.timestamp) as number);
    if (equity === null || timeMs === null) return;
    setEquityTicks((ticks) => [...ticks.slice(-5000), { timeSec: Math.floor(timeMs / 1000), equity }]);
  }

  return { log, prices, ticks, equityTicks, catchUps, catchUpError };
}

/** `[symbol, price, ts]` from a price tick: `{"prices": {SYM: {price, ts}}}` or `{symbol, price, ts}`. */
export function pricesIn(data: Record<string, unknown>): [string, number, unknown][] {
  const out: [string, number, unknown][] = [];
  const map = data.prices;
  if (map && typeof map === "object") {
    for (const [symbol, entry] of Object.entries(map as Record<string, Record<string, unknown>>)) {
      const value = asNumber(entry?.price);
      if (value !== null) out.push([symbol, value, entry.ts]);
    }
  } else {
    const value = asNumber(data.price);
    if (value !== null) out.push([String(data.symbol ?? ""), value, data.ts ?? data.timestamp]);
  }
  return out;
}
