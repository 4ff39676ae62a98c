import { Checkbox, Paper, Stack, Title, Text } from "@mantine/core";
import { useState } from "react";
import { useStartSession, type SessionFilters } from "../api/hooks";
import type { SessionSummary } from "../api/types";
import { CompareRuns } from "../backtests/CompareRuns";
import { MetricCell, StrategyCell } from "../backtests/RunCells";
import { RunProgress } from "../backtests/RunProgress";
import type { Column } from "../components/RecordTable";
import { PnlCell, SessionsTable } from "../components/SessionsTable";
import { StateBadge } from "../components/StateBadge";
import { SessionForm } from "../forms/SessionForm";
import { useSessionListUpdates } from "../live/useSessionListUpdates";
import { Anchor } from "@mantine/core";
import { Link } from "react-router-dom";

export function BacktestsPage() {
  useSessionListUpdates();
  const start = useStartSession();
  const [runId, setRunId] = useState<string | null>(null);
  const [filters, setFilters] = useState<SessionFilters>({ limit: 10, offset: 0 });
  const [selected, setSelected] = useState<string[]>([]);
  const toggle = (id: string) => setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : [...s, id]));

  const columns: Column<SessionSummary>[] = [
    { key: "pick", label: "Compare", render: (s) => <Checkbox aria-label={`Compare ${s.session_id}`} checked={selected.includes(s.session_id)} onChange={() => toggle(s.session_id)} /> },
    { key: "session_id", label: "Run", render: (s) => <Anchor component={Link} to={`/sessions/${s.session_id}`} ff="monospace" size="sm">{s.session_id}</Anchor> },
    { key: "state", label: "State", render: (s) => <StateBadge state={s.state} /> },
    { key: "strategy", label: "Strategy and parameters", render: (s) => <StrategyCell session={s} /> },
    { key: "symbols", label: "Symbols", render: (s) => s.symbols.join(", ") },
    { key: "return", label: "Return", align: "right", render: (s) => <MetricCell session={s} metric="total_return_pct" /> },
    { key: "pnl", label: "PnL", align: "right", render: (s) => <PnlCell session={s} /> },
    { key: "dd", label: "Max drawdown", align: "right", render: (s) => <MetricCell session={s} metric="max_drawdown_pct" /> },
    { key: "trades", label: "Trades", align: "right", render: (s) => <MetricCell session={s} metric="trades" /> },
    { key: "sharpe", label: "Sharpe", align: "right", render: (s) => <MetricCell session={s} metric="sharpe" /> },
    // no "Created" column: a run's id says when it was created, and the row fits the page
    { key: "label", label: "Label", render: (s) => s.label ?? "" },
  ];

  return (
    <Stack>
      <Title order={2}>Backtests</Title>
      <Paper withBorder p="md">
        <Text fw={600} mb="sm">Run a backtest</Text>
        <SessionForm
          variant="backtest"
          submitLabel="Run backtest"
          pending={start.isPending}
          error={start.error}
          onSubmit={(body) => start.mutate(body, { onSuccess: ({ data }) => setRunId(data.session_id) })}
        />
      </Paper>
      {runId && <RunProgress sessionId={runId} />}
      <Title order={3}>Runs</Title>
      <SessionsTable filters={filters} onFilters={setFilters} fixed={{ mode: "backtest" }} columns={columns} />
      <Title order={3}>Compare</Title>
      <CompareRuns ids={selected} />
    </Stack>
  );
}
