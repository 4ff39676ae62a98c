import { Alert, Group, Paper, Progress, Stack, Text } from "@mantine/core";
import { Link } from "react-router-dom";
import { useDatasets, useSession, useSessionRecords } from "../api/hooks";
import type { DatasetInfo, SessionSummary } from "../api/types";
import { isTerminal } from "../api/types";
import { LineChart } from "../charts/LineChart";
import { ErrorNotice } from "../components/ErrorNotice";
import { StateBadge } from "../components/StateBadge";
import { asNumber, formatNumber, toMillis } from "../format";
import { useSessionStream } from "../live/useSessionStream";
import { MetricsGrid } from "../session/MetricsTable";
import { equityPoints } from "../session/records";
import { metricsOf, useResults } from "./useResults";

/** A backtest as it runs and after: progress, then its metrics and equity curve. */
export function RunProgress({ sessionId }: { sessionId: string }) {
  const session = useSession(sessionId, 1000);
  useSessionStream(sessionId); // live events refresh the session and its records
  const equity = useSessionRecords(sessionId, "equity");
  const s = session.data;
  const results = useResults(s);
  const datasets = useDatasets();
  const fraction = s ? progressOf(s.progress ?? s.counters?.progress) ?? replayProgress(s, datasets.data ?? []) : null;
  const done = s ? isTerminal(s.state) : false;
  const points = equityPoints(equity.data ?? []);
  return (
    <Paper withBorder p="sm" data-testid="backtest-run" data-session-id={sessionId} data-state={s?.state}>
      <Stack gap="xs">
        <Group gap="xs">
          <Text fw={600}>Run</Text>
          <Text component={Link} to={`/sessions/${sessionId}`} ff="monospace" size="sm" c="teal">{sessionId}</Text>
          {s && <StateBadge state={s.state} />}
        </Group>
        <ErrorNotice error={session.error} />
        {!done && (
          fraction !== null ? (
            <>
              <Progress value={fraction * 100} animated aria-label="Backtest progress" />
              <Text size="xs" c="dimmed">{formatNumber(fraction * 100, 1)} % of the dataset's time range replayed</Text>
            </>
          ) : (
            <Text size="sm" c="dimmed">Running… (the server reports no progress fraction)</Text>
          )
        )}
        {s?.state === "failed" && <Alert color="red" title={s.error_code ?? "failed"}>{s.error_message}</Alert>}
        {done && <MetricsGrid metrics={metricsOf(s, results.data)} />}
        {done && points.length === 0 && <Text size="sm" c="dimmed">No equity points were recorded for this run.</Text>}
        <LineChart lines={[{ id: "equity", title: "equity", color: "#20c997", points }]} label="Backtest equity curve" testId="backtest-equity-chart" />
      </Stack>
    </Paper>
  );
}

function progressOf(value: unknown): number | null {
  if (value && typeof value === "object") {
    const v = value as Record<string, unknown>;
    const f = asNumber(v.fraction ?? v.pct);
    if (f !== null) return f > 1 ? f / 100 : f;
    const done = asNumber(v.done ?? v.processed), total = asNumber(v.total);
    return done !== null && total ? done / total : null;
  }
  const n = asNumber(value);
  return n === null ? null : n > 1 ? n / 100 : n;
}

/** How far through its dataset a replay is: its last price time within the dataset's range. */
export function replayProgress(s: SessionSummary, datasets: DatasetInfo[]): number | null {
  const name = (s.config?.market as { dataset?: string } | undefined)?.dataset;
  const dataset = datasets.find((d) => d.name === name);
  const start = toMillis(dataset?.start), end = toMillis(dataset?.end);
  const prices = Object.values((s.counters?.last_prices ?? {}) as Record<string, { ts?: number }>);
  const at = Math.max(...prices.map((p) => toMillis(p.ts) ?? -Infinity));
  if (start === null || end === null || end <= start || !Number.isFinite(at)) return null;
  return Math.min(1, Math.max(0, (at - start) / (end - start)));
}
