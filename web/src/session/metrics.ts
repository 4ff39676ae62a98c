import { asNumber, formatMoney, formatNumber, formatPct, formatTime } from "../format";

/** Sharpe/Sortino need this much data (seconds of equity) before they mean anything. */
export const MIN_RATIO_SPAN_S = 86_400;
export const RATIO_RULE =
  "Annualised (365 days, risk-free 0) from hourly equity returns, daily once the run spans a week. " +
  "Shown as — until the data spans a day: a few minutes of returns, annualised, say nothing.";

const MONEY = new Set(["final_equity", "initial_equity", "realized_pnl", "realized_pnl_net", "unrealized_pnl", "fees", "funding"]);
const COUNTS = new Set(["trades", "fills", "open_positions"]);
const RATIOS = new Set(["sharpe", "sortino", "profit_factor"]);

/** The order a trader reads a result in; other metrics follow. */
const ORDER = [
  "final_equity", "total_return_pct", "realized_pnl", "fees", "funding", "realized_pnl_net", "unrealized_pnl",
  "max_drawdown_pct", "sharpe", "sortino", "trades", "win_rate_pct", "profit_factor",
  "avg_trade_pct", "best_trade_pct", "worst_trade_pct", "exposure_pct", "fills", "open_positions",
  "initial_equity", "start_ts", "end_ts",
];

const LABELS: Record<string, string> = {
  total_return_pct: "Total return",
  max_drawdown_pct: "Max drawdown",
  sharpe: "Sharpe (annualised)",
  sortino: "Sortino (annualised)",
  win_rate_pct: "Win rate",
  profit_factor: "Profit factor",
  exposure_pct: "Time in market",
  trades: "Closed trades",
  fills: "Fills",
  initial_equity: "Initial equity",
  avg_trade_pct: "Avg trade",
  best_trade_pct: "Best trade",
  worst_trade_pct: "Worst trade",
  start_ts: "Data from",
  end_ts: "Data to",
  open_positions: "Open positions",
  unrealized_pnl: "Unrealized PnL",
  realized_pnl: "Realized PnL (before fees)",
  realized_pnl_net: "Realized PnL (after fees)",
  fees: "Fees paid",
  funding: "Funding (received)",
};

/** "Equity" while the session runs, "Final equity" once it has ended. */
export function metricLabel(key: string, ended = true): string {
  if (key === "final_equity") return ended ? "Final equity" : "Equity";
  return LABELS[key] ?? key.replace(/_/g, " ");
}

/** A metric's value as a person reads it: money 2 decimals, %, counts, times. */
export function formatMetric(key: string, value: unknown): string {
  if (value === undefined || value === null) return "—";
  if (key.endsWith("_ts") || key.endsWith("_at")) return formatTime(value as number);
  if (typeof value !== "number") return String(value);
  if (MONEY.has(key)) return formatMoney(value);
  if (key.endsWith("_pct")) return formatPct(value);
  if (COUNTS.has(key)) return formatNumber(value, 0);
  if (RATIOS.has(key)) return formatMoney(value); // 2 fixed decimals, as money
  return formatNumber(value, 4);
}

export interface MetricItem {
  key: string;
  label: string;
  text: string;
  hint?: string;
}

/** How much market time the metrics cover, in seconds (null when they do not say). */
export function spanSeconds(metrics: Record<string, unknown>): number | null {
  const start = asNumber(metrics.start_ts), end = asNumber(metrics.end_ts);
  return start !== null && end !== null ? (end - start) / 1e6 : null;
}

/** The metrics to show, in reading order, with the derived net realized PnL and the ratios
 * held back ("—") while the sample is too short. */
export function displayMetrics(metrics: Record<string, unknown>, ended: boolean): MetricItem[] {
  const values: Record<string, unknown> = { ...metrics };
  const realized = asNumber(metrics.realized_pnl), fees = asNumber(metrics.fees);
  // perpetuals' funding is part of what was realized (negative: paid)
  if (realized !== null && fees !== null) values.realized_pnl_net = realized - fees + (asNumber(metrics.funding) ?? 0);
  const span = spanSeconds(metrics);
  const shortSample = span === null || span < MIN_RATIO_SPAN_S;
  const keys = Object.keys(values).filter((k) => typeof values[k] === "number" || typeof values[k] === "string" || values[k] === null);
  const ordered = [...ORDER.filter((k) => k in values), ...keys.filter((k) => !ORDER.includes(k)).sort()];
  return ordered.map((key) => {
    const ratio = key === "sharpe" || key === "sortino";
    const text = ratio && shortSample ? "—" : formatMetric(key, values[key]);
    const hint = ratio ? RATIO_RULE : key === "realized_pnl_net" ? "Realized PnL minus every fee paid, plus funding received" : key === "fees" ? "Every fee paid, open positions' entries included" : undefined;
    return { key, label: metricLabel(key, ended), text, hint };
  });
}
