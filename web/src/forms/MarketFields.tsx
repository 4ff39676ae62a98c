import { NumberInput, Select, SimpleGrid, Stack, Group, SegmentedControl, Text, TextInput } from "@mantine/core";
import type { useDatasets } from "../api/hooks";
import type { DatasetInfo } from "../api/types";
import type { SessionFormValues } from "./sessionForm";
import type { SectionProps, SessionFormVariant } from "./sessionFormFields";

type Datasets = ReturnType<typeof useDatasets>;

/** Where the market data comes from (a backtest always replays) and which market it is. */
export function MarketSourceFields({ variant, values, set, fieldError }: SectionProps & { variant: SessionFormVariant }) {
  return (
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
  );
}

/** A replay's datasets: the market data, its speed, and a perpetual's funding and marks. */
export function ReplayFields({
  variant,
  values,
  set,
  fieldError,
  datasets,
  onDataset,
}: SectionProps & { variant: SessionFormVariant; datasets: Datasets; onDataset: (name: string | null) => void }) {
  const ofKind = (kind: string) =>
    (datasets.data ?? []).filter((d) => d.kind === kind).map((d) => ({ value: d.name, label: datasetLabel(d) }));
  return (
    <SimpleGrid cols={2} spacing="sm">
      <Select
        label="Dataset"
        placeholder={datasets.isLoading ? "Loading datasets…" : datasets.data?.length ? "Choose a dataset" : "No datasets yet (import one on the Data page)"}
        data={(datasets.data ?? []).map((d) => ({ value: d.name, label: datasetLabel(d) }))}
        value={values.dataset}
        onChange={onDataset}
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
            data={ofKind("funding")}
            value={values.funding}
            onChange={(name) => set("funding", name)}
            error={fieldError("funding")}
            clearable
          />
          <Select
            label="Mark prices"
            description="value, margin and liquidate positions at the mark"
            placeholder="None: the last price"
            data={ofKind("mark")}
            value={values.mark}
            onChange={(name) => set("mark", name)}
            error={fieldError("mark")}
            clearable
          />
        </>
      )}
    </SimpleGrid>
  );
}

/** A live feed's exchange. */
export function ExchangeField({ values, set, fieldError }: SectionProps) {
  return (
    <TextInput
      label="Exchange"
      description="a ccxt exchange id"
      value={values.exchange}
      onChange={(e) => set("exchange", e.currentTarget.value)}
      error={fieldError("exchange")}
    />
  );
}

export function datasetSymbols(d: DatasetInfo | undefined): string[] {
  if (!d) return [];
  return d.symbols;
}

function datasetLabel(d: DatasetInfo): string {
  const parts = [d.kind, d.rows !== undefined ? `${d.rows.toLocaleString("en-US")} rows` : undefined, datasetSymbols(d).join(", ")];
  return `${d.name} (${parts.filter(Boolean).join(" · ")})`;
}
