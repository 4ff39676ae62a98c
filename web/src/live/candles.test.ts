import { describe, expect, it } from "vitest";
import { addPrice, foldTicks, intervalFor } from "./candles";

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
