import { describe, expect, it } from "vitest";
import type { OrderView, PositionView } from "../api/types";
import { livePositions, openPositions, positionLines } from "./records";

const recorded: PositionView[] = [
  { symbol: "BTC_USDT", ts: "2024-01-01T00:00:00Z", ts_us: 1_704_067_200_000_000, qty: 0.10759346472130797, avg_price: 42000, mark_price: 42000, realized_pnl: 0, unrealized_pnl: 0, fees: 4.5 },
];

describe("openPositions", () => {
  it("takes the mark and unrealized PnL from the running session, not the entry record", () => {
    const live = livePositions({ positions: [{ symbol: "BTC_USDT", mark: 41906, unrealized_pnl: -10.1, liquidation_price: null }] });
    const [p] = openPositions(recorded, live);
    expect(p.mark_price).toBe(41906);
    expect(p.unrealized_pnl).toBe(-10.1);
    expect(p.avg_price).toBe(42000);
  });
  it("keeps the recorded row when the session reports nothing live", () => {
    expect(openPositions(recorded, livePositions({}))[0].mark_price).toBe(42000);
  });
  it("labels the entry line with a rounded size", () => {
    expect(positionLines(recorded, [], "BTC_USDT")[0].title).toBe("long 0.107593 @ 42,000");
  });
  it("draws the resting exits of the open position, not other orders", () => {
    const order = (id: string, o: Partial<OrderView>): OrderView => ({
      order_id: id, symbol: "BTC_USDT", side: "sell", type: "stop", qty: 0.1, price: null, stop_price: null, status: "open", filled_qty: 0,
      avg_fill_price: null, client_order_id: "", reason: "", ts: "", ts_us: 0, created_ts: "", created_ts_us: 0, ...o,
    });
    const orders = [
      order("1", { stop_price: 41_160, reason: "stop_loss" }),
      order("2", { type: "limit", price: 44_100, reason: "take_profit" }),
      order("3", { type: "limit", side: "buy", price: 40_000 }), // adds to the position: no exit
      order("4", { stop_price: 41_000, reason: "stop_loss" }),
      order("4", { stop_price: 41_000, reason: "stop_loss", status: "cancelled" }), // moved on
    ];
    expect(positionLines(recorded, orders, "BTC_USDT").map((l) => l.title)).toEqual([
      "long 0.107593 @ 42,000", "stop-loss @ 41,160", "take-profit @ 44,100",
    ]);
    expect(positionLines([], orders, "BTC_USDT")).toEqual([]);
  });
});
