import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { SessionSummary } from "../api/types";
import { renderWithProviders } from "../test/render";
import { CollectStats } from "./CollectStats";
import { PerpetualRules } from "./PerpetualRules";

function session(fields: Partial<SessionSummary> & { counters: Record<string, unknown> }): SessionSummary {
  return { session_id: "exec_x", state: "running", mode: "paper", symbols: ["XRP_USDT"], ...fields } as SessionSummary;
}

describe("PerpetualRules", () => {
  it("says a streamed mark values the position, and how a liquidation closes it", () => {
    const liquidation = { close_at: "bankruptcy", fee_rate: 0.0125, tiers: { XRP_USDT: "configured" } };
    renderWithProviders(<PerpetualRules session={session({ counters: { valued_at: { XRP_USDT: "mark" }, liquidation } })} />);
    expect(screen.getByTestId("valued-at")).toHaveTextContent("mark price");
    expect(screen.getByTestId("perpetual-rules")).toHaveTextContent("the session's");
    expect(screen.getByTestId("liquidation-rule")).toHaveTextContent("at its bankruptcy price and charges 1.25 % of the closed notional");
  });

  it("shows nothing on spot (no liquidation rules)", () => {
    renderWithProviders(<PerpetualRules session={session({ counters: { valued_at: { XRP_USDT: "last" }, liquidation: null } })} />);
    expect(screen.queryByTestId("perpetual-rules")).toBeNull();
  });
});

describe("CollectStats", () => {
  const written = { trades: 4, candles: 2, book: 0, marks: 39, funding: 5 };

  it("counts the mark prices and funding rates a perpetual's collection recorded", () => {
    const s = session({ mode: "collect", counters: { rows_written: written }, config: { market: { market_type: "swap" } } });
    renderWithProviders(<CollectStats session={s} />);
    expect(document.querySelector("[data-rows='marks']")).toHaveTextContent("39");
    expect(document.querySelector("[data-rows='funding']")).toHaveTextContent("5");
  });

  it("has no mark or funding cards on spot", () => {
    const s = session({ mode: "collect", counters: { rows_written: written }, config: { market: { market_type: "spot" } } });
    renderWithProviders(<CollectStats session={s} />);
    expect(document.querySelector("[data-rows='trades']")).toHaveTextContent("4");
    expect(document.querySelector("[data-rows='marks']")).toBeNull();
  });
});
