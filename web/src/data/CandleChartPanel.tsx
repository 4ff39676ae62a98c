import { Group, Select, Stack, Text, TextInput } from "@mantine/core";
import { useState } from "react";
import { PriceChart } from "../charts/PriceChart";
import { ErrorNotice } from "../components/ErrorNotice";
import { useCandles } from "./hooks";

const INTERVALS = [
  { value: "60", label: "1 minute" },
  { value: "300", label: "5 minutes" },
  { value: "900", label: "15 minutes" },
  { value: "3600", label: "1 hour" },
  { value: "86400", label: "1 day" },
];

/** Candles of any recorded symbol: a dataset, or what a session recorded. */
export function CandleChartPanel({ sources }: { sources: { value: string; label: string; symbols: string[] }[] }) {
  const [source, setSource] = useState<string | null>(null);
  const [symbol, setSymbol] = useState<string | null>(null);
  const [interval, setInterval] = useState("60");
  const chosen = sources.find((s) => s.value === source);
  const candles = useCandles(source, symbol, Number(interval));
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
            setSymbol(sources.find((s) => s.value === v)?.symbols[0] ?? null);
          }}
          searchable
          w={320}
        />
        {chosen && chosen.symbols.length > 0 ? (
          <Select label="Symbol" data={chosen.symbols} value={symbol} onChange={setSymbol} w={160} allowDeselect={false} />
        ) : (
          <TextInput label="Symbol" value={symbol ?? ""} onChange={(e) => setSymbol(e.currentTarget.value || null)} w={160} />
        )}
        <Select label="Interval" data={INTERVALS} value={interval} onChange={(v) => v && setInterval(v)} w={140} allowDeselect={false} />
      </Group>
      <ErrorNotice error={candles.error} title="Could not load candles" />
      {candles.data && candles.data.length === 0 && <Text size="sm" c="dimmed">Nothing recorded for this symbol.</Text>}
      {candles.data && candles.data.length > 0 && (
        <>
          <PriceChart candles={candles.data.map((c) => ({ time: c.time, open: c.open, high: c.high, low: c.low, close: c.close }))} label={`${symbol} candles from ${source}`} height={300} />
          <Text size="xs" c="dimmed">{candles.data.length.toLocaleString("en-US")} bars (the server sends at most the last 5,000).</Text>
        </>
      )}
    </Stack>
  );
}
