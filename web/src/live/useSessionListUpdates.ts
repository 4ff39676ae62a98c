import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { keys } from "../api/hooks";
import { useLiveSocket } from "./LiveProvider";

/** Keep session lists fresh: the `sessions` topic says when one changed; a reconnect refetches. */
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
      }, 250);
    };
    const unsubscribe = live.subscribe({ topic: "sessions" });
    const offMessage = live.onMessage((message) => {
      if (message.type === "resync") return refresh();
      if (message.type !== "session") return;
      const id = message.data?.session_id;
      if (id) void client.invalidateQueries({ queryKey: keys.session(id), exact: true });
      refresh();
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
