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
  /** the bar's position among the candles (where the marker is drawn) */
  index: number;
  side: "buy" | "sell";
  fills: FillMarker[];
  qty: number;
  /** short label: "B 0.1076", "S×3 0.32" */
  label: string;
}

/** The index of the bar a time falls in (bars in time order), -1 before the first. */
function barIndex(timeSec: number, candles: readonly Candle[]): number {
  let lo = 0, hi = candles.length - 1, best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (candles[mid].time <= timeSec) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
}

/** Fills grouped per bar and side, each group with its short label. */
export function markerGroups(fills: readonly FillMarker[], candles: readonly Candle[]): MarkerGroup[] {
  const groups = new Map<string, MarkerGroup>();
  for (const fill of fills) {
    const index = barIndex(fill.timeSec, candles);
    const time = index >= 0 ? candles[index].time : fill.timeSec;
    const key = `${time}:${fill.side}`;
    const group = groups.get(key) ?? { time, index, side: fill.side, fills: [], qty: 0, label: "" };
    group.fills.push(fill);
    group.qty += fill.quantity ?? 0;
    groups.set(key, group);
  }
  const list = [...groups.values()].sort((a, b) => a.time - b.time || (a.side === "buy" ? -1 : 1));
  for (const g of list) {
    const count = g.fills.length > 1 ? `×${g.fills.length}` : "";
    g.label = `${g.side === "buy" ? "B" : "S"}${count} ${g.qty ? formatQty(g.qty) : ""}`.trim();
  }
  return list;
}

/** Pixels a marker label takes on the chart (12 px text), with a little space on each side. */
export function labelWidth(label: string): number {
  return label.length * 7 + 10;
}

/**
 * The label each marker shows at this zoom (`pxPerBar` pixels per bar): a marker is labelled
 * only when its label clears the previous labelled one on the same side of the bars (buys are
 * drawn below, sells above), so labels never overlap; the others are arrows (hover for
 * details). Zooming in labels more of them.
 */
export function spacedLabels(groups: readonly MarkerGroup[], pxPerBar: number): string[] {
  const last: Record<MarkerGroup["side"], MarkerGroup | null> = { buy: null, sell: null };
  return groups.map((g) => {
    const previous = last[g.side];
    const room = previous ? (g.index - previous.index) * pxPerBar : Infinity;
    if (pxPerBar <= 0 || room < (labelWidth(g.label) + (previous ? labelWidth(previous.label) : 0)) / 2) return "";
    last[g.side] = g;
    return g.label;
  });
}

/** One line per fill, for the hover card. */
export function describeFill(f: FillMarker): string {
  const fee = f.fee !== undefined ? ` · fee ${formatQty(f.fee)}` : "";
  return `${f.side === "buy" ? "Buy" : "Sell"} ${f.quantity !== undefined ? formatQty(f.quantity) : ""} @ ${formatPrice(f.price)}${fee}`;
}
