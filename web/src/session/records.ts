import type { FillView, OrderStatus, OrderView, PositionView, EquityView } from "../api/types";
import type { FillMarker, PositionLine } from "../charts/PriceChart";
import type { LinePoint } from "../charts/LineChart";

export function fillMarkers(fills: FillView[], symbol: string): FillMarker[] {
  return fills
    .filter((f) => f.symbol === symbol)
    .map((f) => ({ timeSec: Math.floor(f.ts_us / 1_000_000), side: f.side, price: f.price, quantity: f.qty }));
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

export function positionLines(positions: PositionView[], symbol: string): PositionLine[] {
  return latestPositions(positions)
    .filter((p) => p.symbol === symbol && p.qty !== 0)
    .map((p) => ({ price: p.avg_price, title: `${p.qty > 0 ? "long" : "short"} ${p.qty}` }));
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
