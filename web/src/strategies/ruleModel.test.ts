import { describe, expect, it } from "vitest";
import { newCondition, newGroup, newIndicator, ruleDefinition, updateNode, usesOf, withType, type RuleForm } from "./ruleModel";

function form(): RuleForm {
  const entry = newGroup("all");
  entry.children = [
    { ...newCondition(), left: "fast", op: "crosses_above", right: "slow" },
    { ...newCondition(), left: "rsi", op: ">", right: "70", negate: true },
  ];
  const exit = newGroup("any");
  exit.children = [{ ...newCondition(), left: "fast", op: "crosses_below", right: "slow" }];
  return {
    name: "ema_rsi",
    description: "",
    barInterval: 60,
    indicators: [
      { ...newIndicator("fast", "ema"), period: 12 },
      { ...newIndicator("slow", "ema"), period: 26 },
      { ...newIndicator("rsi", "rsi"), period: 14 },
    ],
    entry,
    useExit: true,
    exit,
    direction: "long",
    sizingMode: "all_in",
    sizingValue: "",
    stopLossPct: 2,
    takeProfitPct: "",
    trailingStopPct: "",
    cooldownBars: 0,
  };
}

describe("ruleDefinition", () => {
  it("produces the engine's rules definition: groups, NOT, numbers, no blank fields", () => {
    expect(ruleDefinition(form())).toEqual({
      bar_interval: 60,
      indicators: {
        fast: { type: "ema", period: 12, source: "close" },
        slow: { type: "ema", period: 26, source: "close" },
        rsi: { type: "rsi", period: 14, source: "close" },
      },
      entry: {
        all: [
          { left: "fast", op: "crosses_above", right: "slow" },
          { not: { left: "rsi", op: ">", right: 70 } },
        ],
      },
      exit: { any: [{ left: "fast", op: "crosses_below", right: "slow" }] },
      direction: "long",
      sizing: { mode: "all_in" },
      stop_loss_pct: 2,
      cooldown_bars: 0,
    });
  });

  it("leaves the exit out when there is none", () => {
    expect(ruleDefinition({ ...form(), useExit: false })).not.toHaveProperty("exit");
  });
});

describe("updateNode", () => {
  it("replaces or removes a nested node by id", () => {
    const root = newGroup("all");
    const inner = newGroup("any");
    root.children = [inner];
    const target = inner.children[0];
    const changed = updateNode(root, target.id, (n) => ({ ...n, negate: true }));
    expect((changed.children[0] as typeof inner).children[0].negate).toBe(true);
    const removed = updateNode(root, target.id, () => null);
    expect((removed.children[0] as typeof inner).children).toEqual([]);
  });
});

describe("indicator rows", () => {
  it("start from the new type's own defaults when the type changes", () => {
    const ema = newIndicator("fast", "ema");
    expect(ema.period).toBe(12);
    const rsi = withType(ema, "rsi");
    expect(rsi).toMatchObject({ alias: "fast", type: "rsi", period: 14 });
    expect(withType(ema, "macd")).toMatchObject({ fast: 12, slow: 26, signal: 9, period: "" });
  });
  it("know which conditions read them", () => {
    const entry = newGroup("all");
    entry.children = [{ ...newCondition(), left: "bb.upper", op: "<", right: "close" }];
    const exit = newGroup("all");
    exit.children = [{ ...newCondition(), left: "close", op: ">", right: "bb.lower" }];
    expect(usesOf("bb", { entry, exit, useExit: true })).toEqual(["entry", "exit"]);
    expect(usesOf("bb", { entry, exit, useExit: false })).toEqual(["entry"]);
    expect(usesOf("b", { entry, exit, useExit: true })).toEqual([]);
  });
});
