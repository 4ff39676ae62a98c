import { describe, expect, it } from "vitest";
import { formatDuration, formatMoney, formatPct, formatQty, formatSigned } from "./format";

describe("formatting for people", () => {
  it("shows money with separators and 2 decimals", () => {
    expect(formatMoney(961.2727)).toBe("961.27");
    expect(formatMoney(-9038.5)).toBe("-9,038.50");
    expect(formatMoney(null)).toBe("—");
  });
  it("shows percentages with their unit", () => {
    expect(formatPct(16.2191)).toBe("16.22 %");
  });
  it("rounds quantities to 6 significant digits", () => {
    expect(formatQty(0.10759346472130797)).toBe("0.107593");
    expect(formatQty(2)).toBe("2");
    expect(formatQty(1234567)).toBe("1,234,567");
  });
  it("says durations in the two largest units", () => {
    expect(formatDuration(59)).toBe("59 s");
    expect(formatDuration(3_725)).toBe("1 h 2 min");
    expect(formatDuration(90_061)).toBe("1 d 1 h");
    expect(formatDuration(0)).toBe("0 s");
  });
});

describe("formatSigned", () => {
  it("writes money with its sign and always 2 decimals", () => {
    expect(formatSigned(8364.521)).toBe("+8,364.52");
    expect(formatSigned(-3112.4)).toBe("−3,112.40");
    expect(formatSigned(0)).toBe("0.00");
    expect(formatSigned(null)).toBe("—");
  });
});
