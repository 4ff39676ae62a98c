import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { keys } from "../api/hooks";
import type { SessionSummary } from "../api/types";
import { useLiveSocket } from "./LiveProvider";
import { applySessionSummary } from "./sessionCache";

/** Keep session lists fresh from the `sessions` topic: a pushed summary updates the cached lists
 * in place; only a new session or a state change re-reads them (at most once a second); a
 * reconnect refetches. */
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
    const unsubscribe = live.subscribe({ topic: "sessions" });
    const offMessage = live.onMessage((message) => {
      if (message.type === "resync") return refresh();
      if (message.type !== "session" || !message.data?.session_id) return;
      if (applySessionSummary(client, message.data as unknown as SessionSummary)) refresh();
    });
    const offOpen = live.onOpen((reconnected) => reconnected && refresh());
    return () => {
      if (timer) clearTimeout(timer);
      unsubscribe();
      offMessage();
      offOpen();
    };
  }, [live, client]);
}
