import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { keys } from "../api/hooks";
import type { SessionSummary } from "../api/types";
import { useLiveSocket } from "./LiveProvider";
import { updateEvery } from "./pace";
import { applySessionSummary } from "./sessionCache";

/** Keep session lists fresh from the `sessions` topic: a pushed summary updates the cached lists
 * in place; only a new session or a state change re-reads them (at most once a second); a
 * reconnect refetches. A running backtest's progress is taken in once a second (live/pace.ts),
 * its newest summary each time; anything else at once, after what is held. */
export function useSessionListUpdates(): void {
  const live = useLiveSocket();
  const client = useQueryClient();
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const refresh = () => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        void client.invalidateQueries({ queryKey: keys.sessions() });
      }, 1000);
    };
    const held = new Map<string, SessionSummary>();
    let heldTimer: ReturnType<typeof setTimeout> | null = null;
    const apply = (summary: SessionSummary) => {
      if (applySessionSummary(client, summary)) refresh();
    };
    const flushHeld = () => {
      if (heldTimer) clearTimeout(heldTimer);
      heldTimer = null;
      const summaries = [...held.values()];
      held.clear();
      summaries.forEach(apply);
    };
    const unsubscribe = live.subscribe({ topic: "sessions" });
    const offMessage = live.onMessage((message) => {
      if (message.type === "resync") return refresh();
      if (message.type !== "session" || !message.data?.session_id) return;
      const summary = message.data as unknown as SessionSummary;
      const pace = updateEvery(summary);
      if (pace > 0) {
        held.set(summary.session_id, summary);
        if (!heldTimer) heldTimer = setTimeout(flushHeld, pace);
        return;
      }
      flushHeld();
      apply(summary);
    });
    const offOpen = live.onOpen((reconnected) => reconnected && refresh());
    return () => {
      if (timer) clearTimeout(timer);
      if (heldTimer) clearTimeout(heldTimer);
      unsubscribe();
      offMessage();
      offOpen();
    };
  }, [live, client]);
}
