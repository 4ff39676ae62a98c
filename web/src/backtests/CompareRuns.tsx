import { Paper, Stack, Table, Text } from "@mantine/core";
import { useMemo } from "react";
import { LineChart, PALETTE, type LineData, type LinePoint } from "../charts/LineChart";
import { ErrorNotice } from "../components/ErrorNotice";
import { formatMetric, metricLabel } from "../session/MetricsTable";
import { strategyLines } from "./RunCells";
import { equityPoints } from "../session/records";
import { useRuns } from "./useRuns";

/** Several runs side by side: a metrics table and their equity curves on one chart. */
export function CompareRuns({ ids }: { ids: string[] }) {
  const runs = useRuns(ids);
  const metricKeys = useMemo(() => {
    const all = new Set<string>();
    for (const run of runs) for (const key of Object.keys(run.metrics)) all.add(key);
    return [...all];
  }, [runs]);
  const lines: LineData[] = runs.map((run, i) => ({
    id: run.id,
    title: run.id.slice(-8),
    color: PALETTE[i % PALETTE.length],
    points: asReturns(equityPoints(run.equity.data ?? [])),
  }));
  if (ids.length === 0) return <Text size="sm" c="dimmed">Select runs in the table to compare them.</Text>;
  return (
    <Stack gap="sm" data-testid="compare-runs">
      {runs.map((run) => (
        <ErrorNotice key={run.id} error={run.detail.error ?? run.equity.error} title={`Could not load ${run.id}`} />
      ))}
      <Table.ScrollContainer minWidth={400} type="native">
        <Table fz="sm" striped data-testid="compare-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Metric</Table.Th>
              {runs.map((run, i) => (
                <Table.Th key={run.id} style={{ color: PALETTE[i % PALETTE.length] }} ff="monospace">
                  {run.id.slice(-8)} {run.detail.data?.label ? `(${run.detail.data.label})` : ""}
                </Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            <Table.Tr>
              <Table.Td>State</Table.Td>
              {runs.map((run) => <Table.Td key={run.id}>{run.detail.data?.state ?? "…"}</Table.Td>)}
            </Table.Tr>
            <Table.Tr>
              <Table.Td>Strategies</Table.Td>
              {runs.map((run) => <Table.Td key={run.id} ff="monospace">{strategyLines(run.detail.data?.config).join("; ")}</Table.Td>)}
            </Table.Tr>
            {metricKeys.map((key) => (
              <Table.Tr key={key}>
                <Table.Td>{metricLabel(key)}</Table.Td>
                {runs.map((run) => {
                  return <Table.Td key={run.id} ff="monospace">{formatMetric(key, run.metrics[key])}</Table.Td>;
                })}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {metricKeys.length === 0 && <Text size="sm" c="dimmed">The server reports no metrics for these runs.</Text>}
      <Paper withBorder p="sm">
        <Text fw={600} mb="xs">Equity as % return from each run's start, overlaid</Text>
        <LineChart lines={lines} label="Equity curves of the compared runs" testId="compare-equity-chart" height={260} />
      </Paper>
    </Stack>
  );
}

/** An equity curve as % return from its first point, so runs of any size start at 0. */
export function asReturns(points: LinePoint[]): LinePoint[] {
  const first = points[0]?.value;
  if (!first) return [];
  return points.map((p) => ({ timeSec: p.timeSec, value: (p.value / first - 1) * 100 }));
}
