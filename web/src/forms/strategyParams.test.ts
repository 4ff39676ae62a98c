import { describe, expect, it } from "vitest";
import type { StrategyInfo } from "../api/types";
import { defaultParams, expandParams, strategyParams } from "./strategyParams";

const definition = {
  indicators: { fast: { type: "ema", period: 12 }, slow: { type: "ema", period: 26 } },
};
const emaTrend: StrategyInfo = {
  name: "ema_trend",
  kind: "example",
  base: "rules",
  description: "EMA crossover",
  params: {
    ...definition,
    entry: { left: "fast", op: "crosses_above", right: "slow" },
    exit: { left: "fast", op: "crosses_below", right: "slow" },
    direction: "long",
    sizing: { mode: "all_in" },
    stop_loss_pct: 2,
  },
};

describe("rule strategies in the start form", () => {
  it("offers typed controls for the definition's values, not its JSON", () => {
    const params = strategyParams(emaTrend);
    const byName = Object.fromEntries(params.map((p) => [p.name, p]));
    expect(byName["indicators.fast.period"]).toMatchObject({ type: "integer", default: 12 });
    expect(byName.direction).toMatchObject({ enum: ["long", "short"], default: "long" });
    expect(byName.stop_loss_pct).toMatchObject({ type: "number", default: 2 });
    expect(params.some((p) => p.name === "entry" || p.type === "string" && !p.enum)).toBe(false);
  });
  it("sends a changed period inside the whole indicators object", () => {
    const values = { ...defaultParams(strategyParams(emaTrend)), "indicators.fast.period": 9 };
    const sent = expandParams(values, emaTrend.params);
    expect(sent.indicators).toEqual({ fast: { type: "ema", period: 9 }, slow: { type: "ema", period: 26 } });
    expect(sent.stop_loss_pct).toBe(2);
    expect(definition.indicators.fast.period).toBe(12); // the listed definition is untouched
  });
});
