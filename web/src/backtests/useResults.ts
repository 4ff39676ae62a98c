import { useQueries, useQuery } from "@tanstack/react-query";
import { query, request } from "../api/client";
import { keys } from "../api/hooks";
import { isTerminal, type EventsPage, type SessionSummary } from "../api/types";

const TAIL = 50;

/** An ended session's final metrics: the `results` event the engine records at the end of the
 * tape (read from the tape's tail). Null while it runs or when the tape has none. */
async function fetchResults(session: SessionSummary): Promise<Record<string, unknown> | null> {
  const after = Math.max(0, session.last_seq - TAIL);
  const { data } = await request<EventsPage>(
    `/sessions/${session.session_id}/events${query({ after_seq: after, limit: TAIL })}`,
    { sessionId: session.session_id },
  );
  const results = data.events.filter((e) => e.kind === "results");
  return results.length ? results[results.length - 1].data : null;
}

const resultsQuery = (session: SessionSummary | undefined) => ({
  queryKey: [...keys.session(session?.session_id ?? ""), "results", session?.last_seq],
  enabled: Boolean(session && isTerminal(session.state)),
  queryFn: () => fetchResults(session!),
  staleTime: Infinity,
});

export function useResults(session: SessionSummary | undefined) {
  return useQuery(resultsQuery(session));
}

export function useManyResults(sessions: (SessionSummary | undefined)[]) {
  return useQueries({ queries: sessions.map(resultsQuery) });
}

/** What to show as a session's metrics: its final results once ended, else the live counters. */
export function metricsOf(session: SessionSummary | undefined, results: Record<string, unknown> | null | undefined): Record<string, unknown> {
  if (results) return results;
  if (!session) return {};
  return (session.metrics ?? (session.counters ?? {}).metrics ?? {}) as Record<string, unknown>;
}
