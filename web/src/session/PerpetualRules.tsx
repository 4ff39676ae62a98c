import { Paper, Table, Text } from "@mantine/core";
import type { SessionSummary } from "../api/types";
import { formatNumber } from "../format";

/** The session view's `liquidation` (papertape.engine.core.Engine.liquidation_rules). */
interface LiquidationRules {
  close_at: string;
  fee_rate: number;
  tiers: Record<string, string>;
}

const VALUED_AT: Record<string, string> = {
  mark: "mark price",
  last: "last trade (no fresh mark price)",
};
const TIERS: Record<string, string> = {
  configured: "the session's",
  binance_btcusdt: "Binance BTCUSDT's (default)",
};
const CLOSE_AT: Record<string, string> = {
  bankruptcy: "bankruptcy price",
  liquidation: "liquidation price",
};

/** How a perpetual session values and liquidates its positions: per symbol, the price that
 * values it (the streamed or replayed mark, or the last trade when there is none) and the
 * maintenance-margin brackets; the price a liquidation closes at and its fee. Nothing on spot. */
export function PerpetualRules({ session: s }: { session: SessionSummary }) {
  const counters = (s.counters ?? {}) as Record<string, unknown>;
  const rules = counters.liquidation as LiquidationRules | null | undefined;
  if (!rules) return null;
  const valuedAt = (counters.valued_at ?? {}) as Record<string, string>;
  return (
    <Paper withBorder p="sm" data-testid="perpetual-rules">
      <Text fw={600} mb="xs">Valuation and liquidation</Text>
      <Table withTableBorder={false} verticalSpacing={2} fz="sm">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Symbol</Table.Th>
            <Table.Th>Valued at</Table.Th>
            <Table.Th>Maintenance-margin brackets</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {s.symbols.map((symbol) => (
            <Table.Tr key={symbol} data-symbol={symbol}>
              <Table.Td ff="monospace">{symbol}</Table.Td>
              <Table.Td data-testid="valued-at" data-valued-at={valuedAt[symbol] ?? ""}>
                {VALUED_AT[valuedAt[symbol]] ?? "—"}
              </Table.Td>
              <Table.Td>{TIERS[rules.tiers[symbol]] ?? rules.tiers[symbol] ?? "—"}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Text size="sm" mt="xs" data-testid="liquidation-rule">
        A liquidation closes a position at its {CLOSE_AT[rules.close_at] ?? rules.close_at} and
        charges {formatNumber(rules.fee_rate * 100, 2)} % of the closed notional; the session
        then stops.
      </Text>
    </Paper>
  );
}
