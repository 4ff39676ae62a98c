import { screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/errors";
import { renderWithProviders, stubFetch } from "../test/render";
import { SessionForm } from "./SessionForm";

const strategies = {
  status: "strategies",
  data: {
    strategies: [
      {
        name: "sma_cross",
        kind: "builtin",
        params_schema: { type: "object", properties: { fast: { type: "integer", default: 10, minimum: 1 } } },
      },
    ],
  },
};
const datasets = { status: "datasets_listed", data: { datasets: [] } };

describe("SessionForm", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("shows each server validation error on its own field, and the rest above the form", async () => {
    stubFetch({ "/strategies": strategies, "/datasets": datasets });
    const error = new ApiError({
      code: "validation_error",
      message: "2 fields are invalid",
      httpStatus: 422,
      request: "POST /sessions/start",
      details: [
        { field: "market.speed", message: "Input should be greater than or equal to 0" },
        { field: "", message: "a backtest replays a dataset" },
      ],
    });
    renderWithProviders(<SessionForm variant="session" submitLabel="Start" onSubmit={() => {}} pending={false} error={error} />);
    const speed = screen.getByLabelText("Replay speed");
    expect(speed).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByText("Input should be greater than or equal to 0")).toBeInTheDocument();
    expect(screen.getByTestId("form-error")).toHaveTextContent("a backtest replays a dataset");
    expect(screen.getByLabelText("Cash")).not.toHaveAttribute("aria-invalid", "true");
  });

  it("tells the user when the strategy list cannot be loaded, with the server's message", async () => {
    stubFetch({ "/datasets": datasets });
    renderWithProviders(<SessionForm variant="session" submitLabel="Start" onSubmit={() => {}} pending={false} error={null} />);
    await waitFor(() => expect(screen.getByText(/Strategies unavailable: no route \/strategies/)).toBeInTheDocument());
  });
});
