import type { StrategyInfo, StrategyParam } from "../api/types";

/** The parameters a strategy declares: a built-in's JSON Schema, or the top-level fields of an
 * example's or saved strategy's definition. */
export function strategyParams(info: StrategyInfo | undefined): StrategyParam[] {
  if (!info) return [];
  const definition = ruleDefinitionOf(info);
  if (definition) return definitionParams(definition);
  const source = info.kind === "builtin" ? info.params_schema : info.params;
  if (source && typeof source === "object") {
    const schema = source as { properties?: Record<string, Record<string, unknown>> };
    const properties = schema.properties ?? (source as Record<string, Record<string, unknown>>);
    return Object.entries(properties)
      .filter(([, spec]) => spec && typeof spec === "object")
      .map(([name, spec]) => ({
        ...spec,
        name,
        type: schemaType(spec),
        description: (spec.description ?? spec.title) as string | undefined,
        minimum: bound(spec, "minimum", "exclusiveMinimum"),
        maximum: bound(spec, "maximum", "exclusiveMaximum"),
      }));
  }
  return [];
}

/** A simple type for a form input, or "json" for objects, arrays and unions of them. */
function schemaType(spec: Record<string, unknown>): string {
  if (spec.$ref || spec.type === "object" || spec.type === "array") return "json";
  if (typeof spec.type === "string") return spec.type;
  const options = ((spec.anyOf ?? spec.oneOf) as Record<string, unknown>[] | undefined)?.filter((s) => s.type !== "null") ?? [];
  if (options.some((s) => s.$ref || s.type === "object" || s.type === "array")) return "json";
  const types = [...new Set(options.map((s) => s.type))];
  return types.length === 1 && typeof types[0] === "string" ? types[0] : types.length > 1 ? "json" : "string";
}

export function defaultParams(params: StrategyParam[]): Record<string, unknown> {
  return Object.fromEntries(params.filter((p) => p.default !== undefined).map((p) => [p.name, p.default]));
}

function bound(spec: Record<string, unknown>, inclusive: string, exclusive: string): number | undefined {
  const sources = [spec, ...(((spec.anyOf as Record<string, unknown>[] | undefined) ?? []))];
  for (const source of sources) {
    const value = source[inclusive] ?? source[exclusive];
    if (typeof value === "number") return value;
  }
  return undefined;
}

/** A rule strategy (an example or a saved one) lists its definition — values, not a schema. */
export function ruleDefinitionOf(info: StrategyInfo | undefined): Record<string, unknown> | null {
  return info && info.kind !== "builtin" && info.base === "rules" ? info.params : null;
}

const RULE_NUMBERS: Record<string, string> = {
  stop_loss_pct: "stop-loss, % below entry",
  take_profit_pct: "take-profit, % above entry",
  trailing_stop_pct: "trailing stop, %",
  cooldown_bars: "bars to wait after an exit",
  bar_interval: "bar length in seconds when bars are built from trades",
};
const INDICATOR_NUMBERS = ["period", "fast", "slow", "signal", "k", "levels"];

/**
 * The tunable values of a rule definition as typed controls: each indicator's periods
 * (`indicators.fast.period`), the stops, cooldown, direction and sizing value. The conditions
 * themselves are edited in the rule builder, not here.
 */
export function definitionParams(definition: Record<string, unknown>): StrategyParam[] {
  const params: StrategyParam[] = [];
  const indicators = (definition.indicators ?? {}) as Record<string, Record<string, unknown>>;
  for (const [alias, spec] of Object.entries(indicators)) {
    for (const field of INDICATOR_NUMBERS) {
      if (typeof spec[field] === "number") {
        params.push({ name: `indicators.${alias}.${field}`, type: field === "k" ? "number" : "integer", default: spec[field], description: `${spec.type} ${alias}: ${field}`, minimum: 1 });
      }
    }
  }
  params.push({ name: "direction", type: "string", enum: ["long", "short"], default: definition.direction ?? "long" });
  const sizing = definition.sizing as { mode?: string; value?: number } | undefined;
  if (sizing?.value !== undefined) params.push({ name: "sizing.value", type: "number", default: sizing.value, description: `${sizing.mode} sizing` });
  for (const [name, description] of Object.entries(RULE_NUMBERS)) {
    params.push({ name, type: name === "cooldown_bars" || name === "bar_interval" ? "integer" : "number", default: definition[name] as number | undefined, description });
  }
  return params;
}

/** Form values of `definitionParams` (dotted names) → the params a start request sends: nested
 * objects are sent whole, since the server overlays params on the definition key by key. */
export function expandParams(values: Record<string, unknown>, definition: Record<string, unknown> | null): Record<string, unknown> {
  if (!definition) return values;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    const [head, ...rest] = key.split(".");
    if (rest.length === 0) {
      out[key] = value;
      continue;
    }
    const base = (out[head] ?? structuredClone(definition[head] ?? {})) as Record<string, unknown>;
    let node = base;
    for (const part of rest.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    node[rest[rest.length - 1]] = value;
    out[head] = base;
  }
  return out;
}
