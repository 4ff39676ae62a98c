import { asNumber, formatPrice, formatQty, toMillis } from "../format";
import type { FillMarker, PositionLine } from "../charts/PriceChart";
import type { LinePoint } from "../charts/LineChart";

export type Row = Record<string, unknown>;

export function fillMarkers(fills: Row[], symbol: string): FillMarker[] {
  return fills
    .filter((f) => f.symbol === symbol)
    .flatMap((f) => {
      const ms = toMillis(f.ts as string);
      const price = asNumber(f.price);
      if (ms === null || price === null) return [];
      return [{ timeSec: Math.floor(ms / 1000), side: f.side === "sell" ? "sell" : "buy", price, quantity: asNumber(f.qty ?? f.quantity) ?? undefined, fee: asNumber(f.fee) ?? undefined } as FillMarker];
    });
}

/** The latest row per symbol (positions are recorded append-only). */
export function latestPositions(rows: Row[]): Row[] {
  const bySymbol = new Map<string, Row>();
  for (const row of rows) {
    const symbol = String(row.symbol);
    const prev = bySymbol.get(symbol);
    if (!prev || (toMillis(row.ts as string) ?? 0) >= (toMillis(prev.ts as string) ?? 0)) bySymbol.set(symbol, row);
  }
  return [...bySymbol.values()];
}

/**
 * Open positions as they stand now: the newest recorded row per symbol, with the mark and
 * unrealized PnL of the running session (its live view) when it reports them — a position row
 * is recorded on fills, so its own mark is the fill price until the route overlays a live one.
 */
export function openPositions(rows: Row[], live: Row[] | undefined): Row[] {
  const marks = new Map((live ?? []).map((p) => [String(p.symbol), p]));
  return latestPositions(rows)
    .filter((p) => (asNumber(p.qty) ?? 0) !== 0)
    .map((p) => {
      const now = marks.get(String(p.symbol));
      if (!now) return p;
      return { ...p, mark_price: now.mark ?? now.mark_price ?? p.mark_price, unrealized_pnl: now.unrealized_pnl ?? p.unrealized_pnl, liquidation_price: now.liquidation_price };
    });
}

export function positionLines(positions: Row[], symbol: string): PositionLine[] {
  return latestPositions(positions)
    .filter((p) => p.symbol === symbol && (asNumber(p.qty) ?? 0) !== 0)
    .flatMap((p) => {
      const price = asNumber(p.avg_price ?? p.entry_price);
      const qty = asNumber(p.qty) ?? 0;
      return price === null ? [] : [{ price, title: `${qty > 0 ? "long" : "short"} ${formatQty(Math.abs(qty))} @ ${formatPrice(price)}` }];
    });
}

export function equityPoints(rows: Row[]): LinePoint[] {
  return rows.flatMap((r) => {
    const ms = toMillis(r.ts as string);
    const value = asNumber(r.equity);
    return ms === null || value === null ? [] : [{ timeSec: Math.floor(ms / 1000), value }];
  });
}

/** Latest state of each order (append-only rows), open ones first. */
export function latestOrders(rows: Row[]): Row[] {
  const byId = new Map<string, Row>();
  for (const row of rows) byId.set(String(row.order_id), row);
  return [...byId.values()];
}

export const OPEN_ORDER_STATES = ["open", "partially_filled", "new", "pending"];
