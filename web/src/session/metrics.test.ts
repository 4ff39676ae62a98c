import { describe, expect, it } from "vitest";
import { displayMetrics } from "./metrics";

const HOUR_US = 3_600 * 1e6;
const base = { final_equity: 9961.2727, initial_equity: 10000, realized_pnl: -1890.5, fees: 7147.9, win_rate_pct: 16.2191, sharpe: -413.2, trades: 12, start_ts: 0 };

function shown(metrics: Record<string, unknown>, ended: boolean) {
  return Object.fromEntries(displayMetrics(metrics, ended).map((m) => [m.key, m]));
}

describe("displayMetrics", () => {
  it("says Equity while running and Final equity once ended, money at 2 decimals", () => {
    expect(shown({ ...base, end_ts: HOUR_US }, false).final_equity).toMatchObject({ label: "Equity", text: "9,961.27" });
    expect(shown({ ...base, end_ts: HOUR_US }, true).final_equity.label).toBe("Final equity");
  });
  it("shows percentages with their unit and labels PnL before and after fees", () => {
    const m = shown({ ...base, end_ts: HOUR_US }, true);
    expect(m.win_rate_pct.text).toBe("16.22 %");
    expect(m.realized_pnl.label).toBe("Realized PnL (before fees)");
    expect(m.realized_pnl_net).toMatchObject({ label: "Realized PnL (after fees)", text: "-9,038.40" });
  });
  it("holds Sharpe back until the data spans a day", () => {
    expect(shown({ ...base, end_ts: HOUR_US / 3 }, false).sharpe.text).toBe("—");
    expect(shown({ ...base, end_ts: 30 * HOUR_US }, true).sharpe.text).toBe("-413.20");
  });
});
