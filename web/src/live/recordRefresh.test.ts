import { describe, expect, it } from "vitest";

import { recordRefreshDelay, recordRefreshFloor } from "./useSessionStream";

describe("recordRefreshDelay", () => {
  it("re-reads a quick record once a second", () => {
    expect(recordRefreshDelay(0)).toBe(1000);
    expect(recordRefreshDelay(120)).toBe(1000);
  });

  it("keeps a slow record's reading to a fifth of the time", () => {
    expect(recordRefreshDelay(500)).toBe(2000);
    expect(recordRefreshDelay(2000)).toBe(8000);
    const read = 900;
    expect(read / (read + recordRefreshDelay(read))).toBeCloseTo(0.2);
  });

  it("re-reads a backtest's records every few seconds, a paper session's every second", () => {
    expect(recordRefreshDelay(100, recordRefreshFloor("backtest"))).toBe(4000);
    expect(recordRefreshDelay(100, recordRefreshFloor("sweep"))).toBe(4000);
    expect(recordRefreshDelay(100, recordRefreshFloor("paper"))).toBe(1000);
    expect(recordRefreshDelay(100, recordRefreshFloor(undefined))).toBe(1000);
    expect(recordRefreshDelay(2000, recordRefreshFloor("backtest"))).toBe(8000);
  });
});
