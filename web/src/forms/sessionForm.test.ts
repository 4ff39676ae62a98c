import { describe, expect, it } from "vitest";
import { buildStartBody, initialValues } from "./sessionForm";
import { FieldErrorMap, normalizeField } from "./fieldErrors";

describe("buildStartBody", () => {
  it("sends a replay paper session with its dataset and speed, leaving blanks out", () => {
    const body = buildStartBody({
      ...initialValues,
      symbols: ["BTC_USDT"],
      dataset: "btc",
      speed: 50,
      strategies: [{ name: "sma_cross", params: { fast: 5, slow: 20 } }],
    });
    expect(body).toEqual({
      mode: "paper",
      symbols: ["BTC_USDT"],
      strategies: [{ name: "sma_cross", params: { fast: 5, slow: 20 } }],
      market: { source: "replay", market_type: "spot", dataset: "btc", speed: 50 },
      cash: 10000,
      leverage: 1,
    });
  });

  it("sends the exchange and no dataset for a live feed", () => {
    const body = buildStartBody({ ...initialValues, source: "exchange", dataset: "btc", duration: "60" });
    expect(body.market).toEqual({ source: "exchange", exchange: "mexc", market_type: "spot" });
    expect(body.duration_seconds).toBe(60);
  });

  it("sends funding and mark datasets with a perpetual's replay only", () => {
    const swap = buildStartBody({ ...initialValues, marketType: "swap", dataset: "xrp", funding: "xrp_f", mark: "xrp_m" });
    expect(swap.market).toEqual({ source: "replay", market_type: "swap", dataset: "xrp", funding: "xrp_f", mark: "xrp_m", speed: 1 });
    const spot = buildStartBody({ ...initialValues, dataset: "xrp", funding: "xrp_f", mark: "xrp_m" });
    expect(spot.market).toEqual({ source: "replay", market_type: "spot", dataset: "xrp", speed: 1 });
  });

  it("passes text that is not a number through for the server to reject on its field", () => {
    const body = buildStartBody({ ...initialValues, cash: "lots" });
    expect(body.cash).toBe("lots");
  });
});

describe("FieldErrorMap", () => {
  it("finds errors by their normalized path and reports the ones no field showed", () => {
    const map = new FieldErrorMap([
      { field: "body.market.speed", message: "must be ≥ 0" },
      { field: "strategies[0].params.fast", message: "too small" },
      { field: "", message: "model-level" },
    ]);
    expect(normalizeField("strategies[0].params.fast")).toBe("strategies.0.params.fast");
    expect(map.for("market.speed")).toBe("must be ≥ 0");
    expect(map.for("strategies.0.params.fast")).toBe("too small");
    expect(map.unclaimed(["market.speed"])).toEqual([{ field: "", message: "model-level" }]);
  });
});
