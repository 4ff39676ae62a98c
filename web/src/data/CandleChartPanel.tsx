import { Group, Select, Stack, Text, TextInput } from "@mantine/core";
import { useMemo, useState } from "react";
import { PriceChart } from "../charts/PriceChart";
import { ErrorNotice } from "../components/ErrorNotice";
import { formatTime } from "../format";
import { CHART_INTERVALS, chartIntervalFor, INTERVAL_LABELS } from "../live/candles";
import { useCandles } from "./hooks";

export interface ChartSource {
  value: string;
  label: string;
  symbols: string[];
  /** The recorded span in seconds and the data's own interval, when known. */
  spanSec?: number;
  dataInterval?: number | null;
}

const INTERVALS = CHART_INTERVALS.filter((i) => i >= 60).map((i) => ({ value: String(i), label: INTERVAL_LABELS[i] }));

/** Candles of any recorded symbol (a dataset, or what a session recorded) at any interval:
 * the server resamples finer data; it opens on the whole range, older pages load on scroll. */
export function CandleChartPanel({ sources }: { sources: ChartSource[] }) {
  const [source, setSource] = useState<string | null>(null);
  const [symbol, setSymbol] = useState<string | null>(null);
  const [chosen, setChosen] = useState<string | null>(null);
  const picked = sources.find((s) => s.value === source);
  const interval = chosen ?? (picked?.spanSec ? String(Math.max(60, chartIntervalFor(picked.spanSec, picked.dataInterval ?? 60))) : "60");
  const candles = useCandles(source, symbol, Number(interval));
  const bars = candles.bars;
  const chartBars = useMemo(() => (bars ?? []).map(({ time, open, high, low, close, volume }) => ({ time, open, high, low, close, volume })), [bars]);
  return (
    <Stack gap="xs">
      <Group align="flex-end" gap="sm">
        <Select
          label="Recorded source"
          placeholder="a dataset or a session id"
          data={sources.map(({ value, label }) => ({ value, label }))}
          value={source}
          onChange={(v) => {
            setSource(v);
            setChosen(null);
            setSymbol(sources.find((s) => s.value === v)?.symbols[0] ?? null);
          }}
          searchable
          w={320}
        />
        {picked && picked.symbols.length > 0 ? (
          <Select label="Symbol" data={picked.symbols} value={symbol} onChange={setSymbol} w={160} allowDeselect={false} />
        ) : (
          <TextInput label="Symbol" value={symbol ?? ""} onChange={(e) => setSymbol(e.currentTarget.value || null)} w={160} />
        )}
        <Select label="Interval" data={INTERVALS} value={interval} onChange={(v) => v && setChosen(v)} w={110} allowDeselect={false} />
      </Group>
      <ErrorNotice error={candles.error} title="Could not load candles" />
      {bars && bars.length === 0 && <Text size="sm" c="dimmed">Nothing recorded for this symbol.</Text>}
      {bars && bars.length > 0 && (
        <>
          <PriceChart
            candles={chartBars}
            label={`${symbol} candles from ${source}`}
            fitKey={`${source}:${symbol}:${interval}`}
            onNeedOlder={() => candles.hasNextPage && !candles.isFetchingNextPage && void candles.fetchNextPage()}
          />
          <Text size="xs" c="dimmed" data-testid="chart-coverage">
            {bars.length.toLocaleString("en-US")} bars of {INTERVAL_LABELS[Number(interval)]}, {formatTime(bars[0].time)} to {formatTime(bars[bars.length - 1].time)}
            {candles.hasNextPage ? " · older bars load as you scroll back" : " · the whole recorded range"}
            {candles.isFetchingNextPage ? " · loading older bars…" : ""}
          </Text>
        </>
      )}
    </Stack>
  );
}
