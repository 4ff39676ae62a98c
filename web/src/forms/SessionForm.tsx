import {
  Alert,
  Button,
  Divider,
  Group,
  List,
  MultiSelect,
  NumberInput,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  TagsInput,
  Text,
  TextInput,
} from "@mantine/core";
import { useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { ApiError } from "../api/errors";
import { useDatasets, useMarkets, useStrategies } from "../api/hooks";
import type { StartSessionBody } from "../api/types";
import type { DatasetInfo } from "../api/types";
import { FieldErrorMap } from "./fieldErrors";
import {
  buildStartBody,
  FIELD_PATHS,
  initialValues,
  type SessionFormValues,
} from "./sessionForm";
import { defaultParams, expandParams, ruleDefinitionOf, strategyParams } from "./strategyParams";
import { StrategyParamsFields } from "./StrategyParamsFields";

export type SessionFormVariant = "session" | "backtest";

const MODES = [
  { value: "paper", label: "Paper" },
  { value: "backtest", label: "Backtest" },
  { value: "collect", label: "Collect" },
  { value: "live", label: "Live" },
];

/**
 * The form behind "Start session" and "Run backtest". It sends what the user entered and shows
 * the server's validation errors on their fields: the server is the one validator.
 */
export function SessionForm({
  variant,
  submitLabel,
  onSubmit,
  pending,
  error,
  onCancel,
}: {
  variant: SessionFormVariant;
  submitLabel: string;
  onSubmit: (body: StartSessionBody) => void;
  pending: boolean;
  error: unknown;
  onCancel?: () => void;
}) {
  const [values, setValues] = useState<SessionFormValues>(() =>
    variant === "backtest" ? { ...initialValues, mode: "backtest", source: "replay", speed: 0 } : initialValues,
  );
  const set = <K extends keyof SessionFormValues>(key: K, value: SessionFormValues[K]) =>
    setValues((v) => ({ ...v, [key]: value }));

  // After a refused submit, move focus to the first field the server named (or the message).
  const formRef = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (!error || !formRef.current) return;
    const target = formRef.current.querySelector<HTMLElement>("[aria-invalid='true'], [data-testid='form-error']");
    target?.scrollIntoView({ block: "center" });
    if (target?.matches("input, textarea")) target.focus();
  }, [error]);

  const strategies = useStrategies();
  const datasets = useDatasets();
  const markets = useMarkets(
    { exchange: values.exchange, market_type: values.marketType },
    values.source === "exchange" && values.exchange.length > 0,
  );

  const apiError = error instanceof ApiError ? error : null;
  const errors = new FieldErrorMap(apiError?.code === "validation_error" || apiError?.fieldErrors.length ? apiError.fieldErrors : []);
  const fieldError = (key: keyof SessionFormValues) => errors.for(FIELD_PATHS[key]);

  const datasetByName = useMemo(
    () => new Map((datasets.data ?? []).map((d) => [d.name, d])),
    [datasets.data],
  );
  const symbolSuggestions = useMemo(
    () =>
      values.source === "replay"
        ? datasetSymbols(values.dataset ? datasetByName.get(values.dataset) : undefined)
        : (markets.data ?? []).filter((m) => m.active).map((m) => m.symbol),
    [values.source, values.dataset, datasetByName, markets.data],
  );

  const chooseDataset = (name: string | null) => {
    const symbols = datasetSymbols(name ? datasetByName.get(name) : undefined);
    setValues((v) => ({ ...v, dataset: name, symbols: v.symbols.length ? v.symbols : symbols.slice(0, 1) }));
  };

  const chooseStrategies = (names: string[]) =>
    setValues((v) => ({
      ...v,
      strategies: names.map(
        (name) =>
          v.strategies.find((s) => s.name === name) ?? {
            name,
            params: defaultParams(strategyParams(strategies.data?.find((s) => s.name === name))),
          },
      ),
    }));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const infos = strategies.data ?? [];
    const sent = values.strategies.map((s) => ({ ...s, params: expandParams(s.params, ruleDefinitionOf(infos.find((i) => i.name === s.name))) }));
    onSubmit(buildStartBody({ ...values, strategies: sent }));
  };

  const strategyFields = values.strategies.map((choice, index) => (
    <StrategyParamsFields
      key={choice.name}
      strategyName={choice.name}
      params={strategyParams(strategies.data?.find((s) => s.name === choice.name))}
      values={choice.params}
      errors={errors}
      path={`strategies.${index}.params`}
      onChange={(params) =>
        setValues((v) => ({
          ...v,
          strategies: v.strategies.map((s, i) => (i === index ? { ...s, params } : s)),
        }))
      }
    />
  ));
  const strategyError =
    errors.for("strategies") ??
    values.strategies.map((_, i) => errors.for(`strategies.${i}`) ?? errors.for(`strategies.${i}.name`)).find(Boolean);
  const hidden = new Set<string>([
    ...(variant === "backtest" ? ["mode", "market.source", "duration_seconds"] : []),
    ...(values.source === "replay" ? ["market.exchange"] : ["market.dataset", "market.speed"]),
    ...(values.mode === "collect" ? ["strategies"] : []),
  ]);
  const shownPaths = new Set<string>([
    ...Object.values(FIELD_PATHS).filter((path) => !hidden.has(path)),
    ...values.strategies.flatMap((choice, i) => [
      `strategies.${i}`,
      `strategies.${i}.name`,
      ...strategyParams(strategies.data?.find((s) => s.name === choice.name)).map((p) => `strategies.${i}.params.${p.name}`),
    ]),
  ]);
  const leftover = errors.unclaimed((field) => shownPaths.has(field));

  return (
    <form ref={formRef} onSubmit={submit} noValidate aria-label={submitLabel}>
      <Stack gap="sm">
        {apiError && (
          <Alert color="red" title={errors.size > 0 ? "Please fix the highlighted fields" : "The server refused"} role="alert" data-testid="form-error">
            {/* each field shows its own message; the summary repeats only what no field shows */}
            {(errors.size === 0 || leftover.length > 0) && <Text size="sm">{errors.size === 0 ? apiError.message : "Also:"}</Text>}
            {errors.size > 0 && leftover.length === 0 && <Text size="sm">{`${errors.size} field${errors.size === 1 ? "" : "s"} to change, marked below.`}</Text>}
            {leftover.length > 0 && (
              <List size="sm" mt={4}>
                {leftover.map((e) => (
                  <List.Item key={e.field + e.message}>
                    {e.field ? <b>{e.field}: </b> : null}
                    {e.message}
                  </List.Item>
                ))}
              </List>
            )}
          </Alert>
        )}
        {variant === "session" && (
          <Select
            label="Mode"
            data={MODES}
            value={values.mode}
            onChange={(m) => m && set("mode", m as SessionFormValues["mode"])}
            error={fieldError("mode")}
            allowDeselect={false}
          />
        )}
        <Group align="flex-end" grow>
          {variant === "session" ? (
            <Stack gap={4}>
              <Text size="sm" fw={500} id="market-source-label">
                Market data
              </Text>
              <SegmentedControl
                aria-labelledby="market-source-label"
                data={[
                  { value: "replay", label: "Recorded dataset" },
                  { value: "exchange", label: "Live exchange" },
                ]}
                value={values.source}
                onChange={(s) => set("source", s as SessionFormValues["source"])}
              />
              {fieldError("source") && <Text size="xs" c="red">{fieldError("source")}</Text>}
            </Stack>
          ) : null}
          <Select
            label="Market type"
            data={[
              { value: "spot", label: "Spot" },
              { value: "swap", label: "USDT perpetual (swap)" },
            ]}
            value={values.marketType}
            onChange={(t) => t && set("marketType", t as SessionFormValues["marketType"])}
            error={fieldError("marketType")}
            allowDeselect={false}
          />
        </Group>
        {values.source === "replay" ? (
          <SimpleGrid cols={2} spacing="sm">
            <Select
              label="Dataset"
              placeholder={datasets.isLoading ? "Loading datasets…" : datasets.data?.length ? "Choose a dataset" : "No datasets yet (import one on the Data page)"}
              data={(datasets.data ?? []).map((d) => ({ value: d.name, label: datasetLabel(d) }))}
              value={values.dataset}
              onChange={chooseDataset}
              allowDeselect={false}
              error={fieldError("dataset") ?? (datasets.error ? `Datasets unavailable: ${(datasets.error as Error).message}` : undefined)}
              searchable
            />
            <NumberInput
              label="Replay speed"
              description={variant === "backtest" ? "0 = as fast as possible" : "× real time; 0 = as fast as possible"}
              value={values.speed}
              onChange={(v) => set("speed", v)}
              error={fieldError("speed")}
            />
            {values.marketType === "swap" && (
              <>
                <Select
                  label="Funding rates"
                  description="paid or received by open positions at each funding time"
                  placeholder="None"
                  data={(datasets.data ?? []).filter((d) => d.kind === "funding").map((d) => ({ value: d.name, label: datasetLabel(d) }))}
                  value={values.funding}
                  onChange={(name) => set("funding", name)}
                  error={fieldError("funding")}
                  clearable
                />
                <Select
                  label="Mark prices"
                  description="value, margin and liquidate positions at the mark"
                  placeholder="None: the last price"
                  data={(datasets.data ?? []).filter((d) => d.kind === "mark").map((d) => ({ value: d.name, label: datasetLabel(d) }))}
                  value={values.mark}
                  onChange={(name) => set("mark", name)}
                  error={fieldError("mark")}
                  clearable
                />
              </>
            )}
          </SimpleGrid>
        ) : (
          <TextInput
            label="Exchange"
            description="a ccxt exchange id"
            value={values.exchange}
            onChange={(e) => set("exchange", e.currentTarget.value)}
            error={fieldError("exchange")}
          />
        )}
        <TagsInput
          label="Symbols"
          description={
            values.source === "exchange" && markets.error
              ? `Market list unavailable: ${(markets.error as Error).message}. Type symbols such as BTC_USDT.`
              : "Type or pick, Enter to add"
          }
          data={symbolSuggestions}
          value={values.symbols}
          onChange={(s) => set("symbols", s)}
          error={fieldError("symbols")}
          clearable
        />
        {values.mode !== "collect" && (
          <MultiSelect
            label="Strategies"
            placeholder={strategies.data?.length === 0 ? "The server lists no strategies" : "None: prices only, manual orders"}
            data={(strategies.data ?? []).map((s) => s.name)}
            value={values.strategies.map((s) => s.name)}
            onChange={chooseStrategies}
            error={strategyError ?? (strategies.error ? `Strategies unavailable: ${(strategies.error as Error).message}` : undefined)}
            searchable
          />
        )}
        {strategyFields}
        <Divider label="Budget, fees and risk" labelPosition="left" />
        <SimpleGrid cols={4} spacing="sm">
          <NumberInput label="Cash" value={values.cash} onChange={(v) => set("cash", v)} error={fieldError("cash")} />
          <NumberInput label="Leverage" value={values.leverage} onChange={(v) => set("leverage", v)} error={fieldError("leverage")} />
          <NumberInput label="Taker fee" placeholder="exchange default" description="fraction, 0.001 = 0.1 %" value={values.feeTaker} onChange={(v) => set("feeTaker", v)} error={fieldError("feeTaker")} />
          <NumberInput label="Maker fee" placeholder="exchange default" description="fraction" value={values.feeMaker} onChange={(v) => set("feeMaker", v)} error={fieldError("feeMaker")} />
          <NumberInput label="Max position notional" placeholder="no limit" value={values.maxPositionNotional} onChange={(v) => set("maxPositionNotional", v)} error={fieldError("maxPositionNotional")} />
          <NumberInput label="Max open positions" placeholder="no limit" value={values.maxOpenPositions} onChange={(v) => set("maxOpenPositions", v)} error={fieldError("maxOpenPositions")} />
          <NumberInput label="Daily loss limit" placeholder="no limit" value={values.dailyLossLimit} onChange={(v) => set("dailyLossLimit", v)} error={fieldError("dailyLossLimit")} />
          <NumberInput label="Max drawdown %" placeholder="no limit" value={values.maxDrawdownPct} onChange={(v) => set("maxDrawdownPct", v)} error={fieldError("maxDrawdownPct")} />
        </SimpleGrid>
        <SimpleGrid cols={2} spacing="sm">
          {variant === "session" && (
            <NumberInput label="Duration (seconds)" placeholder="until stopped" value={values.duration} onChange={(v) => set("duration", v)} error={fieldError("duration")} />
          )}
          <TextInput label="Label" placeholder="optional" value={values.label} onChange={(e) => set("label", e.currentTarget.value)} error={fieldError("label")} />
        </SimpleGrid>
        <Group justify="flex-end">
          {onCancel && (
            <Button variant="default" onClick={onCancel}>
              Cancel
            </Button>
          )}
          <Button type="submit" loading={pending}>
            {submitLabel}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function datasetSymbols(d: DatasetInfo | undefined): string[] {
  if (!d) return [];
  return d.symbols;
}

function datasetLabel(d: DatasetInfo): string {
  const parts = [d.kind, d.rows !== undefined ? `${d.rows.toLocaleString("en-US")} rows` : undefined, datasetSymbols(d).join(", ")];
  return `${d.name} (${parts.filter(Boolean).join(" · ")})`;
}
