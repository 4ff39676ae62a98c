import type { StartSessionBody } from "../api/types";

export type NumberField = number | string;

export interface StrategyChoice {
  name: string;
  params: Record<string, unknown>;
}

/** What the Start session form holds; `buildStartBody` turns it into the request body. */
export interface SessionFormValues {
  mode: StartSessionBody["mode"];
  symbols: string[];
  strategies: StrategyChoice[];
  source: "exchange" | "replay";
  exchange: string;
  marketType: "spot" | "swap";
  dataset: string | null;
  funding: string | null;
  mark: string | null;
  speed: NumberField;
  cash: NumberField;
  leverage: NumberField;
  feeTaker: NumberField;
  feeMaker: NumberField;
  maxPositionNotional: NumberField;
  maxOpenPositions: NumberField;
  dailyLossLimit: NumberField;
  maxDrawdownPct: NumberField;
  duration: NumberField;
  label: string;
}

export const initialValues: SessionFormValues = {
  mode: "paper",
  symbols: [],
  strategies: [],
  source: "replay",
  exchange: "mexc",
  marketType: "spot",
  dataset: null,
  funding: null,
  mark: null,
  speed: 1,
  cash: 10000,
  leverage: 1,
  feeTaker: "",
  feeMaker: "",
  maxPositionNotional: "",
  maxOpenPositions: "",
  dailyLossLimit: "",
  maxDrawdownPct: "",
  duration: "",
  label: "",
};

/** The server field each form value is validated as (for showing 422 details on fields). */
export const FIELD_PATHS: Record<keyof SessionFormValues, string> = {
  mode: "mode",
  symbols: "symbols",
  strategies: "strategies",
  source: "market.source",
  exchange: "market.exchange",
  marketType: "market.market_type",
  dataset: "market.dataset",
  funding: "market.funding",
  mark: "market.mark",
  speed: "market.speed",
  cash: "cash",
  leverage: "leverage",
  feeTaker: "fees.taker",
  feeMaker: "fees.maker",
  maxPositionNotional: "risk.max_position_notional",
  maxOpenPositions: "risk.max_open_positions",
  dailyLossLimit: "risk.daily_loss_limit",
  maxDrawdownPct: "risk.max_drawdown_pct",
  duration: "duration_seconds",
  label: "label",
};

/** An entered number, or undefined when the field is blank. Text that is not a number is sent
 * as typed, so the server (the one validator) names the field. */
export function numberOrBlank(value: NumberField): number | string | undefined {
  if (value === "" || value === null || value === undefined) return undefined;
  if (typeof value === "number") return value;
  const trimmed = value.trim();
  if (trimmed === "") return undefined;
  const parsed = Number(trimmed);
  return Number.isNaN(parsed) ? trimmed : parsed;
}

function compact<T extends Record<string, unknown>>(value: T): Partial<T> | undefined {
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  return entries.length ? (Object.fromEntries(entries) as Partial<T>) : undefined;
}

export function buildStartBody(v: SessionFormValues): StartSessionBody {
  const replay = v.source === "replay";
  const body: Record<string, unknown> = {
    mode: v.mode,
    symbols: v.symbols,
    strategies: v.strategies.map((s) => ({ name: s.name, params: s.params })),
    market: compact({
      source: v.source,
      exchange: replay ? undefined : v.exchange || undefined,
      market_type: v.marketType,
      dataset: replay ? v.dataset ?? undefined : undefined,
      // a perpetual's funding rates and mark prices, replayed with its trades
      funding: replay && v.marketType === "swap" ? v.funding ?? undefined : undefined,
      mark: replay && v.marketType === "swap" ? v.mark ?? undefined : undefined,
      speed: replay ? numberOrBlank(v.speed) : undefined,
    }),
    cash: numberOrBlank(v.cash),
    leverage: numberOrBlank(v.leverage),
    fees: compact({ taker: numberOrBlank(v.feeTaker), maker: numberOrBlank(v.feeMaker) }),
    risk: compact({
      max_position_notional: numberOrBlank(v.maxPositionNotional),
      max_open_positions: numberOrBlank(v.maxOpenPositions),
      daily_loss_limit: numberOrBlank(v.dailyLossLimit),
      max_drawdown_pct: numberOrBlank(v.maxDrawdownPct),
    }),
    duration_seconds: numberOrBlank(v.duration),
    label: v.label.trim() || undefined,
  };
  return compact(body) as unknown as StartSessionBody;
}
