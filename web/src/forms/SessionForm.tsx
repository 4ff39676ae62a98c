import { Button, Group, Select, Stack, TagsInput } from "@mantine/core";
import { useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { ApiError } from "../api/errors";
import { useDatasets, useMarkets, useStrategies } from "../api/hooks";
import type { StartSessionBody } from "../api/types";
import { BudgetRiskFields } from "./BudgetRiskFields";
import { FieldErrorMap } from "./fieldErrors";
import { FormErrorSummary } from "./FormErrorSummary";
import { datasetSymbols, ExchangeField, MarketSourceFields, ReplayFields } from "./MarketFields";
import {
  buildStartBody,
  FIELD_PATHS,
  initialValues,
  type SessionFormValues,
} from "./sessionForm";
import type { SectionProps, SessionFormVariant } from "./sessionFormFields";
import { StrategyFields } from "./StrategyFields";
import { expandParams, ruleDefinitionOf, strategyParams } from "./strategyParams";

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
  const section: SectionProps = { values, set, fieldError };

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

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const infos = strategies.data ?? [];
    const sent = values.strategies.map((s) => ({ ...s, params: expandParams(s.params, ruleDefinitionOf(infos.find((i) => i.name === s.name))) }));
    onSubmit(buildStartBody({ ...values, strategies: sent }));
  };

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
        {apiError && <FormErrorSummary apiError={apiError} errors={errors} leftover={leftover} />}
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
        <MarketSourceFields variant={variant} {...section} />
        {values.source === "replay" ? (
          <ReplayFields variant={variant} {...section} datasets={datasets} onDataset={chooseDataset} />
        ) : (
          <ExchangeField {...section} />
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
        <StrategyFields
          strategies={strategies}
          chosen={values.strategies}
          onChange={(update) => setValues((v) => ({ ...v, strategies: update(v.strategies) }))}
          errors={errors}
          picker={values.mode !== "collect"}
        />
        <BudgetRiskFields variant={variant} {...section} />
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
