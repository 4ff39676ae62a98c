import { SimpleGrid, Paper, Text } from "@mantine/core";
import { formatNumber, formatTime } from "../format";

const LABELS: Record<string, string> = {
  final_equity: "Final equity",
  total_return_pct: "Total return %",
  max_drawdown_pct: "Max drawdown %",
  sharpe: "Sharpe",
  sortino: "Sortino",
  win_rate: "Win rate",
  profit_factor: "Profit factor",
  exposure: "Exposure",
  exposure_pct: "Exposure %",
  trades: "Trades",
  initial_equity: "Initial equity",
  win_rate_pct: "Win rate %",
  avg_trade_pct: "Avg trade %",
  best_trade_pct: "Best trade %",
  worst_trade_pct: "Worst trade %",
  start_ts: "Data from",
  end_ts: "Data to",
  open_positions: "Open positions",
  unrealized_pnl: "Unrealized PnL",
  realized_pnl: "Realized PnL",
  fees: "Fees",
  funding: "Funding (received)",
};

export function metricLabel(key: string): string {
  return LABELS[key] ?? key.replace(/_/g, " ");
}

/** A metric's value as text: times for `_ts`/`_at` keys, numbers rounded. */
export function formatMetric(key: string, value: unknown): string {
  if (value === undefined || value === null) return "—";
  if (key.endsWith("_ts") || key.endsWith("_at")) return formatTime(value as number);
  if (typeof value === "number") return formatNumber(value, 4);
  return String(value);
}

/** Metric cards for whatever metrics the server computed. */
export function MetricsGrid({ metrics }: { metrics: Record<string, unknown> | null | undefined }) {
  const entries = Object.entries(metrics ?? {}).filter(([, v]) => typeof v === "number" || typeof v === "string");
  if (entries.length === 0) {
    return <Text size="sm" c="dimmed">The server reports no metrics for this session yet.</Text>;
  }
  return (
    <SimpleGrid cols={{ base: 3, md: 6 }} spacing="xs" data-testid="metrics">
      {entries.map(([key, value]) => (
        <Paper key={key} withBorder p="xs">
          <Text size="xs" c="dimmed">{metricLabel(key)}</Text>
          <Text fw={600} ff="monospace" data-metric={key}>
            {formatMetric(key, value)}
          </Text>
        </Paper>
      ))}
    </SimpleGrid>
  );
}
