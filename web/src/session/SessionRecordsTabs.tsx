import { Code, SimpleGrid, Tabs, Text } from "@mantine/core";
import type { UseQueryResult } from "@tanstack/react-query";
import type { FillView, FundingView, OrderView, PositionView, SessionSummary, TradeView } from "../api/types";
import { ErrorNotice } from "../components/ErrorNotice";
import { RecordTable } from "../components/RecordTable";
import { formatMoney, formatNumber, formatPrice, formatQty, formatTime } from "../format";
import type { EventLog } from "../live/eventLog";
import { ClosedTrades } from "./ClosedTrades";
import { EventTimeline } from "./EventTimeline";
import { latestOrders, livePositions, OPEN_ORDER_STATES, openPositions, type LivePosition } from "./records";

export interface TradingRecords {
  fills: UseQueryResult<FillView[]>;
  orders: UseQueryResult<OrderView[]>;
  positions: UseQueryResult<PositionView[]>;
  trades: UseQueryResult<TradeView[]>;
  funding: UseQueryResult<FundingView[]>;
}

/** Positions, closed trades, open orders, fills, funding payments (when the session trades), the
 * event timeline and the raw config of a session. */
export function SessionRecordsTabs({
  session: s,
  log,
  deferred = false,
  catchUpError,
  records,
}: {
  session: SessionSummary;
  log: EventLog;
  deferred?: boolean;
  catchUpError: string | null;
  records: TradingRecords | null;
}) {
  const counters = s.counters ?? {};
  const first = records ? "positions" : "events";
  return (
    <Tabs defaultValue={first} keepMounted={false}>
      <Tabs.List>
        {records && <TradingTabs records={records} />}
        <Tabs.Tab value="events">Timeline ({log.events.length})</Tabs.Tab>
        <Tabs.Tab value="config">Config & counters</Tabs.Tab>
      </Tabs.List>
      {records && <TradingPanels records={records} live={livePositions(counters)} />}
      <Tabs.Panel value="events" pt="sm">
        <EventTimeline log={log} error={catchUpError} deferred={deferred} />
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

function openOrdersOf(records: TradingRecords): OrderView[] {
  return latestOrders(records.orders.data ?? []).filter((o) => OPEN_ORDER_STATES.includes(o.status));
}

function TradingTabs({ records }: { records: TradingRecords }) {
  return (
    <>
      <Tabs.Tab value="positions">Positions</Tabs.Tab>
      <Tabs.Tab value="trades">Closed trades ({records.trades.data?.length ?? 0})</Tabs.Tab>
      <Tabs.Tab value="orders">Open orders ({openOrdersOf(records).length})</Tabs.Tab>
      <Tabs.Tab value="fills">Fills ({records.fills.data?.length ?? 0})</Tabs.Tab>
      <Tabs.Tab value="funding">Funding ({records.funding.data?.length ?? 0})</Tabs.Tab>
    </>
  );
}

function TradingPanels({ records, live }: { records: TradingRecords; live: LivePosition[] }) {
  const { fills, positions, orders, trades, funding } = records;
  const payments = funding.data ?? [];
  const fundingTotal = payments.reduce((sum, p) => sum + p.amount, 0);
  return (
    <>
      <Tabs.Panel value="positions" pt="sm">
        <ErrorNotice error={positions.error} title="Could not load positions" />
        <RecordTable rows={openPositions(positions.data ?? [], live)} rowKey={(p) => p.symbol} empty="No open positions." testId="positions" columns={[
          { key: "symbol", label: "Symbol" },
          { key: "qty", label: "Qty", align: "right", render: (p) => formatQty(p.qty) },
          { key: "avg_price", label: "Entry price", align: "right", render: (p) => formatPrice(p.avg_price) },
          { key: "mark_price", label: "Mark", align: "right", render: (p) => formatPrice(p.mark_price) },
          { key: "unrealized_pnl", label: "Unrealized", align: "right", render: (p) => formatMoney(p.unrealized_pnl) },
          { key: "realized_pnl", label: "Realized (before fees)", align: "right", render: (p) => formatMoney(p.realized_pnl) },
          { key: "fees", label: "Fees", align: "right", render: (p) => formatMoney(p.fees) },
        ]} />
      </Tabs.Panel>
      <Tabs.Panel value="trades" pt="sm">
        <ErrorNotice error={trades.error} title="Could not load closed trades" />
        <ClosedTrades trades={trades.data ?? []} />
      </Tabs.Panel>
      <Tabs.Panel value="orders" pt="sm">
        <ErrorNotice error={orders.error} title="Could not load orders" />
        <RecordTable rows={openOrdersOf(records)} rowKey={(o) => o.order_id} empty="No open orders." testId="open-orders" columns={[
          { key: "order_id", label: "Order" }, { key: "symbol", label: "Symbol" }, { key: "side", label: "Side" }, { key: "type", label: "Type" },
          { key: "qty", label: "Qty", align: "right", render: (o) => formatQty(o.qty) },
          { key: "price", label: "Limit", align: "right", render: (o) => formatPrice(o.price) },
          { key: "stop_price", label: "Stop", align: "right", render: (o) => formatPrice(o.stop_price) },
          { key: "filled_qty", label: "Filled", align: "right", render: (o) => formatQty(o.filled_qty) }, { key: "status", label: "Status" },
        ]} />
      </Tabs.Panel>
      <Tabs.Panel value="fills" pt="sm">
        <ErrorNotice error={fills.error} title="Could not load fills" />
        <RecordTable rows={[...(fills.data ?? [])].reverse()} rowKey={(f) => f.fill_id} empty="No fills yet." testId="fills" maxHeight={420} columns={[
          { key: "ts", label: "Time (UTC)", render: (f) => formatTime(f.ts) }, { key: "symbol", label: "Symbol" }, { key: "side", label: "Side" },
          { key: "qty", label: "Qty", align: "right", render: (f) => formatQty(f.qty) }, { key: "price", label: "Price", align: "right", render: (f) => formatPrice(f.price) },
          { key: "fee", label: "Fee", align: "right", render: (f) => formatNumber(f.fee, 4) }, { key: "liquidity", label: "Liquidity" },
        ]} />
      </Tabs.Panel>
      <Tabs.Panel value="funding" pt="sm">
        <ErrorNotice error={funding.error} title="Could not load funding payments" />
        {payments.length > 0 && (
          <Text size="sm" mb="xs" data-testid="funding-total">
            Funding received: {formatNumber(fundingTotal, 4)} (negative = paid)
          </Text>
        )}
        <RecordTable rows={[...payments].reverse()} rowKey={(p) => `${p.symbol}-${p.ts_us}`} empty="No funding paid or received." testId="funding" maxHeight={420} columns={[
          { key: "ts", label: "Funding time (UTC)", render: (p) => formatTime(p.ts) }, { key: "symbol", label: "Symbol" },
          { key: "rate", label: "Rate", align: "right", render: (p) => formatNumber(p.rate, 6) },
          { key: "qty", label: "Position", align: "right", render: (p) => formatQty(p.qty) },
          { key: "mark_price", label: "Price", align: "right", render: (p) => formatPrice(p.mark_price) }, { key: "price_source", label: "Priced at" },
          { key: "amount", label: "Amount", align: "right", render: (p) => formatNumber(p.amount, 4) },
        ]} />
      </Tabs.Panel>
    </>
  );
}
