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

/**
 * Recorded history extended by live price ticks. History is the truth: ticks older than its
 * newest bar are left out, and a bar built from ticks alone is shown only while it is the
 * newest (forming) bar or once its ticks span a range (high above low). Price ticks are sampled
 * (a few a second), so in a fast replay a finished bar may hold one tick, or a few at one
 * price, and would be drawn as a flat dash with no open/high/low; such bars wait for the next
 * history read instead.
 */
export function liveCandles(history: readonly Candle[], ticks: readonly { timeMs: number; price: number }[], intervalSec: number): Candle[] {
  const lastHistory = history.length ? history[history.length - 1].time : -Infinity;
  let out = history as Candle[];
  for (const tick of ticks) {
    const timeSec = Math.floor(tick.timeMs / 1000);
    if (Math.floor(timeSec / intervalSec) * intervalSec < lastHistory) continue;
    out = addPrice(out, timeSec, tick.price, intervalSec);
  }
  const newest = out.length ? out[out.length - 1].time : -Infinity;
  return out.filter((c) => c.time <= lastHistory || c.time === newest || c.high > c.low);
}

/** True when ticks have moved past the history's newest bar: time to read history again. */
export function historyBehind(history: readonly Candle[], ticks: readonly { timeMs: number }[], intervalSec: number): boolean {
  const last = ticks[ticks.length - 1];
  if (!last || history.length === 0) return false;
  const bucket = Math.floor(last.timeMs / 1000 / intervalSec) * intervalSec;
  return bucket > history[history.length - 1].time + intervalSec;
}

/** An interval that shows a span of market time in at most ~1,500 bars (one page of history,
 * so the chart opens on the whole run), never finer than the data. */
export function chartIntervalFor(spanSec: number, dataIntervalSec = 1): number {
  const wanted = Math.max(dataIntervalSec, spanSec / 1500);
  return CHART_INTERVALS.find((i) => i >= wanted) ?? CHART_INTERVALS[CHART_INTERVALS.length - 1];
}

export const INTERVAL_LABELS: Record<number, string> = { 1: "1s", 5: "5s", 15: "15s", 60: "1m", 300: "5m", 900: "15m", 3600: "1h", 14400: "4h", 86400: "1d" };

export const CHART_INTERVALS = [1, 5, 15, 60, 300, 900, 3600, 14400, 86400];

/** An interval that shows a span of market time as roughly 100 bars, never finer than the data. */
export function intervalFor(spanSec: number, dataIntervalSec = 1): number {
  const wanted = Math.max(dataIntervalSec, spanSec / 100);
  return CHART_INTERVALS.find((i) => i >= wanted) ?? CHART_INTERVALS[CHART_INTERVALS.length - 1];
}
