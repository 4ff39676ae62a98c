import { Table, Text, UnstyledButton } from "@mantine/core";
import { useMemo, useState } from "react";
import type { TradeView } from "../api/types";
import { formatDuration, formatMoney, formatPct, formatPrice, formatQty, formatTime, toMillis } from "../format";

export type Trade = TradeView;

type Key = "exit_ts" | "entry_ts" | "symbol" | "direction" | "qty" | "entry_price" | "exit_price" | "gross_pnl" | "fees" | "funding" | "pnl" | "return_pct" | "duration_s";

const COLUMNS: { key: Key; label: string; numeric?: boolean; render: (t: Trade) => string }[] = [
  { key: "entry_ts", label: "Entry (UTC)", render: (t) => formatTime(t.entry_ts) },
  { key: "exit_ts", label: "Exit (UTC)", render: (t) => formatTime(t.exit_ts) },
  { key: "symbol", label: "Symbol", render: (t) => t.symbol },
  { key: "direction", label: "Side", render: (t) => t.direction },
  { key: "qty", label: "Qty", numeric: true, render: (t) => formatQty(t.qty) },
  { key: "entry_price", label: "Entry price", numeric: true, render: (t) => formatPrice(t.entry_price) },
  { key: "exit_price", label: "Exit price", numeric: true, render: (t) => formatPrice(t.exit_price) },
  { key: "gross_pnl", label: "PnL before fees", numeric: true, render: (t) => formatMoney(t.gross_pnl) },
  { key: "fees", label: "Fees", numeric: true, render: (t) => formatMoney(t.fees) },
  { key: "funding", label: "Funding", numeric: true, render: (t) => formatMoney(t.funding) },
  { key: "pnl", label: "PnL after fees", numeric: true, render: (t) => formatMoney(t.pnl) },
  { key: "return_pct", label: "Return", numeric: true, render: (t) => formatPct(t.return_pct) },
  { key: "duration_s", label: "Duration", numeric: true, render: (t) => formatDuration(t.duration_s) },
];

function sortValue(t: Trade, key: Key): number | string {
  if (key === "entry_ts" || key === "exit_ts") return toMillis(t[key]) ?? 0;
  return t[key];
}

/** Totals over a set of closed trades (what the table's footer shows). */
export function tradeTotals(trades: Trade[]) {
  const sum = (f: (t: Trade) => number) => trades.reduce((acc, t) => acc + f(t), 0);
  const wins = trades.filter((t) => t.pnl > 0).length;
  return {
    count: trades.length,
    wins,
    gross: sum((t) => t.gross_pnl),
    fees: sum((t) => t.fees),
    funding: sum((t) => t.funding),
    net: sum((t) => t.pnl),
    avgReturn: trades.length ? sum((t) => t.return_pct) / trades.length : null,
    avgDuration: trades.length ? sum((t) => t.duration_s) / trades.length : null,
  };
}

/** Every closed trade of a session, sortable by any column, with totals. */
export function ClosedTrades({ trades }: { trades: Trade[] }) {
  const [sort, setSort] = useState<{ key: Key; desc: boolean }>({ key: "exit_ts", desc: true });
  const rows = useMemo(() => {
    const sorted = [...trades].sort((a, b) => {
      const x = sortValue(a, sort.key), y = sortValue(b, sort.key);
      return x < y ? -1 : x > y ? 1 : 0;
    });
    return sort.desc ? sorted.reverse() : sorted;
  }, [trades, sort]);
  if (trades.length === 0) return <Text size="sm" c="dimmed" data-testid="trades-empty">No closed trades yet (an open position becomes a trade when it is closed).</Text>;
  const totals = tradeTotals(trades);
  // funding is paid on perpetuals only: a spot session's trades get no column of zeros
  const columns = trades.some((t) => t.funding !== 0) ? COLUMNS : COLUMNS.filter((c) => c.key !== "funding");
  const pnlColor = (v: number) => (v > 0 ? "teal" : v < 0 ? "red" : undefined);
  return (
    <Table.ScrollContainer minWidth={900} type="native" mah={420}>
      <Table striped highlightOnHover fz="sm" data-testid="closed-trades" stickyHeader>
        <Table.Thead>
          <Table.Tr>
            {columns.map((c) => (
              <Table.Th key={c.key} style={{ textAlign: c.numeric ? "right" : "left", whiteSpace: "nowrap" }} aria-sort={sort.key === c.key ? (sort.desc ? "descending" : "ascending") : "none"}>
                <UnstyledButton fz="sm" fw={700} onClick={() => setSort((s) => ({ key: c.key, desc: s.key === c.key ? !s.desc : c.numeric ?? false }))}>
                  {c.label}{sort.key === c.key ? (sort.desc ? " ↓" : " ↑") : ""}
                </UnstyledButton>
              </Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((t, i) => (
            <Table.Tr key={`${t.symbol}-${t.entry_ts}-${t.exit_ts}-${i}`}>
              {columns.map((c) => (
                <Table.Td key={c.key} ff={c.numeric ? "monospace" : undefined} style={{ textAlign: c.numeric ? "right" : "left", whiteSpace: "nowrap" }}>
                  {c.key === "pnl" || c.key === "gross_pnl" ? <Text span inherit c={pnlColor(t[c.key])}>{c.render(t)}</Text> : c.render(t)}
                </Table.Td>
              ))}
            </Table.Tr>
          ))}
        </Table.Tbody>
        <Table.Tfoot data-testid="closed-trades-totals">
          <Table.Tr fw={700}>
            <Table.Td colSpan={7}>
              {totals.count} trades · {totals.wins} won ({formatPct((totals.wins / totals.count) * 100)})
            </Table.Td>
            <Table.Td ff="monospace" style={{ textAlign: "right" }}>{formatMoney(totals.gross)}</Table.Td>
            <Table.Td ff="monospace" style={{ textAlign: "right" }}>{formatMoney(totals.fees)}</Table.Td>
            {columns.length === COLUMNS.length && <Table.Td ff="monospace" style={{ textAlign: "right" }}>{formatMoney(totals.funding)}</Table.Td>}
            <Table.Td ff="monospace" style={{ textAlign: "right" }} data-testid="closed-trades-net"><Text span inherit c={pnlColor(totals.net)}>{formatMoney(totals.net)}</Text></Table.Td>
            <Table.Td ff="monospace" style={{ textAlign: "right" }}>avg {formatPct(totals.avgReturn)}</Table.Td>
            <Table.Td ff="monospace" style={{ textAlign: "right" }}>avg {formatDuration(totals.avgDuration)}</Table.Td>
          </Table.Tr>
        </Table.Tfoot>
      </Table>
    </Table.ScrollContainer>
  );
}
