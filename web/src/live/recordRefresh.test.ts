import { describe, expect, it } from "vitest";

import { recordRefreshDelay, recordRefreshFloor, refreshFor } from "./useSessionStream";

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

describe("refreshFor", () => {
  const event = (kind: string, data: Record<string, unknown> = {}) => ({ seq: 1, ts: 0, kind, data });

  it("schedules the records a fill or an order changes, not the summary", () => {
    const stale = refreshFor([event("order"), event("fill")]);
    expect(stale.summary).toBe(false);
    expect([...stale.records].sort()).toEqual(["equity", "fills", "orders", "positions", "trades"]);
  });

  it("leaves the end's full re-read to the summary (one read, not one per end event)", () => {
    const stale = refreshFor([event("fill"), event("state", { from: "running", to: "completed" }), event("results")]);
    expect(stale.summary).toBe(true);
    expect([...stale.records].sort()).toEqual(["equity", "fills", "orders", "positions", "trades"]);
    expect(refreshFor([event("results")]).records.size).toBe(0);
  });

  it("a state change before the end reads the summary only (no record changes with it)", () => {
    const stale = refreshFor([event("state", { from: "running", to: "stopping" })]);
    expect(stale.summary).toBe(true);
    expect(stale.records.size).toBe(0);
  });
});
