import { useQuery } from "@tanstack/react-query";
import { request } from "../api/client";
import type { components } from "../api/schema";
import type { StartSessionBody } from "../api/types";

type Schemas = components["schemas"];
export type TrialsData = Schemas["TrialsData"];
export type TrialView = Schemas["TrialView"];
export type SkippedView = Schemas["SkippedView"];
export type SweepConfig = Schemas["SweepConfig"];

export const trialsKey = (sessionId: string) => ["session", sessionId, "trials"] as unknown[];

/** A sweep's trials so far (`GET /sessions/{id}/trials`). */
export function useTrials(sessionId: string) {
  return useQuery({
    queryKey: trialsKey(sessionId),
    queryFn: async ({ signal }): Promise<TrialsData> =>
      (await request<TrialsData>(`/sessions/${sessionId}/trials`, { signal })).data,
  });
}

/** The backtest session that re-runs one trial in full (equity curve, fills, trades): the
 * sweep's own config with the trial's parameters, as a backtest. */
export function backtestOfTrial(
  config: Record<string, unknown>,
  trial: TrialView,
  sweepId: string,
): StartSessionBody {
  const rest: Record<string, unknown> = { ...config };
  for (const key of ["sweep", "idempotency_key", "label"]) delete rest[key];
  const strategies = (config.strategies as { name: string }[]) ?? [];
  return {
    ...(rest as unknown as StartSessionBody),
    mode: "backtest",
    strategies: [{ name: strategies[0]?.name ?? "", params: trial.params }],
    label: `${sweepId} trial #${trial.number}`,
  };
}

/** The swept parameters, in grid order (the others are fixed for every trial). */
export function axisNames(data: TrialsData): string[] {
  return data.axes.map((a) => String(a.name));
}
