import type { QueryClient } from "@tanstack/react-query";
import { keys } from "../api/hooks";
import { isTerminal, type SessionList, type SessionSummary } from "../api/types";

/**
 * A pushed `session` message carries the session's summary (state, progress, counters, metrics):
 * it goes straight into the cached detail and lists, no request needed. Returns whether a list
 * must be re-read: a session no cached list holds yet, or one whose state changed (lists are
 * filtered and sorted by it).
 */
export function applySessionSummary(client: QueryClient, summary: SessionSummary): boolean {
  const id = summary.session_id;
  client.setQueryData<SessionSummary>(keys.session(id), (old) => (old && !olderThan(summary, old) ? { ...old, ...summary } : old));
  let seen = false;
  let stateChanged = false;
  client.setQueriesData<SessionList>({ queryKey: keys.sessions() }, (old) => {
    if (!old?.sessions) return old;
    const index = old.sessions.findIndex((s) => s.session_id === id);
    if (index < 0) return old;
    seen = true;
    if (olderThan(summary, old.sessions[index])) return old;
    if (old.sessions[index].state !== summary.state) stateChanged = true;
    const sessions = old.sessions.slice();
    sessions[index] = { ...sessions[index], ...summary };
    return { ...old, sessions };
  });
  return !seen || stateChanged;
}

/** Whether `summary` describes the session as it was before `held` does: not ended when `held`
 * has (a session never leaves its end). A summary held back for a while (a paced backtest's
 * progress, live/pace.ts) may be applied after the session's end was read: it must not take
 * the page back to "running", where nothing would ever correct it. */
export function olderThan(summary: SessionSummary, held: SessionSummary): boolean {
  return isTerminal(held.state) && !isTerminal(summary.state);
}
