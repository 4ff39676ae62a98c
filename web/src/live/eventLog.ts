/**
 * A session's tape as the browser holds it: events keyed by seq, each shown once, with gaps
 * detected so the holder can catch up over `GET /sessions/{id}/events?after_seq=`.
 */

export interface TapeEvent {
  seq: number;
  ts: number | string;
  kind: string;
  data: Record<string, unknown>;
}

export interface EventLog {
  events: TapeEvent[];
  /** Highest seq held with no gap below it. */
  lastSeq: number;
  /** True when something newer than lastSeq + 1 arrived: a catch-up is needed. */
  gap: boolean;
}

export const emptyLog: EventLog = { events: [], lastSeq: 0, gap: false };

/** Merge events (from HTTP or the socket) into the log; duplicates are dropped. */
export function mergeEvents(log: EventLog, incoming: readonly TapeEvent[]): EventLog {
  if (incoming.length === 0) return log;
  const fresh = incoming.filter((e) => e.seq > log.lastSeq);
  if (!log.gap && fresh.every((e, i) => e.seq === log.lastSeq + 1 + i)) {
    // The common case (the next events, in order): append without re-sorting the tape.
    if (fresh.length === 0) return log;
    return { events: [...log.events, ...fresh], lastSeq: fresh[fresh.length - 1].seq, gap: false };
  }
  const bySeq = new Map(log.events.map((e) => [e.seq, e]));
  let added = false;
  for (const event of incoming) {
    if (!bySeq.has(event.seq)) {
      bySeq.set(event.seq, event);
      added = true;
    }
  }
  if (!added) return log;
  const events = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  let lastSeq = log.lastSeq;
  for (const event of events) {
    if (event.seq <= lastSeq) continue;
    if (event.seq === lastSeq + 1) lastSeq = event.seq;
    else break;
  }
  const gap = events.length > 0 && events[events.length - 1].seq > lastSeq;
  return { events, lastSeq, gap };
}

/** A tick carries the session's latest seq: if it is ahead of what we hold, we missed events. */
export function tickShowsGap(log: EventLog, tickSeq: number | undefined): boolean {
  return typeof tickSeq === "number" && tickSeq > log.lastSeq;
}
