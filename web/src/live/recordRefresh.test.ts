import { describe, expect, it } from "vitest";

import { recordRefreshDelay } from "./useSessionStream";

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
});
