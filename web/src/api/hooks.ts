import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { query, request } from "./client";
import { pickList, pickNumber } from "./shape";
import { isTerminal } from "./types";
import type {
  DatasetInfo,
  MarketView,
  OrderBody,
  SaveStrategyBody,
  StartSessionBody,
  SessionList,
  SessionSummary,
  StopAllResult,
  StopResult,
  StrategyInfo,
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
      const { data } = await request<unknown>(`/sessions${query({ ...filters })}`, { signal });
      const sessions = pickList<SessionSummary>(data, "sessions");
      return { sessions, total: pickNumber(data, "total") ?? sessions.length };
    },
    placeholderData: (previous) => previous,
  });
}

/** A session's detail. `pollMs` re-reads it while it has not ended (counters such as a
 * backtest's position in its data are not pushed). */
export function useSession(sessionId: string, pollMs?: number) {
  return useQuery<SessionSummary>({
    queryKey: keys.session(sessionId),
    refetchInterval: (q) => (pollMs && !isTerminal((q.state.data as SessionSummary | undefined)?.state) ? pollMs : false),
    queryFn: async ({ signal }): Promise<SessionSummary> =>
      (await request<SessionSummary>(`/sessions/${sessionId}`, { signal })).data,
  });
}

export type RecordKind = "orders" | "fills" | "positions" | "equity" | "trades";

export function useSessionRecords<T = Record<string, unknown>>(sessionId: string, kind: RecordKind) {
  return useQuery({
    queryKey: keys.records(sessionId, kind),
    queryFn: async ({ signal }) => {
      const { data } = await request<unknown>(`/sessions/${sessionId}/${kind}`, { signal });
      return pickList<T>(data, kind, "points");
    },
  });
}

export function useStrategies() {
  return useQuery({
    queryKey: keys.strategies,
    queryFn: async ({ signal }) =>
      pickList<StrategyInfo>((await request<unknown>("/strategies", { signal })).data, "strategies"),
  });
}

export function useDatasets() {
  return useQuery({
    queryKey: keys.datasets,
    queryFn: async ({ signal }) =>
      pickList<DatasetInfo>((await request<unknown>("/datasets", { signal })).data, "datasets"),
  });
}

export function useMarkets(params: { exchange?: string; market_type?: string }, enabled: boolean) {
  return useQuery({
    queryKey: keys.markets(params),
    enabled,
    retry: false,
    queryFn: async ({ signal }) =>
      pickList<MarketView>((await request<unknown>(`/markets${query({ ...params, limit: 5000 })}`, { signal })).data, "markets", "items"),
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
      client.invalidateQueries({ queryKey: keys.sessions() });
      client.invalidateQueries({ queryKey: keys.session(sessionId) });
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
      request<Record<string, unknown>>(`/sessions/${sessionId}/orders`, {
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
      request<Record<string, unknown>>("/strategies", { method: "POST", body }),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.strategies }),
  });
}
