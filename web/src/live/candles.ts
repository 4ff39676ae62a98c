/** Candles built from live price ticks, bucketed by the tick's own (market) time. */

export interface Candle {
  time: number; // seconds, bucket start
  open: number;
  high: number;
  low: number;
  close: number;
}

export function addPrice(candles: readonly Candle[], timeSec: number, price: number, intervalSec: number): Candle[] {
  const bucket = Math.floor(timeSec / intervalSec) * intervalSec;
  const last = candles[candles.length - 1];
  if (last && bucket < last.time) return candles as Candle[]; // out of order: ignored
  if (last && bucket === last.time) {
    const updated = {
      ...last,
      high: Math.max(last.high, price),
      low: Math.min(last.low, price),
      close: price,
    };
    return [...candles.slice(0, -1), updated];
  }
  return [...candles, { time: bucket, open: price, high: price, low: price, close: price }];
}

/** Fold price ticks (ms) onto candles, e.g. the recorded history a chart starts from. */
export function foldTicks(candles: readonly Candle[], ticks: readonly { timeMs: number; price: number }[], intervalSec: number): Candle[] {
  let out = candles as Candle[];
  for (const tick of ticks) out = addPrice(out, Math.floor(tick.timeMs / 1000), tick.price, intervalSec);
  return out;
}

export const CHART_INTERVALS = [1, 5, 15, 60, 300, 900, 3600, 14400, 86400];

/** An interval that shows a span of market time as roughly 100 bars, never finer than the data. */
export function intervalFor(spanSec: number, dataIntervalSec = 1): number {
  const wanted = Math.max(dataIntervalSec, spanSec / 100);
  return CHART_INTERVALS.find((i) => i >= wanted) ?? CHART_INTERVALS[CHART_INTERVALS.length - 1];
}
