import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { keys } from "../api/hooks";
import { isTerminal, type SessionSummary } from "../api/types";

/**
 * Everything shown of a session (its records, indicators and candles) is read again once when
 * the page sees it end, however the news came (a state event, a pushed summary, a poll): its
 * last records were committed just before, and a page opened while a backtest ran otherwise
 * kept the fills, trades, equity and bars of its last refresh.
 */
export function useRefreshOnEnd(sessionId: string, state: SessionSummary["state"] | undefined) {
  const client = useQueryClient();
  const sawRunning = useRef(false);
  useEffect(() => {
    if (state === undefined) return;
    if (!isTerminal(state)) {
      sawRunning.current = true;
      return;
    }
    if (!sawRunning.current) return;
    sawRunning.current = false;
    void client.invalidateQueries({ queryKey: keys.session(sessionId) });
    void client.invalidateQueries({ queryKey: ["candles"] });
  }, [client, sessionId, state]);
}
