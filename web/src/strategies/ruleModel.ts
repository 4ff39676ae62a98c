/** The rule builder's model and its translation to the engine's `rules` definition
 * (see GET /strategies → rules → params_schema). */

export type Op = ">" | "<" | ">=" | "<=" | "crosses_above" | "crosses_below";
export const OPS: Op[] = [">", "<", ">=", "<=", "crosses_above", "crosses_below"];

export interface ConditionNode {
  id: string;
  kind: "condition";
  left: string;
  op: Op;
  right: string;
  negate: boolean;
}

export interface GroupNode {
  id: string;
  kind: "group";
  mode: "all" | "any";
  children: RuleNode[];
  negate: boolean;
}

export type RuleNode = ConditionNode | GroupNode;

export interface IndicatorRow {
  id: string;
  alias: string;
  type: string;
  period: number | string;
  fast: number | string;
  slow: number | string;
  signal: number | string;
  k: number | string;
  levels: number | string;
  source: string;
}

export const INDICATOR_TYPES = ["sma", "ema", "rsi", "macd", "bollinger", "atr", "vwap", "volume_surge", "price_velocity", "book_imbalance", "spread"];
/** Which settings each indicator type takes (the others are not sent). */
export const INDICATOR_FIELDS: Record<string, (keyof IndicatorRow)[]> = {
  sma: ["period", "source"],
  ema: ["period", "source"],
  rsi: ["period", "source"],
  macd: ["fast", "slow", "signal", "source"],
  bollinger: ["period", "k", "source"],
  atr: ["period"],
  vwap: ["period"],
  volume_surge: ["period"],
  price_velocity: ["period", "source"],
  book_imbalance: ["levels"],
  spread: [],
};
export const BAR_FIELDS = ["open", "high", "low", "close", "volume"];

/** Each indicator's usual settings (the engine's defaults; SMA/EMA have none, 20 and 12 are
 * the common choices). Changing an indicator's type starts from these. */
type Setting = "period" | "fast" | "slow" | "signal" | "k" | "levels";
export const INDICATOR_DEFAULTS: Record<string, Partial<Record<Setting, number | string>>> = {
  sma: { period: 20 },
  ema: { period: 12 },
  rsi: { period: 14 },
  macd: { fast: 12, slow: 26, signal: 9 },
  bollinger: { period: 20, k: 2 },
  atr: { period: 14 },
  vwap: { period: "" },
  volume_surge: { period: 20 },
  price_velocity: { period: 10 },
  book_imbalance: { levels: 5 },
  spread: {},
};

/** An indicator row switched to another type: that type's defaults, the alias and source kept. */
export function withType(row: IndicatorRow, type: string): IndicatorRow {
  return { ...row, period: "", fast: "", slow: "", signal: "", k: "", levels: "", ...INDICATOR_DEFAULTS[type], type };
}

/** The conditions that read an indicator (by alias or one of its outputs), as "Entry"/"Exit". */
export function usesOf(alias: string, form: Pick<RuleForm, "entry" | "exit" | "useExit">): string[] {
  const reads = (node: RuleNode): boolean =>
    node.kind === "condition"
      ? [node.left, node.right].some((o) => o.trim() === alias || o.trim().startsWith(`${alias}.`))
      : node.children.some(reads);
  return [reads(form.entry) ? "entry" : null, form.useExit && reads(form.exit) ? "exit" : null].filter((x): x is string => x !== null);
}

/** Where a node sits in the definition sent (`entry.all.0`, `.not` when negated), so the
 * server's field errors find their row. */
export function nodePath(parentPath: string, parentMode: "all" | "any", index: number): string {
  return `${parentPath}.${parentMode}.${index}`;
}

let counter = 0;
export const newId = () => `n${++counter}`;

export const newCondition = (): ConditionNode => ({ id: newId(), kind: "condition", left: "", op: ">", right: "", negate: false });
export const newGroup = (mode: "all" | "any" = "all"): GroupNode => ({ id: newId(), kind: "group", mode, children: [newCondition()], negate: false });
export const newIndicator = (alias = "", type = "sma"): IndicatorRow =>
  withType({ id: newId(), alias, type, period: "", fast: "", slow: "", signal: "", k: "", levels: "", source: "close" }, type);

/** A number when the text is one, else the text (an indicator or bar field name). */
export function operand(text: string): string | number {
  const trimmed = text.trim();
  return trimmed !== "" && !Number.isNaN(Number(trimmed)) ? Number(trimmed) : trimmed;
}

export function nodeDefinition(node: RuleNode): unknown {
  const inner =
    node.kind === "condition"
      ? { left: operand(node.left), op: node.op, right: operand(node.right) }
      : { [node.mode]: node.children.map(nodeDefinition) };
  return node.negate ? { not: inner } : inner;
}

export function indicatorDefinitions(rows: IndicatorRow[]): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    rows.map((row) => {
      const spec: Record<string, unknown> = { type: row.type };
      for (const field of INDICATOR_FIELDS[row.type] ?? []) {
        const value = row[field];
        if (value !== "" && value !== undefined) spec[field] = typeof value === "string" && field !== "source" ? operand(value) : value;
      }
      return [row.alias.trim(), spec];
    }),
  );
}

export interface RuleForm {
  name: string;
  description: string;
  barInterval: number | string;
  indicators: IndicatorRow[];
  entry: GroupNode;
  useExit: boolean;
  exit: GroupNode;
  direction: "long" | "short";
  sizingMode: "all_in" | "fraction" | "qty" | "notional";
  sizingValue: number | string;
  stopLossPct: number | string;
  takeProfitPct: number | string;
  trailingStopPct: number | string;
  cooldownBars: number | string;
}

const blankToUndefined = (v: number | string) => (v === "" ? undefined : typeof v === "string" ? operand(v) : v);

export function ruleDefinition(form: RuleForm): Record<string, unknown> {
  const definition: Record<string, unknown> = {
    bar_interval: blankToUndefined(form.barInterval),
    indicators: indicatorDefinitions(form.indicators),
    entry: nodeDefinition(form.entry),
    exit: form.useExit ? nodeDefinition(form.exit) : undefined,
    direction: form.direction,
    sizing: { mode: form.sizingMode, value: form.sizingMode === "all_in" ? undefined : blankToUndefined(form.sizingValue) },
    stop_loss_pct: blankToUndefined(form.stopLossPct),
    take_profit_pct: blankToUndefined(form.takeProfitPct),
    trailing_stop_pct: blankToUndefined(form.trailingStopPct),
    cooldown_bars: blankToUndefined(form.cooldownBars),
  };
  return JSON.parse(JSON.stringify(definition));
}

export function updateNode(root: GroupNode, id: string, change: (node: RuleNode) => RuleNode | null): GroupNode {
  const visit = (node: RuleNode): RuleNode | null => {
    if (node.id === id) return change(node);
    if (node.kind === "group") {
      return { ...node, children: node.children.map(visit).filter((n): n is RuleNode => n !== null) };
    }
    return node;
  };
  return visit(root) as GroupNode;
}
