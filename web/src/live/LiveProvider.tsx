import { createContext, useCallback, useContext, useEffect, useState, useSyncExternalStore, type ReactNode } from "react";
import { defaultSocketUrl, LiveSocket, type ConnectionInfo } from "./socket";

const LiveContext = createContext<LiveSocket | null>(null);

/** Owns the tab's single websocket. */
export function LiveProvider({ children, socket }: { children: ReactNode; socket?: LiveSocket }) {
  const [live] = useState(() => socket ?? new LiveSocket({ url: defaultSocketUrl() }));
  useEffect(() => {
    live.start();
    return () => live.stop();
  }, [live]);
  return <LiveContext.Provider value={live}>{children}</LiveContext.Provider>;
}

export function useLiveSocket(): LiveSocket {
  const live = useContext(LiveContext);
  if (!live) throw new Error("useLiveSocket needs a <LiveProvider>");
  return live;
}

export function useConnection(): ConnectionInfo {
  const live = useLiveSocket();
  const subscribe = useCallback((changed: () => void) => live.onStatus(changed), [live]);
  return useSyncExternalStore(subscribe, () => live.connection);
}
