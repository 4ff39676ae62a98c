import { Anchor, Paper, Stack, Text, Title } from "@mantine/core";
import { useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { useStartSession, type SessionFilters } from "../api/hooks";
import type { SessionSummary } from "../api/types";
import type { Column } from "../components/RecordTable";
import { SessionsTable } from "../components/SessionsTable";
import { StateBadge } from "../components/StateBadge";
import { formatNumber, formatTime } from "../format";
import { useSessionListUpdates } from "../live/useSessionListUpdates";
import { SweepForm } from "./SweepForm";

interface SweepCounters {
  done?: number;
  total?: number;
  objective?: string;
  best?: { score?: number | null; params?: Record<string, unknown> } | null;
}

export function sweepCounters(session: SessionSummary): SweepCounters {
  return ((session.counters as Record<string, unknown> | undefined)?.sweep ?? {}) as SweepCounters;
}

const COLUMNS: Column<SessionSummary>[] = [
  {
    key: "session_id",
    label: "Sweep",
    render: (s) => (
      <Anchor component={Link} to={`/sweeps/${s.session_id}`} ff="monospace" size="sm">
        {s.session_id}
      </Anchor>
    ),
  },
  { key: "state", label: "State", render: (s) => <StateBadge state={s.state} /> },
  { key: "symbols", label: "Symbol", render: (s) => s.symbols.join(", ") },
  {
    key: "progress",
    label: "Trials",
    align: "right",
    render: (s) => {
      const c = sweepCounters(s);
      return c.total ? `${c.done ?? 0} / ${c.total}` : "";
    },
  },
  {
    key: "best",
    label: "Best",
    align: "right",
    render: (s) => {
      const c = sweepCounters(s);
      return c.best ? `${c.objective} ${formatNumber(c.best.score, 3)}` : "";
    },
  },
  { key: "created_at", label: "Created (UTC)", render: (s) => formatTime(s.created_at) },
];

/** Parameter sweeps: start one, and the list of sweeps (each opens its trials). */
export function SweepsPage() {
  useSessionListUpdates();
  const start = useStartSession();
  const navigate = useNavigate();
  const [filters, setFilters] = useState<SessionFilters>({ limit: 10, offset: 0 });
  return (
    <Stack>
      <Title order={2}>Sweeps</Title>
      <Paper withBorder p="md">
        <Text fw={600} mb="sm">
          Sweep a strategy's parameters
        </Text>
        <SweepForm
          pending={start.isPending}
          error={start.error}
          onSubmit={(body) => start.mutate(body, { onSuccess: ({ data }) => void navigate(`/sweeps/${data.session_id}`) })}
        />
      </Paper>
      <Title order={3}>Sweeps</Title>
      <SessionsTable filters={filters} onFilters={setFilters} fixed={{ mode: "sweep" }} columns={COLUMNS} />
    </Stack>
  );
}
