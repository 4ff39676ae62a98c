import { Anchor, Group, Pagination, Select, Stack, Text, TextInput } from "@mantine/core";
import { Link } from "react-router-dom";
import { useSessions, type SessionFilters } from "../api/hooks";
import { isTerminal, type SessionSummary } from "../api/types";
import { formatSigned, formatTime, asNumber } from "../format";
import { metricsOf, useResults } from "../backtests/useResults";
import { ErrorNotice } from "./ErrorNotice";
import { RecordTable, type Column } from "./RecordTable";
import { StateBadge } from "./StateBadge";
import { FeedBadge } from "./FeedBadge";
import { sessionPath } from "./sessionPath";

const STATES = ["starting", "running", "stopping", "stopped", "completed", "failed"];
const MODES = ["paper", "backtest", "collect", "live"];

/** Profit and loss from a session's metrics (final results once it has ended). */
export function pnlOf(metrics: Record<string, unknown>): number | null {
  const final = asNumber(metrics.final_equity), initial = asNumber(metrics.initial_equity);
  return final !== null && initial !== null ? final - initial : null;
}

export function PnlCell({ session }: { session: SessionSummary }) {
  const results = useResults(session);
  if (isTerminal(session.state) && results.isLoading) return <>…</>;
  return <>{formatSigned(pnlOf(metricsOf(session, results.data)))}</>;
}

const COLUMNS: Column<SessionSummary>[] = [
  {
    key: "session_id",
    label: "Session",
    render: (s) => (
      <Anchor component={Link} to={sessionPath(s)} ff="monospace" size="sm">
        {s.session_id}
      </Anchor>
    ),
  },
  { key: "state", label: "State", render: (s) => <StateBadge state={s.state} /> },
  { key: "mode", label: "Mode" },
  { key: "symbols", label: "Symbols", render: (s) => s.symbols.join(", ") },
  { key: "label", label: "Label", render: (s) => s.label ?? "" },
  { key: "feed", label: "Feed", render: (s) => <FeedBadge feed={s.feed} ended={isTerminal(s.state)} /> },
  { key: "pnl", label: "PnL", align: "right", render: (s) => <PnlCell session={s} /> },
  { key: "created_at", label: "Created (UTC)", render: (s) => formatTime(s.created_at) },
];

/** Sessions with filters and paging. `fixed` pins filters (e.g. mode=backtest). */
export function SessionsTable({
  filters,
  onFilters,
  fixed = {},
  columns = COLUMNS,
}: {
  filters: SessionFilters;
  onFilters: (f: SessionFilters) => void;
  fixed?: Partial<SessionFilters>;
  columns?: Column<SessionSummary>[];
}) {
  const sessions = useSessions({ ...filters, ...fixed });
  const total = sessions.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / filters.limit));
  const page = Math.floor(filters.offset / filters.limit) + 1;
  const change = (f: Partial<SessionFilters>) => onFilters({ ...filters, offset: 0, ...f });
  return (
    <Stack gap="sm">
      <Group gap="sm" align="flex-end">
        <Select label="State" placeholder="any" data={STATES} value={filters.state ?? null} onChange={(v) => change({ state: v ?? undefined })} clearable w={150} />
        {!fixed.mode && (
          <Select label="Mode" placeholder="any" data={MODES} value={filters.mode ?? null} onChange={(v) => change({ mode: v ?? undefined })} clearable w={150} />
        )}
        <TextInput label="Symbol" placeholder="any" value={filters.symbol ?? ""} onChange={(e) => change({ symbol: e.currentTarget.value || undefined })} w={150} />
        <Text size="sm" c="dimmed" ml="auto" data-testid="sessions-total">
          {sessions.data ? `${total} session${total === 1 ? "" : "s"}` : sessions.isLoading ? "Loading…" : ""}
        </Text>
      </Group>
      <ErrorNotice error={sessions.error} title="Could not load sessions" />
      {sessions.data && (
        <RecordTable
          rows={sessions.data.sessions}
          columns={columns}
          rowKey={(s) => s.session_id}
          empty="No sessions match."
          testId="sessions-table"
        />
      )}
      {pages > 1 && (
        <Pagination total={pages} value={page} onChange={(p) => onFilters({ ...filters, offset: (p - 1) * filters.limit })} aria-label="Pages" />
      )}
    </Stack>
  );
}
