import { Code, SimpleGrid, Tabs, Text } from "@mantine/core";
import type { UseQueryResult } from "@tanstack/react-query";
import type { FillView, FundingView, OrderView, PositionView, SessionSummary } from "../api/types";
import { ErrorNotice } from "../components/ErrorNotice";
import { RecordTable } from "../components/RecordTable";
import { formatNumber, formatPrice, formatTime } from "../format";
import type { EventLog } from "../live/eventLog";
import { EventTimeline } from "./EventTimeline";
import { latestOrders, latestPositions, OPEN_ORDER_STATES } from "./records";

/** Positions, open orders, fills, funding payments, the event timeline and the raw config of a
 * session. */
export function SessionRecordsTabs({
  session: s,
  log,
  catchUpError,
  fills,
  orders,
  positions,
  funding,
}: {
  session: SessionSummary;
  log: EventLog;
  catchUpError: string | null;
  fills: UseQueryResult<FillView[]>;
  orders: UseQueryResult<OrderView[]>;
  positions: UseQueryResult<PositionView[]>;
  funding: UseQueryResult<FundingView[]>;
}) {
  const counters = s.counters ?? {};
  const openOrders = latestOrders(orders.data ?? []).filter((o) => OPEN_ORDER_STATES.includes(o.status));
  const payments = funding.data ?? [];
  const fundingTotal = payments.reduce((sum, p) => sum + p.amount, 0);
  return (
    <Tabs defaultValue="positions" keepMounted={false}>
      <Tabs.List>
        <Tabs.Tab value="positions">Positions</Tabs.Tab>
        <Tabs.Tab value="orders">Open orders ({openOrders.length})</Tabs.Tab>
        <Tabs.Tab value="fills">Fills ({fills.data?.length ?? 0})</Tabs.Tab>
        <Tabs.Tab value="funding">Funding ({payments.length})</Tabs.Tab>
        <Tabs.Tab value="events">Timeline ({log.events.length})</Tabs.Tab>
        <Tabs.Tab value="config">Config & counters</Tabs.Tab>
      </Tabs.List>
      <Tabs.Panel value="positions" pt="sm">
        <ErrorNotice error={positions.error} title="Could not load positions" />
        <RecordTable rows={latestPositions(positions.data ?? []).filter((p) => p.qty !== 0)} rowKey={(p) => p.symbol} empty="No open positions." testId="positions" columns={[
          { key: "symbol", label: "Symbol" },
          { key: "qty", label: "Qty", align: "right" },
          { key: "avg_price", label: "Avg price", align: "right", render: (p) => formatPrice(p.avg_price) },
          { key: "mark_price", label: "Mark", align: "right", render: (p) => formatPrice(p.mark_price) },
          { key: "unrealized_pnl", label: "Unrealized", align: "right" },
          { key: "realized_pnl", label: "Realized", align: "right" },
          { key: "fees", label: "Fees", align: "right" },
        ]} />
      </Tabs.Panel>
      <Tabs.Panel value="orders" pt="sm">
        <ErrorNotice error={orders.error} title="Could not load orders" />
        <RecordTable rows={openOrders} rowKey={(o) => o.order_id} empty="No open orders." testId="open-orders" columns={[
          { key: "order_id", label: "Order" }, { key: "symbol", label: "Symbol" }, { key: "side", label: "Side" }, { key: "type", label: "Type" },
          { key: "qty", label: "Qty", align: "right" }, { key: "price", label: "Limit", align: "right" }, { key: "stop_price", label: "Stop", align: "right" },
          { key: "filled_qty", label: "Filled", align: "right" }, { key: "status", label: "Status" },
        ]} />
      </Tabs.Panel>
      <Tabs.Panel value="fills" pt="sm">
        <ErrorNotice error={fills.error} title="Could not load fills" />
        <RecordTable rows={[...(fills.data ?? [])].reverse()} rowKey={(f) => f.fill_id} empty="No fills yet." testId="fills" columns={[
          { key: "ts", label: "Time (UTC)", render: (f) => formatTime(f.ts) }, { key: "symbol", label: "Symbol" }, { key: "side", label: "Side" },
          { key: "qty", label: "Qty", align: "right" }, { key: "price", label: "Price", align: "right", render: (f) => formatPrice(f.price) },
          { key: "fee", label: "Fee", align: "right" }, { key: "liquidity", label: "Liquidity" },
        ]} />
      </Tabs.Panel>
      <Tabs.Panel value="funding" pt="sm">
        <ErrorNotice error={funding.error} title="Could not load funding payments" />
        {payments.length > 0 && (
          <Text size="sm" mb="xs" data-testid="funding-total">
            Funding received: {formatNumber(fundingTotal, 4)} (negative = paid)
          </Text>
        )}
        <RecordTable rows={[...payments].reverse()} rowKey={(p) => `${String(p.symbol)}-${String(p.ts_us ?? p.ts)}`} empty="No funding paid or received." testId="funding" columns={[
          { key: "ts", label: "Funding time (UTC)", render: (p) => formatTime(p.ts as string) }, { key: "symbol", label: "Symbol" },
          { key: "rate", label: "Rate", align: "right" }, { key: "qty", label: "Position", align: "right" },
          { key: "mark_price", label: "Price", align: "right", render: (p) => formatPrice(p.mark_price) }, { key: "price_source", label: "Priced at" },
          { key: "amount", label: "Amount", align: "right" },
        ]} />
      </Tabs.Panel>
      <Tabs.Panel value="events" pt="sm">
        <EventTimeline log={log} error={catchUpError} />
      </Tabs.Panel>
      <Tabs.Panel value="config" pt="sm">
        <SimpleGrid cols={2}>
          <Code block fz="xs">{JSON.stringify(s.config ?? {}, null, 2)}</Code>
          <Code block fz="xs">{JSON.stringify(counters, null, 2)}</Code>
        </SimpleGrid>
      </Tabs.Panel>
    </Tabs>
  );
}
