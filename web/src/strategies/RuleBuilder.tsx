import { Alert, Button, Code, Collapse, Group, List, NumberInput, Select, SimpleGrid, Stack, Switch, Text, TextInput, ActionIcon } from "@mantine/core";
import { useState } from "react";
import { ApiError } from "../api/errors";
import { useSaveStrategy } from "../api/hooks";
import { notifyInfo } from "../components/notify";
import { FieldErrorMap } from "../forms/fieldErrors";
import { ConditionTree } from "./ConditionTree";
import { BAR_FIELDS, INDICATOR_FIELDS, INDICATOR_TYPES, newCondition, newGroup, newIndicator, ruleDefinition, usesOf, withType, type IndicatorRow, type RuleForm } from "./ruleModel";

const OUTPUTS: Record<string, string[]> = { macd: ["signal", "hist"], bollinger: ["upper", "middle", "lower"] };

function initialForm(): RuleForm {
  const entry = newGroup("all");
  entry.children = [{ ...newCondition(), left: "fast", op: "crosses_above", right: "slow" }];
  const exit = newGroup("all");
  exit.children = [{ ...newCondition(), left: "fast", op: "crosses_below", right: "slow" }];
  return {
    name: "", description: "", barInterval: 60,
    indicators: [newIndicator("fast", "ema"), { ...newIndicator("slow", "ema"), period: 26 }],
    entry, useExit: true, exit, direction: "long", sizingMode: "all_in", sizingValue: "",
    stopLossPct: "", takeProfitPct: "", trailingStopPct: "", cooldownBars: 0,
  };
}

/** Build a declarative rule strategy and save it; the server validates every field. */
export function RuleBuilder() {
  const [form, setForm] = useState<RuleForm>(initialForm);
  const [preview, setPreview] = useState(false);
  const [removing, setRemoving] = useState<string | null>(null);
  const save = useSaveStrategy();
  const set = <K extends keyof RuleForm>(key: K, value: RuleForm[K]) => setForm((f) => ({ ...f, [key]: value }));
  const errors = new FieldErrorMap(save.error instanceof ApiError ? save.error.fieldErrors : []);
  const p = (field: string) => errors.for(`params.${field}`) ?? errors.for(field);
  const operands = [
    ...BAR_FIELDS,
    ...form.indicators.flatMap((i) => [i.alias, ...(OUTPUTS[i.type] ?? []).map((o) => `${i.alias}.${o}`)]).filter(Boolean),
  ];
  const setIndicator = (id: string, patch: Partial<IndicatorRow>) => set("indicators", form.indicators.map((i) => (i.id === id ? { ...i, ...patch } : i)));
  const definition = ruleDefinition(form);
  const remove = (id: string) => {
    set("indicators", form.indicators.filter((i) => i.id !== id));
    setRemoving(null);
  };
  const askRemove = (row: IndicatorRow) => (usesOf(row.alias.trim(), form).length ? setRemoving(row.id) : remove(row.id));
  const pending = form.indicators.find((i) => i.id === removing);
  const submit = () =>
    save.mutate(
      { name: form.name, description: form.description, base: "rules", params: definition },
      { onSuccess: ({ status }) => notifyInfo("Strategy saved", `${form.name} (${status.replace(/_/g, " ")})`, "teal") },
    );
  // Build the fields first: they claim the errors they show, the rest are listed below.
  const fields = (
    <>
      <SimpleGrid cols={3} spacing="sm">
        <TextInput label="Strategy name" value={form.name} onChange={(e) => set("name", e.currentTarget.value)} error={errors.for("name")} />
        <TextInput label="Description" value={form.description} onChange={(e) => set("description", e.currentTarget.value)} error={errors.for("description")} />
        <NumberInput label="Bar interval (s)" value={form.barInterval} onChange={(v) => set("barInterval", v)} error={p("bar_interval")} />
      </SimpleGrid>
      <Text fw={600} size="sm">Indicators</Text>
      {form.indicators.map((ind, index) => (
        <Group key={ind.id} gap="xs" align="flex-end" wrap="nowrap">
          <TextInput size="xs" label="Indicator" aria-label={`Indicator ${index + 1} name`} value={ind.alias} onChange={(e) => setIndicator(ind.id, { alias: e.currentTarget.value })} w={110} error={p(`indicators.${ind.alias}`)} />
          <Select size="xs" label="Type" aria-label={`Indicator ${index + 1} type`} data={INDICATOR_TYPES} value={ind.type} onChange={(type) => type && set("indicators", form.indicators.map((i) => (i.id === ind.id ? withType(i, type) : i)))} w={140} allowDeselect={false} />
          {(INDICATOR_FIELDS[ind.type] ?? []).map((field) =>
            field === "source" ? (
              <Select key={field} size="xs" label="Source" data={BAR_FIELDS} value={ind.source} onChange={(v) => v && setIndicator(ind.id, { source: v })} w={100} allowDeselect={false} />
            ) : (
              <NumberInput key={field} size="xs" label={field} value={ind[field] as number | string} onChange={(v) => setIndicator(ind.id, { [field]: v })} w={80} error={p(`indicators.${ind.alias}.${field}`)} />
            ),
          )}
          <ActionIcon variant="subtle" color="red" aria-label={`Remove indicator ${index + 1}`} onClick={() => askRemove(ind)} mb={4}>×</ActionIcon>
        </Group>
      ))}
      {pending && (
        <Alert color="yellow" title={`"${pending.alias}" is still used`} data-testid="indicator-in-use" p="xs">
          <Text size="sm">The {usesOf(pending.alias.trim(), form).join(" and ")} conditions read {pending.alias}; without it they cannot be evaluated and the server refuses the strategy.</Text>
          <Group gap="xs" mt={6}>
            <Button size="compact-sm" color="red" variant="light" onClick={() => remove(pending.id)}>Remove anyway</Button>
            <Button size="compact-sm" variant="default" onClick={() => setRemoving(null)}>Keep it</Button>
          </Group>
        </Alert>
      )}
      <Group><Button size="compact-sm" variant="light" onClick={() => set("indicators", [...form.indicators, newIndicator(`ind${form.indicators.length + 1}`)])}>+ Indicator</Button></Group>
      <Text fw={600} size="sm">Entry when</Text>
      <ConditionTree root={form.entry} onChange={(entry) => set("entry", entry)} operands={operands} label="Entry" path="entry" errorFor={p} />
      {p("entry") && <Text c="red" size="xs">{p("entry")}</Text>}
      <Switch label="Exit on a condition (otherwise only stops, targets and the end of data close a position)" checked={form.useExit} onChange={(e) => set("useExit", e.currentTarget.checked)} />
      {form.useExit && <ConditionTree root={form.exit} onChange={(exit) => set("exit", exit)} operands={operands} label="Exit" path="exit" errorFor={p} />}
      {p("exit") && <Text c="red" size="xs">{p("exit")}</Text>}
      <SimpleGrid cols={4} spacing="sm">
        <Select label="Direction" data={["long", "short"]} value={form.direction} onChange={(v) => v && set("direction", v as RuleForm["direction"])} allowDeselect={false} error={p("direction")} />
        <Select label="Sizing" data={[{ value: "all_in", label: "All in" }, { value: "fraction", label: "Fraction of cash" }, { value: "qty", label: "Fixed quantity" }, { value: "notional", label: "Fixed notional" }]} value={form.sizingMode} onChange={(v) => v && set("sizingMode", v as RuleForm["sizingMode"])} allowDeselect={false} error={p("sizing.mode")} />
        <NumberInput label="Sizing value" disabled={form.sizingMode === "all_in"} value={form.sizingValue} onChange={(v) => set("sizingValue", v)} error={p("sizing.value") ?? p("sizing")} />
        <NumberInput label="Cooldown (bars)" value={form.cooldownBars} onChange={(v) => set("cooldownBars", v)} error={p("cooldown_bars")} />
        <NumberInput label="Stop-loss %" placeholder="none" value={form.stopLossPct} onChange={(v) => set("stopLossPct", v)} error={p("stop_loss_pct")} />
        <NumberInput label="Take-profit %" placeholder="none" value={form.takeProfitPct} onChange={(v) => set("takeProfitPct", v)} error={p("take_profit_pct")} />
        <NumberInput label="Trailing stop %" placeholder="none" value={form.trailingStopPct} onChange={(v) => set("trailingStopPct", v)} error={p("trailing_stop_pct")} />
      </SimpleGrid>
    </>
  );
  // condition rows show the errors on their operands (they render after this line runs)
  const leftover = errors.unclaimed((field) => /^params\.(entry|exit)\..*\.(left|right|op)$/.test(field));
  const onFields = save.error instanceof ApiError && save.error.fieldErrors.length > 0 && leftover.length === 0;

  return (
    <Stack gap="sm" data-testid="rule-builder">
      {fields}
      {save.error != null && (
        <Alert color="red" title="The server rejected this strategy" role="alert" data-testid="rule-error">
          <Text size="sm">{onFields ? "Fix the fields marked in red." : (save.error as Error).message}</Text>
          {leftover.length > 0 && (
            <List size="sm">{leftover.map((e) => <List.Item key={e.field + e.message}><b>{e.field}</b>: {e.message}</List.Item>)}</List>
          )}
        </Alert>
      )}
      <Group justify="space-between">
        <Button variant="subtle" size="compact-sm" onClick={() => setPreview((v) => !v)}>{preview ? "Hide" : "Show"} the JSON sent</Button>
        <Button onClick={submit} loading={save.isPending}>Validate and save</Button>
      </Group>
      <Collapse in={preview}>
        <Code block fz="xs">{JSON.stringify({ name: form.name, base: "rules", description: form.description, params: definition }, null, 2)}</Code>
      </Collapse>
    </Stack>
  );
}
