import type { FillView, OrderStatus, OrderView, PositionView, EquityView } from "../api/types";
import { formatPrice, formatQty } from "../format";
import type { FillMarker, PositionLine } from "../charts/PriceChart";
import type { LinePoint } from "../charts/LineChart";

export function fillMarkers(fills: FillView[], symbol: string): FillMarker[] {
  return fills
    .filter((f) => f.symbol === symbol)
    .map((f) => ({ timeSec: Math.floor(f.ts_us / 1_000_000), side: f.side, price: f.price, quantity: f.qty, fee: f.fee }));
}

/** The latest row per symbol (positions are recorded append-only, oldest first). */
export function latestPositions(rows: PositionView[]): PositionView[] {
  const bySymbol = new Map<string, PositionView>();
  for (const row of rows) {
    const prev = bySymbol.get(row.symbol);
    if (!prev || row.ts_us >= prev.ts_us) bySymbol.set(row.symbol, row);
  }
  return [...bySymbol.values()];
}

/** An open position as a running session reports it now (its counters' `positions`, written by
 * the trading consumer's live view). */
export interface LivePosition {
  symbol: string;
  mark: number;
  unrealized_pnl: number;
  liquidation_price: number | null;
}

export type OpenPosition = PositionView & { liquidation_price?: number | null };

/** The live positions in a session's counters (none once it has ended or before its first
 * event): the counters are a free-form object in the API, this is the one key read from it. */
export function livePositions(counters: Record<string, unknown> | null | undefined): LivePosition[] {
  const rows = counters?.positions;
  return Array.isArray(rows) ? (rows as LivePosition[]) : [];
}

/**
 * Open positions as they stand now: the newest recorded row per symbol, with the mark and
 * unrealized PnL of the running session (its live view) when it reports them — a position row
 * is recorded on fills, so its own mark is the fill price until the route overlays a live one.
 */
export function openPositions(rows: PositionView[], live: LivePosition[]): OpenPosition[] {
  const marks = new Map(live.map((p) => [p.symbol, p]));
  return latestPositions(rows)
    .filter((p) => p.qty !== 0)
    .map((p) => {
      const now = marks.get(p.symbol);
      return now ? { ...p, mark_price: now.mark, unrealized_pnl: now.unrealized_pnl, liquidation_price: now.liquidation_price } : p;
    });
}

const EXIT_NAMES: Record<string, string> = { stop_loss: "stop-loss", take_profit: "take-profit" };

/**
 * The open position's lines over its price chart: the entry price, and the exits waiting for
 * it — the resting orders on the closing side (a rule strategy's stop-loss and take-profit, a
 * manual limit), each at its stop or limit price.
 */
export function positionLines(positions: PositionView[], orders: OrderView[], symbol: string): PositionLine[] {
  const open = latestPositions(positions).find((p) => p.symbol === symbol && p.qty !== 0);
  if (!open) return [];
  const closing = open.qty > 0 ? "sell" : "buy";
  const entry = { price: open.avg_price, color: "#fab005", keepInView: true, title: `${open.qty > 0 ? "long" : "short"} ${formatQty(Math.abs(open.qty))} @ ${formatPrice(open.avg_price)}` };
  const exits = latestOrders(orders)
    .filter((o) => o.symbol === symbol && o.side === closing && OPEN_ORDER_STATES.includes(o.status))
    .flatMap((o) => {
      const price = o.stop_price ?? o.price;
      if (price === null) return [];
      const name = EXIT_NAMES[o.reason] ?? `${o.type} ${o.side}`;
      return [{ price, color: o.stop_price !== null ? "#ff6b6b" : "#51cf66", keepInView: false, title: `${name} @ ${formatPrice(price)}` }];
    });
  return [entry, ...exits];
}

export function equityPoints(rows: EquityView[]): LinePoint[] {
  return rows.map((r) => ({ timeSec: Math.floor(r.ts_us / 1_000_000), value: r.equity }));
}

/** Latest state of each order (append-only rows). */
export function latestOrders(rows: OrderView[]): OrderView[] {
  const byId = new Map<string, OrderView>();
  for (const row of rows) byId.set(row.order_id, row);
  return [...byId.values()];
}

export const OPEN_ORDER_STATES: readonly OrderStatus[] = ["open", "partially_filled"];
