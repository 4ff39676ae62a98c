import { describe, expect, it } from "vitest";
import { markerGroups, spacedLabels, type FillMarker } from "./markers";

const candles = Array.from({ length: 100 }, (_, i) => ({ time: i * 60, open: 1, high: 1, low: 1, close: 1 }));
const fill = (minute: number, side: "buy" | "sell", quantity: number): FillMarker => ({ timeSec: minute * 60 + 5, side, price: 1, quantity });

describe("markerGroups", () => {
  it("groups fills per bar and side with a short, rounded label", () => {
    const groups = markerGroups([fill(3, "buy", 0.10759346472130797), fill(3, "buy", 0.2), fill(3, "sell", 1), fill(50, "sell", 2)], candles);
    expect(groups.map((g) => [g.time, g.index, g.side, g.label])).toEqual([
      [180, 3, "buy", "B×2 0.307593"],
      [180, 3, "sell", "S 1"],
      [3000, 50, "sell", "S 2"],
    ]);
  });
});

describe("spacedLabels", () => {
  const groups = markerGroups([fill(0, "buy", 0.5), fill(2, "buy", 0.5), fill(2, "sell", 0.5), fill(30, "buy", 0.5)], candles);
  it("labels a marker only when its label clears the previous one on its side", () => {
    // "B 0.5" is 45 px wide: 2 bars at 4 px are too close, 30 bars are not; sells are drawn apart
    expect(spacedLabels(groups, 4)).toEqual(["B 0.5", "", "S 0.5", "B 0.5"]);
  });
  it("labels more of them as the user zooms in, none before the chart has a size", () => {
    expect(spacedLabels(groups, 40)).toEqual(["B 0.5", "B 0.5", "S 0.5", "B 0.5"]);
    expect(spacedLabels(groups, 0)).toEqual(["", "", "", ""]);
  });
});
