import type { SessionFormValues } from "./sessionForm";

/** What each section of the session form gets: the values, a setter and the server's errors. */
export interface SectionProps {
  values: SessionFormValues;
  set: <K extends keyof SessionFormValues>(key: K, value: SessionFormValues[K]) => void;
  fieldError: (key: keyof SessionFormValues) => string | undefined;
}

/** "Start session" (every mode) or "Run backtest" (a replay, no mode, no duration). */
export type SessionFormVariant = "session" | "backtest";
