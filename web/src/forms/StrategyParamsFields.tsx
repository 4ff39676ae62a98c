import { NumberInput, Select, SimpleGrid, Switch, Text, TextInput } from "@mantine/core";
import { JsonParamInput } from "./JsonParamInput";
import type { StrategyParam } from "../api/types";
import type { FieldErrorMap } from "./fieldErrors";

/** Inputs generated from a strategy's parameter schema. `path` prefixes server field names. */
export function StrategyParamsFields({
  params,
  values,
  onChange,
  errors,
  path,
  strategyName,
}: {
  params: StrategyParam[];
  values: Record<string, unknown>;
  onChange: (values: Record<string, unknown>) => void;
  errors: FieldErrorMap;
  path: string;
  strategyName: string;
}) {
  if (params.length === 0) {
    return (
      <Text size="xs" c="dimmed">
        {strategyName} takes no parameters.
      </Text>
    );
  }
  const set = (name: string, value: unknown) => {
    const next = { ...values };
    if (value === "" || value === undefined) delete next[name];
    else next[name] = value;
    onChange(next);
  };
  return (
    <SimpleGrid cols={3} spacing="xs">
      {params.map((p) => {
        const label = `${strategyName}: ${p.name}`;
        const error = errors.for(`${path}.${p.name}`);
        const description = describe(p);
        const current = values[p.name];
        if (Array.isArray(p.enum)) {
          return (
            <Select
              key={p.name}
              label={label}
              description={description}
              data={p.enum.map(String)}
              value={current === undefined ? null : String(current)}
              onChange={(v) => set(p.name, v ?? undefined)}
              error={error}
              allowDeselect
            />
          );
        }
        if (p.type === "json") {
          return (
            <JsonParamInput key={p.name} label={label} description={description} value={current} onChange={(v) => set(p.name, v)} error={error} />
          );
        }
        if (p.type === "boolean") {
          return (
            <Switch
              key={p.name}
              mt="lg"
              label={label}
              description={description}
              checked={Boolean(current ?? p.default)}
              onChange={(e) => set(p.name, e.currentTarget.checked)}
              error={error}
            />
          );
        }
        if (p.type === "integer" || p.type === "number") {
          return (
            <NumberInput
              key={p.name}
              label={label}
              description={description}
              value={typeof current === "number" || typeof current === "string" ? current : ""}
              placeholder={p.default !== undefined ? `default ${String(p.default)}` : undefined}
              onChange={(v) => set(p.name, v)}
              allowDecimal={p.type === "number"}
              error={error}
            />
          );
        }
        return (
          <TextInput
            key={p.name}
            label={label}
            description={description}
            value={current === undefined ? "" : String(current)}
            placeholder={p.default !== undefined ? `default ${String(p.default)}` : undefined}
            onChange={(e) => set(p.name, e.currentTarget.value)}
            error={error}
          />
        );
      })}
    </SimpleGrid>
  );
}

function describe(p: StrategyParam): string | undefined {
  const range =
    p.minimum !== undefined || p.maximum !== undefined
      ? `${p.minimum ?? "−∞"} … ${p.maximum ?? "∞"}`
      : undefined;
  return [p.type, range, p.description].filter(Boolean).join(" · ") || undefined;
}
