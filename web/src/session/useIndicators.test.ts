import { describe, expect, it } from "vitest";
import { overlaysOn } from "./useIndicators";

const candle = (time: number) => ({ time, open: 1, high: 1, low: 1, close: 1 });

describe("overlaysOn", () => {
  it("puts each indicator at the candles' times, the last value within each candle", () => {
    const series = [{ strategy: "sma_cross", name: "fast", output: "value", bar_interval: 60, points: [{ time: 0, value: 1 }, { time: 60, value: 2 }, { time: 120, value: 3 }, { time: 300, value: 9 }] }];
    const [overlay] = overlaysOn(series, [candle(0), candle(120)], 120);
    expect(overlay.title).toBe("fast");
    expect(overlay.points).toEqual([{ time: 0, value: 2 }, { time: 120, value: 3 }]); // 240 has no candle
  });
  it("names a band by its output", () => {
    const series = [{ strategy: "b", name: "bb", output: "upper", bar_interval: 60, points: [{ time: 0, value: 1 }] }];
    expect(overlaysOn(series, [candle(0)], 60)[0].title).toBe("bb.upper");
  });
});
