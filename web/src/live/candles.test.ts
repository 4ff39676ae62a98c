import { describe, expect, it } from "vitest";
import { addPrice } from "./candles";

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
