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
