import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { renderWithProviders } from "../test/render";
import { ManualOrder } from "./ManualOrder";

describe("ManualOrder", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("keeps Buy and Sell disabled, saying why, until the symbol has a price", async () => {
    const fetchMock = vi.fn();
    vi.stubGlobal("fetch", fetchMock);
    renderWithProviders(<ManualOrder sessionId="exec_x" symbols={["BTC_USDT"]} pricedSymbols={[]} />);
    await userEvent.type(screen.getByLabelText("Quantity"), "0.01");
    expect(screen.getByRole("button", { name: "Buy" })).toBeDisabled();
    expect(screen.getByRole("button", { name: "Sell" })).toBeDisabled();
    expect(screen.getByTestId("order-waits-for-price")).toHaveTextContent("No market price for BTC_USDT yet");
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it("enables them once the symbol has a price", async () => {
    renderWithProviders(<ManualOrder sessionId="exec_x" symbols={["BTC_USDT"]} pricedSymbols={["BTC_USDT"]} />);
    await userEvent.type(screen.getByLabelText("Quantity"), "0.01");
    expect(screen.getByRole("button", { name: "Buy" })).toBeEnabled();
    expect(screen.getByRole("button", { name: "Sell" })).toBeEnabled();
    expect(screen.queryByTestId("order-waits-for-price")).toBeNull();
  });
});
