import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useConnection } from "../live/LiveProvider";
import { query, request } from "./client";
import { isTerminal } from "./types";
import type {
  DatasetList,
  MarketList,
  OrderBody,
  PlacedOrder,
  RecordKind,
  RecordViews,
  SaveStrategyBody,
  SavedStrategy,
  StartSessionBody,
  SessionList,
  SessionPage,
  SessionSummary,
  StopAllResult,
  StopResult,
  StrategyInfo,
  StrategyList,
} from "./types";


export const keys = {
  sessions: (filters?: object) => (filters ? ["sessions", filters] : ["sessions"]) as unknown[],
  session: (id: string) => ["session", id] as unknown[],
  records: (id: string, kind: RecordKind) => ["session", id, kind] as unknown[],
  strategies: ["strategies"] as unknown[],
  datasets: ["datasets"] as unknown[],
  markets: (params: object) => ["markets", params] as unknown[],
};

export interface SessionFilters {
  state?: string;
  mode?: string;
  symbol?: string;
  limit: number;
  offset: number;
}

export function useSessions(filters: SessionFilters) {
  return useQuery({
    queryKey: keys.sessions(filters),
    queryFn: async ({ signal }): Promise<SessionList> => {
      const { data } = await request<SessionPage>(`/sessions${query({ ...filters })}`, { signal });
      return { sessions: data.sessions, total: data.total };
    },
    placeholderData: (previous) => previous,
  });
}

/** A session's detail. While the websocket is up, its progress and counters are pushed (see
 * `live/sessionCache.ts`); `pollMs` re-reads it only while the socket is down and the session
 * has not ended. */
export function useSession(sessionId: string, pollMs?: number) {
  const pushed = useConnection().status === "open";
  return useQuery<SessionSummary>({
    queryKey: keys.session(sessionId),
    refetchInterval: (q) => (pollMs && !pushed && !isTerminal((q.state.data as SessionSummary | undefined)?.state) ? pollMs : false),
    queryFn: async ({ signal }): Promise<SessionSummary> =>
      (await request<SessionSummary>(`/sessions/${sessionId}`, { signal })).data,
  });
}

export type { RecordKind } from "./types";

/** What the dashboard reads of each kind: of orders only the working ones (the pages show open
 * orders and their resting exits; a long backtest's record holds thousands of done orders, megabytes
 * the page would read again at every refresh). */
const RECORD_QUERY: Partial<Record<RecordKind, string>> = { orders: "?open=true" };

/** The rows of one kind of a session's trading record, oldest first. */
export async function fetchRecords<K extends RecordKind>(sessionId: string, kind: K, signal?: AbortSignal): Promise<RecordViews[K][]> {
  const { data } = await request<{ session_id: string; items: RecordViews[K][] }>(`/sessions/${sessionId}/${kind}${RECORD_QUERY[kind] ?? ""}`, { signal });
  return data.items;
}

export function useSessionRecords<K extends RecordKind>(sessionId: string, kind: K) {
  return useQuery({
    queryKey: keys.records(sessionId, kind),
    queryFn: ({ signal }) => fetchRecords(sessionId, kind, signal),
  });
}

export function useStrategies() {
  return useQuery({
    queryKey: keys.strategies,
    queryFn: async ({ signal }): Promise<StrategyInfo[]> =>
      (await request<StrategyList>("/strategies", { signal })).data.strategies,
  });
}

export function useDatasets() {
  return useQuery({
    queryKey: keys.datasets,
    queryFn: async ({ signal }) => (await request<DatasetList>("/datasets", { signal })).data.datasets,
  });
}

export function useMarkets(params: { exchange?: string; market_type?: string }, enabled: boolean) {
  return useQuery({
    queryKey: keys.markets(params),
    enabled,
    retry: false,
    queryFn: async ({ signal }) =>
      (await request<MarketList>(`/markets${query({ ...params, limit: 5000 })}`, { signal })).data.markets,
  });
}

export function useStartSession() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: StartSessionBody) =>
      request<SessionSummary>("/sessions/start", { method: "POST", body }),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.sessions() }),
  });
}

export function useStopSession() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (sessionId: string) =>
      request<StopResult>(`/sessions/${sessionId}/stop`, { method: "POST", sessionId }),
    onSuccess: (_result, sessionId) => {
      void client.invalidateQueries({ queryKey: keys.sessions() });
      void client.invalidateQueries({ queryKey: keys.session(sessionId) });
    },
  });
}

/** The emergency stop: every session that has not ended; answers once all have stopped. */
export function useStopAll() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async () => request<StopAllResult>("/sessions/stop_all", { method: "POST" }),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.sessions() }),
  });
}

export function usePlaceOrder(sessionId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (order: OrderBody) =>
      request<PlacedOrder>(`/sessions/${sessionId}/orders`, {
        method: "POST",
        body: order,
        sessionId,
      }),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.session(sessionId) }),
  });
}

export function useSaveStrategy() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: SaveStrategyBody) =>
      request<SavedStrategy>("/strategies", { method: "POST", body }),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.strategies }),
  });
}
