import type { SessionSummary } from "../api/types";

/** The page a session opens on: a sweep's trials and heatmap, every other session's own page
 * (a sweep has no prices, orders or equity for the trading page to show). */
export function sessionPath(session: Pick<SessionSummary, "session_id" | "mode">): string {
  return session.mode === "sweep" ? `/sweeps/${session.session_id}` : `/sessions/${session.session_id}`;
}
