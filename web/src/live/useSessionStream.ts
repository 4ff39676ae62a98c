import { useCallback, useEffect, useRef, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { query, request } from "../api/client";
import { keys, type RecordKind } from "../api/hooks";
import { isTerminal, type EventsPage, type SessionSummary } from "../api/types";
import { asNumber, toMillis } from "../format";
import { emptyLog, mergeEvents, tickShowsGap, type EventLog, type TapeEvent } from "./eventLog";
import { useLiveSocket } from "./LiveProvider";
import { updateEvery } from "./pace";
import type { ServerMessage, TickMessage } from "./protocol";
import { applySessionSummary } from "./sessionCache";

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
  /** The tape is not followed live (a running backtest's): read up to when it began not being
   * followed, and read again when the session ends. */
  deferred: boolean;
}

const MAX_TICKS = 20_000;
const MAX_EQUITY_TICKS = 5000;
const RECORD_REFRESH_MS = 1000;
/** A backtest replays months in seconds: its tables and curves are read again every few seconds,
 * which shows its progress, rather than every second, which only slows it down (it shares the
 * machine with the page and the server answering the page). */
const BACKTEST_RECORD_REFRESH_MS = 4000;
const RECORD_REFRESH_SHARE = 0.2;

/** How long to wait before re-reading a running session's records, given how long the last
 * read took: at least `floorMs`, and reading at most RECORD_REFRESH_SHARE of the time. */
export function recordRefreshDelay(lastReadMs: number, floorMs = RECORD_REFRESH_MS): number {
  return Math.max(floorMs, lastReadMs * (1 / RECORD_REFRESH_SHARE - 1));
}

/** The shortest wait between reads of a session's records, by what kind of session it is. */
export function recordRefreshFloor(mode: string | undefined): number {
  return mode === "backtest" || mode === "sweep" ? BACKTEST_RECORD_REFRESH_MS : RECORD_REFRESH_MS;
}
const EVENT_BATCH_MS = 100;

export interface PriceTick {
  timeMs: number;
  price: number;
}
const RECORD_KINDS: Record<string, RecordKind[]> = {
  order: ["orders"],
  fill: ["fills", "orders", "positions", "equity", "trades"],
  position: ["positions"],
  equity: ["equity"],
  funding: ["funding", "equity"],
};
/** Every record an event can make stale: what a quiet page (no events) reads again. */
const TRADING_RECORDS = [...new Set(Object.values(RECORD_KINDS).flat())];

export interface EventRefresh {
  /** Read again the session's summary and the session list (a state change, its results). */
  summary: boolean;
  /** The records to read again on the next scheduled refresh. */
  records: Set<RecordKind>;
}

/** What new events make stale. A state change (starting → running → stopping → its end) and the
 * results change the summary only: no state before the end changes a record, and once the summary
 * says the session ended, `useRefreshOnEnd` reads everything again, once (reading the records here
 * too read each of them three or four times at every end). */
export function refreshFor(events: readonly TapeEvent[]): EventRefresh {
  const refresh: EventRefresh = { summary: false, records: new Set() };
  for (const event of events) {
    if (event.kind === "state" || event.kind === "results") refresh.summary = true;
    for (const kind of RECORD_KINDS[event.kind] ?? []) refresh.records.add(kind);
  }
  return refresh;
}

/**
 * A session's live view: its tape (HTTP catch-up + socket events, each once, in seq order),
 * its latest price and candles built from price ticks, and equity ticks. Queries for the
 * session's records are refreshed when events say they changed.
 */
export function useSessionStream(sessionId: string, quiet = false): SessionStream {
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
  const staleKinds = useRef(new Set<RecordKind>());
  const recordTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const lastRefreshMs = useRef(0);
  const again = useRef(false);
  const shown = useRef<string | null>(null); // the session whose view this holds

  function refresh(events: TapeEvent[]) {
    const stale = refreshFor(events);
    if (stale.summary) {
      void client.invalidateQueries({ queryKey: keys.session(sessionId), exact: true });
      void client.invalidateQueries({ queryKey: keys.sessions() });
    }
    for (const kind of stale.records) staleKinds.current.add(kind);
    scheduleRecordRefresh();
  }

  // A busy session records thousands of orders and fills a second: its records are re-read at
  // most once a second, not once per event, and never more often than RECORD_REFRESH_SHARE of
  // the time allows (a big record that takes 0.5 s to read is read every 2.5 s): the page's
  // reading, and the server's answering it, stay a small share of the machine a backtest runs on.
  function scheduleRecordRefresh() {
    if (staleKinds.current.size === 0 || recordTimer.current) return;
    recordTimer.current = setTimeout(() => {
      const kinds = [...staleKinds.current].filter((kind) => !readSinceEnd(kind));
      staleKinds.current.clear();
      const began = performance.now();
      void Promise.all(kinds.map((kind) => client.invalidateQueries({ queryKey: keys.records(sessionId, kind) }))).finally(() => {
        lastRefreshMs.current = performance.now() - began;
        recordTimer.current = null;
        scheduleRecordRefresh();
      });
    }, recordRefreshDelay(lastRefreshMs.current, recordRefreshFloor(client.getQueryData<SessionSummary>(keys.session(sessionId))?.mode)));
  }

  /** A record read (or being read) since the page learnt that the session ended holds every
   * row it will ever have: the events that made it stale are older. Reading it again doubled
   * the megabytes of fills, equity and trades an ended backtest's page reads. */
  function readSinceEnd(kind: RecordKind): boolean {
    const summary = client.getQueryState<SessionSummary>(keys.session(sessionId));
    if (!summary?.data || !isTerminal(summary.data.state)) return false;
    const record = client.getQueryState(keys.records(sessionId, kind));
    if (!record || record.isInvalidated) return false;
    return record.fetchStatus === "fetching" || record.dataUpdatedAt >= summary.dataUpdatedAt;
  }

  const accept = useCallback(
    (events: TapeEvent[]) => {
      const before = logRef.current;
      const after = mergeEvents(before, events);
      if (after === before) return after;
      logRef.current = after;
      setLog(after);
      const held = before.gap ? new Set(before.events.map((e) => e.seq)) : null;
      const fresh = events.filter((e) => (held ? !held.has(e.seq) : e.seq > before.lastSeq));
      refresh(fresh);
      return after;
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [sessionId],
  );

  const catchUp = useCallback((): Promise<void> => {
    if (inFlight.current) {
      again.current = true;
      return inFlight.current;
    }
    const run = async () => {
      try {
        for (let page = 0; page < 1000; page += 1) {
          const after = logRef.current.lastSeq;
          const { data } = await request<EventsPage>(
            `/sessions/${sessionId}/events${query({ after_seq: after, limit: 5000 })}`,
            { sessionId },
          );
          const events: TapeEvent[] = data.events;
          const merged = accept(events);
          const serverLast = data.last_seq;
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
    const runUntilCaughtUp = async () => {
      do {
        again.current = false; // asked again while running: one more pass
        await run();
      } while (again.current);
    };
    inFlight.current = runUntilCaughtUp().finally(() => {
      inFlight.current = null;
    });
    return inFlight.current;
  }, [sessionId, accept]);

  /** Price and equity ticks, taken in together: one state update each, however many came. */
  function takeTicks(ticks: TickMessage[]) {
    if (!quiet && ticks.some((tick) => tickShowsGap(logRef.current, tick.seq))) void catchUp();
    const prices: LivePrice[] = [];
    const equity: EquityTick[] = [];
    for (const tick of ticks) {
      if (tick.kind === "price") {
        for (const [symbol, value, ts] of pricesIn(tick.data)) prices.push({ symbol, price: value, timeMs: toMillis(ts as number), receivedAt: Date.now() });
      } else if (tick.kind === "equity") {
        const point = equityIn(tick.data);
        if (point) equity.push(point);
      }
    }
    if (prices.length > 0) {
      setPrices((all) => ({ ...all, ...Object.fromEntries(prices.map((p) => [p.symbol, p])) }));
      const added: Record<string, PriceTick[]> = {};
      for (const p of prices) if (p.timeMs !== null) (added[p.symbol] ??= []).push({ timeMs: p.timeMs, price: p.price });
      setTicks((all) => ({
        ...all,
        ...Object.fromEntries(Object.entries(added).map(([symbol, fresh]) => [symbol, [...(all[symbol] ?? []), ...fresh].slice(-MAX_TICKS)])),
      }));
    }
    if (equity.length > 0) setEquityTicks((held) => [...held, ...equity].slice(-MAX_EQUITY_TICKS));
  }

  useEffect(() => {
    const stale = staleKinds.current; // one Set for the hook's life
    if (shown.current !== sessionId) {
      // Another session: start from an empty view, which the catch-up below fills.
      shown.current = sessionId;
      logRef.current = emptyLog;
      setLog(emptyLog);
      setPrices({});
      setTicks({});
      setEquityTicks([]);
    }
    // A running backtest records thousands of events a second, more than a page can show or
    // should parse (12 MB over the socket in a 3.5 s backtest of 180k bars): while it runs its
    // page takes in its summaries and ticks only, and its tape is read when it ends (quiet
    // turns false: what it recorded meanwhile is read then, once).
    if (!quiet || logRef.current.lastSeq === 0) void catchUp();
    // Back from quiet, the catch-up above reads what was recorded meanwhile: the socket is not
    // asked to replay it too (only a reconnect's subscription asks for what it missed).
    let replay = logRef.current.lastSeq === 0;
    const unsubscribe = quiet
      ? live.subscribe({ topic: "session", session_id: sessionId, events: false })
      : live.subscribe({ topic: "session", session_id: sessionId }, () => {
          const after = replay ? logRef.current.lastSeq : 0;
          replay = true;
          return after;
        });
    const offOpen = live.onOpen((reconnected) => {
      if (reconnected) {
        if (!quiet) void catchUp();
        void client.invalidateQueries({ queryKey: keys.session(sessionId) });
      }
    });
    // A busy session sends hundreds of events a second: they are taken in together, a few times
    // a second, not one render each; a running backtest's ticks and progress too, once a second
    // (live/pace.ts). Anything else first takes in what is held before it.
    let queued: TapeEvent[] = [];
    let heldTicks: TickMessage[] = [];
    let heldSummary: SessionSummary | null = null;
    let flushTimer: ReturnType<typeof setTimeout> | null = null;
    const pace = () => updateEvery(client.getQueryData<SessionSummary>(keys.session(sessionId)));
    const flush = () => {
      if (flushTimer) clearTimeout(flushTimer);
      flushTimer = null;
      const events = queued;
      const ticks = heldTicks;
      const summary = heldSummary;
      queued = [];
      heldTicks = [];
      heldSummary = null;
      if (events.length > 0 && accept(events).gap) void catchUp();
      if (summary) takeSummary(summary);
      if (ticks.length > 0) takeTicks(ticks);
    };
    // Quiet, no event says which records changed: a summary that counts new events marks them
    // all stale, read again at the backtest's record pace (as its fill events made them before).
    let summarySeq = logRef.current.lastSeq;
    const takeSummary = (summary: SessionSummary) => {
      applySessionSummary(client, summary);
      if (!quiet || summary.last_seq <= summarySeq) return;
      summarySeq = summary.last_seq;
      for (const kind of TRADING_RECORDS) staleKinds.current.add(kind);
      scheduleRecordRefresh();
    };
    const hold = () => {
      if (!flushTimer) flushTimer = setTimeout(flush, Math.max(EVENT_BATCH_MS, pace()));
    };
    const offMessage = live.onMessage((message: ServerMessage) => {
      if ((message.type === "event" || message.type === "events") && message.session_id === sessionId) {
        if (message.type === "events") queued.push(...message.events);
        else queued.push(message);
        return hold();
      }
      if (message.type === "tick" && message.session_id === sessionId && pace() > 0) {
        heldTicks.push(message);
        return hold();
      }
      const summary = message.type === "session" && message.data?.session_id === sessionId ? (message.data as unknown as SessionSummary) : null;
      if (summary && pace() > 0 && updateEvery(summary) > 0) {
        heldSummary = summary; // the newest progress is all a paced page shows
        return hold();
      }
      flush();
      if (message.type === "subscribed" && message.session_id === sessionId) {
        if (!quiet && (message.last_seq ?? 0) > logRef.current.lastSeq) void catchUp();
      } else if (message.type === "resync" && (!message.session_id || message.session_id === sessionId)) {
        void catchUp();
      } else if (summary) {
        takeSummary(summary);
      } else if (message.type === "tick" && message.session_id === sessionId) {
        takeTicks([message]);
      }
    });
    return () => {
      unsubscribe();
      offOpen();
      offMessage();
      if (flushTimer) clearTimeout(flushTimer);
      if (recordTimer.current) clearTimeout(recordTimer.current);
      recordTimer.current = null;
      // records the events made stale and this view had not read yet: marked stale for whoever
      // shows them next (a backtest's runs list, its comparison), which would otherwise take the
      // cached rows read before the session's last events for fresh
      for (const kind of stale) void client.invalidateQueries({ queryKey: keys.records(sessionId, kind) });
      stale.clear();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [sessionId, live, quiet]);

  return { log, prices, ticks, equityTicks, catchUps, catchUpError, deferred: quiet };
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

/** The equity point of an equity tick (`{equity, ts}`), if it has both. */
export function equityIn(data: Record<string, unknown>): EquityTick | null {
  const equity = asNumber(data.equity);
  const timeMs = toMillis((data.ts ?? data.timestamp) as number);
  return equity === null || timeMs === null ? null : { timeSec: Math.floor(timeMs / 1000), equity };
}
