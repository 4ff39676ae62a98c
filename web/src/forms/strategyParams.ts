import type { StrategyInfo, StrategyParam } from "../api/types";

/** The parameters a strategy declares: a built-in's JSON Schema, or the top-level fields of an
 * example's or saved strategy's definition. */
export function strategyParams(info: StrategyInfo | undefined): StrategyParam[] {
  if (!info) return [];
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
