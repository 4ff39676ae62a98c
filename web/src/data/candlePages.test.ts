import { describe, expect, it } from "vitest";
import type { CandleView } from "../api/types";
import { withNewest, type CandlePage } from "./hooks";

function bar(time: number, close = 100): CandleView {
  return { ts: new Date(time * 1000).toISOString(), time, open: 100, high: close + 1, low: 99, close, volume: 1 };
}

const held = {
  pages: [
    { items: [bar(180), bar(240), bar(300, 101)], nextEndUs: 180_000_000 },
    { items: [bar(60), bar(120)], nextEndUs: null },
  ] as CandlePage[],
  pageParams: [null, 180_000_000],
};

describe("withNewest", () => {
  it("replaces the newest bar, which may have grown, and appends the newer ones", () => {
    const merged = withNewest(held, [bar(300, 105), bar(360)], 5000);
    expect(merged.pages[0].items.map((b) => [b.time, b.close])).toEqual([
      [180, 100],
      [240, 100],
      [300, 105],
      [360, 100],
    ]);
    expect(merged.pages[1]).toBe(held.pages[1]);
    expect(merged.pageParams).toEqual(held.pageParams);
  });

  it("keeps what it holds when nothing is new", () => {
    expect(withNewest(held, [], 5000)).toBe(held);
  });

  it("drops the oldest bars and the older pages past the limit, to be read again on scrolling back", () => {
    const merged = withNewest(held, [bar(300), bar(360), bar(420)], 3);
    expect(merged.pages).toHaveLength(1);
    expect(merged.pages[0].items.map((b) => b.time)).toEqual([300, 360, 420]);
    expect(merged.pages[0].nextEndUs).toBe(300_000_000);
    expect(merged.pageParams).toEqual([null]);
  });
});
