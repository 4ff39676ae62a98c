import { ActionIcon, Alert, Button, Group, NumberInput, Select, SimpleGrid, Stack, Text, TextInput } from "@mantine/core";
import { useMemo, useState, type FormEvent } from "react";
import { useDatasets, useStrategies } from "../api/hooks";
import type { StartSessionBody } from "../api/types";

interface GridRow {
  name: string;
  spec: string;
}

const OBJECTIVES = ["sharpe", "return", "sortino", "calmar", "profit_factor", "win_rate"];
const SEARCHES = [
  { value: "grid", label: "Grid (every set)" },
  { value: "random", label: "Random (Optuna)" },
  { value: "tpe", label: "Bayesian TPE (Optuna)" },
];

/** `"5:50:5"` stays a range; `"5,10,20"` becomes a list (numbers where they are numbers). */
export function gridValue(spec: string): string | unknown[] {
  const text = spec.trim();
  if (text.includes(":")) return text;
  return text.split(",").map((v) => {
    const item = v.trim();
    try {
      return JSON.parse(item);
    } catch {
      return item;
    }
  });
}

/** The body of `POST /sessions/start` for a sweep. */
export function sweepBody(v: {
  dataset: string;
  symbol: string;
  strategy: string;
  rows: GridRow[];
  objective: string;
  search: string;
  trials: number | string;
  seed: number | string;
  minTrades: number | string;
  fee: number | string;
  cash: number | string;
  workers: number | string;
}): StartSessionBody {
  const grid = Object.fromEntries(v.rows.filter((r) => r.name.trim()).map((r) => [r.name.trim(), gridValue(r.spec)]));
  const optional = (x: number | string) => (x === "" ? null : Number(x));
  return {
    mode: "sweep",
    symbols: [v.symbol],
    strategies: [{ name: v.strategy, params: {} }],
    market: { source: "replay", dataset: v.dataset },
    cash: Number(v.cash),
    fees: { taker: Number(v.fee), maker: Number(v.fee) },
    sweep: {
      grid,
      objective: v.objective as "sharpe",
      search: v.search as "grid",
      trials: v.search === "grid" ? null : optional(v.trials),
      seed: v.search === "grid" ? null : optional(v.seed),
      min_trades: Number(v.minTrades || 0),
      workers: optional(v.workers),
    },
  } as StartSessionBody;
}

export function SweepForm({
  onSubmit,
  pending,
  error,
}: {
  onSubmit: (body: StartSessionBody) => void;
  pending: boolean;
  error: unknown;
}) {
  const datasets = useDatasets();
  const strategies = useStrategies();
  const [dataset, setDataset] = useState<string | null>(null);
  const [symbol, setSymbol] = useState<string | null>(null);
  const [strategy, setStrategy] = useState<string | null>("sma_cross");
  const [rows, setRows] = useState<GridRow[]>([
    { name: "fast", spec: "5:50:5" },
    { name: "slow", spec: "30:210:20" },
  ]);
  const [objective, setObjective] = useState("sharpe");
  const [search, setSearch] = useState("grid");
  const [trials, setTrials] = useState<number | string>(50);
  const [seed, setSeed] = useState<number | string>(1);
  const [minTrades, setMinTrades] = useState<number | string>(0);
  const [fee, setFee] = useState<number | string>(0.001);
  const [cash, setCash] = useState<number | string>(10_000);
  const [workers, setWorkers] = useState<number | string>("");

  const symbols = useMemo(() => {
    const found = (datasets.data ?? []).find((d) => d.name === dataset);
    return found?.symbols ?? [];
  }, [datasets.data, dataset]);
  const chosenSymbol = symbol && symbols.includes(symbol) ? symbol : (symbols[0] ?? null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!dataset || !chosenSymbol || !strategy) return;
    onSubmit(
      sweepBody({ dataset, symbol: chosenSymbol, strategy, rows, objective, search, trials, seed, minTrades, fee, cash, workers }),
    );
  };
  const setRow = (i: number, patch: Partial<GridRow>) =>
    setRows((all) => all.map((r, j) => (j === i ? { ...r, ...patch } : r)));

  return (
    <form onSubmit={submit} aria-label="Start a sweep">
      <Stack gap="sm">
        <SimpleGrid cols={3}>
          <Select
            label="Dataset"
            placeholder="pick a dataset"
            data={(datasets.data ?? []).map((d) => ({ value: d.name, label: `${d.name} (${d.kind}, ${d.rows.toLocaleString()} rows)` }))}
            value={dataset}
            onChange={setDataset}
            searchable
            required
          />
          <Select label="Symbol" data={symbols} value={chosenSymbol} onChange={setSymbol} required />
          <Select
            label="Strategy"
            data={(strategies.data ?? []).map((s) => s.name)}
            value={strategy}
            onChange={setStrategy}
            searchable
            required
          />
        </SimpleGrid>
        <Text size="sm" fw={500}>
          Swept parameters — <Text span c="dimmed" size="sm">low:high:step (inclusive) or a list a,b,c</Text>
        </Text>
        {rows.map((row, i) => (
          <Group key={i} gap="xs">
            <TextInput aria-label={`parameter ${i + 1} name`} placeholder="name" w={140} value={row.name} onChange={(e) => setRow(i, { name: e.currentTarget.value })} />
            <TextInput aria-label={`parameter ${i + 1} values`} placeholder="5:50:5" w={200} value={row.spec} onChange={(e) => setRow(i, { spec: e.currentTarget.value })} />
            <ActionIcon variant="subtle" color="gray" aria-label={`remove parameter ${i + 1}`} onClick={() => setRows((all) => all.filter((_, j) => j !== i))}>
              ×
            </ActionIcon>
          </Group>
        ))}
        <Group>
          <Button variant="subtle" size="compact-sm" onClick={() => setRows((all) => [...all, { name: "", spec: "" }])}>
            + parameter
          </Button>
        </Group>
        <SimpleGrid cols={4}>
          <Select label="Objective" data={OBJECTIVES} value={objective} onChange={(v) => v && setObjective(v)} allowDeselect={false} />
          <Select label="Search" data={SEARCHES} value={search} onChange={(v) => v && setSearch(v)} allowDeselect={false} />
          <NumberInput label="Trials (budget)" value={trials} onChange={setTrials} min={1} disabled={search === "grid"} />
          <NumberInput label="Seed" value={seed} onChange={setSeed} min={0} disabled={search === "grid"} />
          <NumberInput label="Min trades" value={minTrades} onChange={setMinTrades} min={0} />
          <NumberInput label="Fee rate" value={fee} onChange={setFee} min={0} max={0.1} step={0.0005} decimalScale={5} />
          <NumberInput label="Cash" value={cash} onChange={setCash} min={1} thousandSeparator="," />
          <NumberInput label="Workers" placeholder="all cores" value={workers} onChange={setWorkers} min={1} />
        </SimpleGrid>
        {error instanceof Error && (
          <Alert color="red" title="The sweep was not started">
            {error.message}
          </Alert>
        )}
        <Group>
          <Button type="submit" loading={pending} disabled={!dataset || !chosenSymbol || !strategy}>
            Start sweep
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
