import type { StrategyInfo, StrategyParam } from "../api/types";

/** The parameters a strategy declares, from either a list or a JSON Schema object. */
export function strategyParams(info: StrategyInfo | undefined): StrategyParam[] {
  if (!info) return [];
  const source = info.params_schema ?? info.params ?? (info as { parameters?: unknown }).parameters;
  if (Array.isArray(source)) return source as StrategyParam[];
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
        minimum: (spec.minimum ?? spec.exclusiveMinimum ?? spec.ge ?? spec.gt) as number | undefined,
        maximum: (spec.maximum ?? spec.exclusiveMaximum ?? spec.le ?? spec.lt) as number | undefined,
      }));
  }
  return [];
}

function schemaType(spec: Record<string, unknown>): string {
  if (typeof spec.type === "string") return spec.type;
  const anyOf = spec.anyOf as { type?: string }[] | undefined;
  const first = anyOf?.find((s) => s.type && s.type !== "null");
  return first?.type ?? "string";
}

export function defaultParams(params: StrategyParam[]): Record<string, unknown> {
  return Object.fromEntries(params.filter((p) => p.default !== undefined).map((p) => [p.name, p.default]));
}
