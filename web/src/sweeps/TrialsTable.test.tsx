import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { renderWithProviders } from "../test/render";
import type { TrialView } from "./api";
import { TrialsTable } from "./TrialsTable";

const trial = (number: number, score: number, engine: TrialView["engine"]): TrialView => ({
  number,
  params: { fast: 5 + number, slow: 30 },
  metrics: { trades: 3, sharpe: score },
  score,
  engine,
});

describe("TrialsTable", () => {
  it("says which engine ran each trial, a dash for trials recorded before it was kept", () => {
    renderWithProviders(
      <TrialsTable
        trials={[trial(0, 0.5, "vectorised"), trial(1, 1.5, "event"), trial(2, -1, null)]}
        params={["fast", "slow"]}
        objective="sharpe"
        opening={null}
        onOpen={() => {}}
      />,
    );
    expect(screen.getByRole("columnheader", { name: "engine" })).toBeInTheDocument();
    // sorted by score, best first
    expect(screen.getAllByTestId("trial-engine").map((cell) => cell.textContent)).toEqual(["event", "vectorised", "—"]);
  });
});
