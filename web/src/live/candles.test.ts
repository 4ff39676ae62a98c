import { describe, expect, it } from "vitest";
import { addPrice, foldTicks, historyBehind, intervalFor, liveCandles } from "./candles";

describe("addPrice", () => {
  it("folds prices of one interval into a single candle", () => {
    let candles = addPrice([], 60, 10, 60);
    candles = addPrice(candles, 70, 12, 60);
    candles = addPrice(candles, 119, 9, 60);
    expect(candles).toEqual([{ time: 60, open: 10, high: 12, low: 9, close: 9 }]);
  });

  it("starts a new candle in the next interval and ignores late prices", () => {
    let candles = addPrice([], 60, 10, 60);
    candles = addPrice(candles, 125, 11, 60);
    expect(candles.map((c) => c.time)).toEqual([60, 120]);
    expect(addPrice(candles, 61, 99, 60)).toBe(candles);
  });
});

describe("foldTicks", () => {
  it("extends recorded candles with live ticks", () => {
    const history = [{ time: 60, open: 1, high: 2, low: 1, close: 2 }];
    const out = foldTicks(history, [{ timeMs: 100_000, price: 3 }, { timeMs: 130_000, price: 4 }], 60);
    expect(out).toEqual([
      { time: 60, open: 1, high: 3, low: 1, close: 3 },
      { time: 120, open: 4, high: 4, low: 4, close: 4 },
    ]);
  });
});

describe("intervalFor", () => {
  it("aims at about a hundred bars but never finer than the data", () => {
    expect(intervalFor(46)).toBe(1);
    expect(intervalFor(3600)).toBe(60);
    expect(intervalFor(3600, 300)).toBe(300);
  });
});

describe("liveCandles", () => {
  const history = [{ time: 0, open: 10, high: 12, low: 9, close: 11 }];
  it("never draws a finished bar from a single sampled tick (a fast replay's flat dashes)", () => {
    const ticks = [{ timeMs: 61_000, price: 11.5 }, { timeMs: 125_000, price: 12 }, { timeMs: 190_000, price: 13 }];
    const out = liveCandles(history, ticks, 60);
    expect(out.map((c) => c.time)).toEqual([0, 180]); // 60 and 120 wait for history; 180 is forming
  });
  it("never draws a finished bar whose ticks all had one price", () => {
    const ticks = [{ timeMs: 61_000, price: 12 }, { timeMs: 90_000, price: 12 }, { timeMs: 125_000, price: 13 }];
    expect(liveCandles(history, ticks, 60).map((c) => c.time)).toEqual([0, 120]);
  });
  it("extends the newest history bar and keeps tick bars that have a real range", () => {
    const ticks = [{ timeMs: 30_000, price: 99 }, { timeMs: 61_000, price: 11 }, { timeMs: 70_000, price: 14 }, { timeMs: 130_000, price: 13 }];
    const out = liveCandles(history, ticks, 60);
    expect(out[0]).toEqual({ time: 0, open: 10, high: 99, low: 9, close: 99 });
    expect(out[1]).toEqual({ time: 60, open: 11, high: 14, low: 11, close: 14 });
    expect(out.map((c) => c.time)).toEqual([0, 60, 120]);
  });
  it("says when ticks have run past the history", () => {
    expect(historyBehind(history, [{ timeMs: 100_000 }], 60)).toBe(false);
    expect(historyBehind(history, [{ timeMs: 130_000 }], 60)).toBe(true);
  });
});
