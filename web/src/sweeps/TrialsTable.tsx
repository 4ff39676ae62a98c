import { Button, Table, Text, UnstyledButton } from "@mantine/core";
import { useMemo, useState } from "react";
import { formatNumber } from "../format";
import type { TrialView } from "./api";

type SortKey = { kind: "number" } | { kind: "score" } | { kind: "param"; name: string } | { kind: "metric"; name: string };

const METRICS: [string, string][] = [
  ["total_return_pct", "return %"],
  ["sharpe", "sharpe"],
  ["sortino", "sortino"],
  ["max_drawdown_pct", "max dd %"],
  ["trades", "trades"],
  ["win_rate_pct", "win %"],
  ["profit_factor", "PF"],
];

function valueOf(trial: TrialView, key: SortKey): number | null {
  const raw =
    key.kind === "number" ? trial.number
    : key.kind === "score" ? trial.score
    : key.kind === "param" ? trial.params[key.name]
    : trial.metrics?.[key.name];
  return typeof raw === "number" && Number.isFinite(raw) ? raw : null;
}

/** Every trial, sortable by any column (click a header; again to reverse); nulls sort last. */
export function TrialsTable({
  trials,
  params,
  objective,
  opening,
  onOpen,
}: {
  trials: TrialView[];
  params: string[];
  objective: string;
  opening: number | null;
  onOpen: (trial: TrialView) => void;
}) {
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: { kind: "score" }, desc: true });
  const sorted = useMemo(() => {
    const rows = [...trials];
    rows.sort((a, b) => {
      const va = valueOf(a, sort.key), vb = valueOf(b, sort.key);
      if (va === null && vb === null) return a.number - b.number;
      if (va === null) return 1;
      if (vb === null) return -1;
      return sort.desc ? vb - va : va - vb;
    });
    return rows;
  }, [trials, sort]);

  const header = (label: string, key: SortKey) => {
    const active = JSON.stringify(sort.key) === JSON.stringify(key);
    return (
      <Table.Th key={label} ta="right">
        <UnstyledButton
          fz="sm"
          fw={600}
          aria-label={`sort by ${label}`}
          onClick={() => setSort({ key, desc: active ? !sort.desc : true })}
        >
          {label}
          {active ? (sort.desc ? " ▼" : " ▲") : ""}
        </UnstyledButton>
      </Table.Th>
    );
  };

  if (!trials.length) return <Text c="dimmed">No trials yet.</Text>;
  return (
    <Table.ScrollContainer minWidth={700} mah={420}>
      <Table striped highlightOnHover stickyHeader data-testid="trials-table">
        <Table.Thead>
          <Table.Tr>
            {header("#", { kind: "number" })}
            {params.map((name) => header(name, { kind: "param", name }))}
            {header(objective, { kind: "score" })}
            {METRICS.map(([name, label]) => header(label, { kind: "metric", name }))}
            <Table.Th title="what computed the trial: the vectorised fast path or the event engine (the same metrics)">
              engine
            </Table.Th>
            <Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {sorted.map((t) => (
            <Table.Tr key={t.number}>
              <Table.Td ta="right">{t.number}</Table.Td>
              {params.map((name) => (
                <Table.Td key={name} ta="right">{String(t.params[name])}</Table.Td>
              ))}
              <Table.Td ta="right" fw={600}>{formatNumber(t.score, 3)}</Table.Td>
              {METRICS.map(([name]) => (
                <Table.Td key={name} ta="right">{formatNumber(t.metrics?.[name], 2)}</Table.Td>
              ))}
              <Table.Td c="dimmed" fz="xs" data-testid="trial-engine">{t.engine ?? "—"}</Table.Td>
              <Table.Td>
                <Button size="compact-xs" variant="light" loading={opening === t.number} onClick={() => onOpen(t)}>
                  Open backtest
                </Button>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
