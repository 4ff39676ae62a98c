import { Paper, Stack, Text, Title } from "@mantine/core";
import { useState } from "react";
import { useDatasets, useSessions, type SessionFilters } from "../api/hooks";
import { ErrorNotice } from "../components/ErrorNotice";
import { RecordTable } from "../components/RecordTable";
import { SessionsTable } from "../components/SessionsTable";
import { CandleChartPanel } from "../data/CandleChartPanel";
import { ImportDataset } from "../data/ImportDataset";
import { StartCollection } from "../data/StartCollection";
import { formatTime, toMillis } from "../format";
import { useSessionListUpdates } from "../live/useSessionListUpdates";

export function DataPage() {
  useSessionListUpdates();
  const datasets = useDatasets();
  const [filters, setFilters] = useState<SessionFilters>({ limit: 10, offset: 0 });
  const collections = useSessions({ mode: "collect", limit: 100, offset: 0 });
  const sources = [
    ...(datasets.data ?? []).map((d) => ({
      value: d.name,
      label: `dataset ${d.name}`,
      symbols: d.symbols,
      spanSec: ((toMillis(d.end) ?? 0) - (toMillis(d.start) ?? 0)) / 1000,
      dataInterval: d.interval,
    })),
    ...(collections.data?.sessions ?? []).map((s) => ({ value: s.session_id, label: `collection ${s.session_id}`, symbols: s.symbols })),
  ];
  return (
    <Stack>
      <Title order={2}>Data</Title>
      <Paper withBorder p="md">
        <Title order={3} mb="xs">Datasets</Title>
        <ErrorNotice error={datasets.error} title="Could not load datasets" />
        {datasets.data && (
          <RecordTable rows={datasets.data} rowKey={(d) => d.name} empty="No datasets yet: import a file below, or with `papertape data import`." testId="datasets" columns={[
            { key: "name", label: "Name" },
            { key: "kind", label: "Kind" },
            { key: "symbols", label: "Symbols", render: (d) => d.symbols.join(", ") },
            { key: "rows", label: "Rows", align: "right" },
            { key: "interval", label: "Interval (s)", align: "right" },
            { key: "start", label: "From (UTC)", render: (d) => formatTime(d.start) },
            { key: "end", label: "To (UTC)", render: (d) => formatTime(d.end) },
            { key: "origin", label: "Origin" },
          ]} />
        )}
        <Text fw={600} mt="md" mb={4}>Import a file</Text>
        <ImportDataset />
      </Paper>
      <Paper withBorder p="md">
        <Title order={3} mb="xs">Collections</Title>
        <StartCollection />
        <Text size="sm" c="dimmed" mt="sm" mb={4}>Collect sessions (what they recorded can be charted and replayed by session id):</Text>
        <SessionsTable filters={filters} onFilters={setFilters} fixed={{ mode: "collect" }} />
      </Paper>
      <Paper withBorder p="md">
        <Title order={3} mb="xs">Chart a recorded symbol</Title>
        <CandleChartPanel sources={sources} />
      </Paper>
    </Stack>
  );
}
