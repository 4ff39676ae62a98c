import { Text, Tooltip } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { request } from "../api/client";
import { keys } from "../api/hooks";
import { isTerminal, type SessionSummary } from "../api/types";
import { displayMetrics, formatMetric } from "../session/metrics";
import { metricsOf, useResults } from "./useResults";

interface StrategyRef {
  name: string;
  params?: Record<string, unknown>;
}

/** "sma_cross fast=10 slow=30": a run's strategies and parameters, one line each. */
export function strategyLines(config: Record<string, unknown> | null | undefined): string[] {
  const list = (config?.strategies ?? []) as StrategyRef[];
  if (!list.length) return ["none (manual orders only)"];
  return list.map((s) => {
    const params = Object.entries(s.params ?? {}).map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : String(v)}`);
    return [s.name, ...params].join(" ");
  });
}

/** The run's strategies with their parameters (the list view has no config: read the detail). */
export function StrategyCell({ session }: { session: SessionSummary }) {
  const detail = useQuery({
    queryKey: keys.session(session.session_id),
    queryFn: async ({ signal }) => (await request<SessionSummary>(`/sessions/${session.session_id}`, { signal })).data,
    staleTime: 60_000,
  });
  if (!detail.data) return <>…</>;
  const lines = strategyLines(detail.data.config);
  return (
    <Text size="sm" ff="monospace" data-testid="run-strategy">
      {lines.map((line) => <span key={line} style={{ display: "block" }}>{line}</span>)}
    </Text>
  );
}

/** One metric of a run: its final results once ended, the live value while it runs. */
export function MetricCell({ session, metric }: { session: SessionSummary; metric: string }) {
  const results = useResults(session);
  if (isTerminal(session.state) && results.isLoading) return <>…</>;
  const metrics = metricsOf(session, results.data);
  const item = displayMetrics(metrics, isTerminal(session.state)).find((m) => m.key === metric);
  const text = item?.text ?? formatMetric(metric, metrics[metric]);
  return item?.hint && text === "—" ? <Tooltip label={item.hint} multiline w={300}><span>{text}</span></Tooltip> : <span data-metric={metric}>{text}</span>;
}
