import type { Candle } from "../live/candles";
import { formatPrice, formatQty } from "../format";

export interface FillMarker {
  timeSec: number;
  side: "buy" | "sell";
  price: number;
  quantity?: number;
  fee?: number;
}

/** The fills of one bar and side, drawn as one marker. */
export interface MarkerGroup {
  time: number;
  side: "buy" | "sell";
  fills: FillMarker[];
  qty: number;
  text: string;
}

/** More markers than this and their labels would overlap: arrows only (hover for details). */
export const MAX_LABELLED = 40;

/** The open time of the bar a time falls in (bars in time order), else the time itself. */
export function alignToCandle(timeSec: number, candles: readonly Candle[]): number {
  let lo = 0, hi = candles.length - 1, best = timeSec;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (candles[mid].time <= timeSec) {
      best = candles[mid].time;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
}

/** Fills grouped per bar and side, each group labelled short: "B 0.1076", "S×3 0.32". */
export function markerGroups(fills: readonly FillMarker[], candles: readonly Candle[]): MarkerGroup[] {
  const groups = new Map<string, MarkerGroup>();
  for (const fill of fills) {
    const time = alignToCandle(fill.timeSec, candles);
    const key = `${time}:${fill.side}`;
    const group = groups.get(key) ?? { time, side: fill.side, fills: [], qty: 0, text: "" };
    group.fills.push(fill);
    group.qty += fill.quantity ?? 0;
    groups.set(key, group);
  }
  const list = [...groups.values()].sort((a, b) => a.time - b.time || (a.side === "buy" ? -1 : 1));
  const labelled = list.length <= MAX_LABELLED;
  for (const g of list) {
    const letter = g.side === "buy" ? "B" : "S";
    const count = g.fills.length > 1 ? `×${g.fills.length}` : "";
    g.text = labelled ? `${letter}${count} ${g.qty ? formatQty(g.qty) : ""}`.trim() : "";
  }
  return list;
}

/** One line per fill, for the hover card. */
export function describeFill(f: FillMarker): string {
  const fee = f.fee !== undefined ? ` · fee ${formatQty(f.fee)}` : "";
  return `${f.side === "buy" ? "Buy" : "Sell"} ${f.quantity !== undefined ? formatQty(f.quantity) : ""} @ ${formatPrice(f.price)}${fee}`;
}
