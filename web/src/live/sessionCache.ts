import type { QueryClient } from "@tanstack/react-query";
import { keys } from "../api/hooks";
import type { SessionList, SessionSummary } from "../api/types";

/**
 * A pushed `session` message carries the session's summary (state, progress, counters, metrics):
 * it goes straight into the cached detail and lists, no request needed. Returns whether a list
 * must be re-read: a session no cached list holds yet, or one whose state changed (lists are
 * filtered and sorted by it).
 */
export function applySessionSummary(client: QueryClient, summary: SessionSummary): boolean {
  const id = summary.session_id;
  client.setQueryData<SessionSummary>(keys.session(id), (old) => (old ? { ...old, ...summary } : old));
  let seen = false;
  let stateChanged = false;
  client.setQueriesData<SessionList>({ queryKey: keys.sessions() }, (old) => {
    if (!old?.sessions) return old;
    const index = old.sessions.findIndex((s) => s.session_id === id);
    if (index < 0) return old;
    seen = true;
    if (old.sessions[index].state !== summary.state) stateChanged = true;
    const sessions = old.sessions.slice();
    sessions[index] = { ...sessions[index], ...summary };
    return { ...old, sessions };
  });
  return !seen || stateChanged;
}
