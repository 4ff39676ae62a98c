import { useQueries } from "@tanstack/react-query";
import { request } from "../api/client";
import { fetchRecords, keys } from "../api/hooks";
import type { SessionSummary } from "../api/types";
import { metricsOf, useManyResults } from "./useResults";

/** Detail and equity of several runs, for comparing them. */
export function useRuns(ids: string[]) {
  const details = useQueries({
    queries: ids.map((id) => ({
      queryKey: keys.session(id),
      queryFn: async () => (await request<SessionSummary>(`/sessions/${id}`)).data,
    })),
  });
  const equity = useQueries({
    queries: ids.map((id) => ({
      queryKey: keys.records(id, "equity"),
      queryFn: () => fetchRecords(id, "equity"),
    })),
  });
  const results = useManyResults(details.map((d) => d.data));
  return ids.map((id, i) => ({ id, detail: details[i], equity: equity[i], metrics: metricsOf(details[i].data, results[i].data) }));
}

