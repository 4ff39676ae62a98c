import { isTerminal, type SessionSummary } from "../api/types";

/** How often a running backtest's page takes in what is pushed to it and redraws its charts. A
 * backtest replays months in seconds: its events, ticks and progress arrive several times a
 * second, and each render of its page (a thousand candles, curves, tables) costs the browser
 * tens of milliseconds of the cores the backtest itself runs on. Once a second still shows it
 * advancing. */
export const BACKTEST_PACE_MS = 1000;

/** The wait between updates of a session's page: a running backtest's are paced, a live or
 * paper session's follow every tick, an ended session shows its final data at once. */
export function updateEvery(session: Pick<SessionSummary, "mode" | "state"> | undefined): number {
  return session?.mode === "backtest" && !isTerminal(session.state) ? BACKTEST_PACE_MS : 0;
}
