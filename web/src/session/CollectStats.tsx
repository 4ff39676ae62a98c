import { Paper, SimpleGrid, Text } from "@mantine/core";
import type { SessionSummary } from "../api/types";
import { useNow } from "../components/useNow";
import { asNumber, formatDuration, formatNumber, toMillis } from "../format";

const KINDS = [
  ["trades", "Trades recorded"],
  ["candles", "1m candles recorded"],
  ["book", "Book snapshots recorded"],
] as const;
// recorded on perpetuals only (from the exchange's mark-price stream)
const SWAP_KINDS = [
  ["marks", "Mark prices recorded"],
  ["funding", "Funding rates recorded"],
] as const;

/** What a collect session has recorded: rows per kind (with mark prices and funding rates on a
 * perpetual) and their average rates, book depth,
 * gaps and write trouble (no equity or positions: a collection does not trade). */
export function CollectStats({ session: s }: { session: SessionSummary }) {
  const counters = (s.counters ?? {}) as Record<string, unknown>;
  const written = (counters.rows_written ?? {}) as Record<string, unknown>;
  const failed = (counters.rows_failed ?? {}) as Record<string, unknown>;
  const market = (s.config?.market ?? {}) as { book_depth?: number | null; book_interval?: number; market_type?: string };
  const start = toMillis(s.started_at);
  const now = useNow(5000);
  const end = toMillis(s.ended_at) ?? now;
  const elapsed = start !== null ? Math.max(1, (end - start) / 1000) : null;
  const failedRows = Object.values(failed).reduce<number>((sum, v) => sum + (asNumber(v) ?? 0), 0);
  const cards: [string, string, string | null][] = [
    ...[...KINDS, ...(market.market_type === "swap" ? SWAP_KINDS : [])].map(([kind, label]): [string, string, string | null] => {
      const rows = asNumber(written[kind]);
      const rate = rows !== null && elapsed ? `${formatNumber(rows / elapsed, 2)} / s on average` : null;
      return [kind, label, rate];
    }),
  ];
  return (
    <Paper withBorder p="sm" data-testid="collect-stats">
      <Text fw={600} mb="xs">Recording</Text>
      <SimpleGrid cols={{ base: 3, md: 6 }} spacing="xs">
        {cards.map(([kind, label, rate]) => (
          <Paper key={kind} withBorder p="xs">
            <Text size="xs" c="dimmed">{label}</Text>
            <Text fw={600} ff="monospace" data-rows={kind}>{formatNumber(asNumber(written[kind]), 0)}</Text>
            <Text size="xs" c="dimmed">{rate ?? " "}</Text>
          </Paper>
        ))}
        <Stat label="Book depth" value={market.book_depth ? `${market.book_depth} levels / side` : "as delivered"} sub={market.book_interval ? `every ${market.book_interval} s` : "every update"} />
        <Stat label="Feed gaps" value={formatNumber(s.feed?.gaps ?? null, 0)} sub={`${s.feed?.reconnects ?? 0} reconnects`} />
        <Stat label="Rows not written" value={formatNumber(failedRows, 0)} sub={`${formatNumber(asNumber(counters.rows_pending) ?? 0, 0)} pending · ${formatNumber(asNumber(counters.write_retries) ?? 0, 0)} retries`} />
      </SimpleGrid>
      {elapsed && <Text size="xs" c="dimmed" mt={4}>Over {formatDuration(elapsed)} of recording.</Text>}
    </Paper>
  );
}

function Stat({ label, value, sub }: { label: string; value: string; sub: string }) {
  return (
    <Paper withBorder p="xs">
      <Text size="xs" c="dimmed">{label}</Text>
      <Text fw={600} ff="monospace">{value}</Text>
      <Text size="xs" c="dimmed">{sub}</Text>
    </Paper>
  );
}
