import { Group, Paper, Select, SegmentedControl, Text } from "@mantine/core";
import { useMemo, useState } from "react";
import { useDatasets } from "../api/hooks";
import type { SessionSummary } from "../api/types";
import { PriceChart } from "../charts/PriceChart";
import { ErrorNotice } from "../components/ErrorNotice";
import { useCandles } from "../data/hooks";
import { asNumber, toMillis } from "../format";
import { CHART_INTERVALS, foldTicks, intervalFor } from "../live/candles";
import type { PriceTick } from "../live/useSessionStream";
import { fillMarkers, positionLines, type Row } from "./records";

const INTERVAL_LABELS: Record<number, string> = { 1: "1s", 5: "5s", 15: "15s", 60: "1m", 300: "5m", 900: "15m", 3600: "1h", 14400: "4h", 86400: "1d" };

/**
 * The session's market as candles: what it has already seen (a replay's dataset up to the
 * replay position, or what a live session recorded), extended by the live price ticks.
 */
export function SessionPriceChart({
  session: s,
  ticks,
  fills,
  positions,
}: {
  session: SessionSummary;
  ticks: Record<string, PriceTick[]>;
  fills: Row[];
  positions: Row[];
}) {
  const [symbol, setSymbol] = useState(s.symbols[0] ?? "");
  const market = (s.config?.market ?? {}) as { source?: string; dataset?: string };
  const replay = market.source === "replay";
  const datasets = useDatasets();
  const dataset = datasets.data?.find((d) => d.name === market.dataset);
  const suggested = useMemo(() => {
    if (!replay) return 60;
    if (!dataset) return null;
    const span = ((toMillis(dataset.end) ?? 0) - (toMillis(dataset.start) ?? 0)) / 1000;
    return dataset.interval ?? intervalFor(span, 1);
  }, [replay, dataset]);
  const [chosen, setChosen] = useState<number | null>(null);
  const interval = chosen ?? suggested;

  // Where the session was when the page opened: history is read up to there, ticks do the rest.
  const [endUs] = useState(() => {
    const reported = ((s.counters?.last_prices ?? {}) as Record<string, { ts?: unknown }>)[symbol];
    const ts = asNumber(reported?.ts);
    return ts === null ? undefined : ts + 1; // the bar at the replay position is included
  });
  const source = replay ? market.dataset ?? null : s.session_id;
  const history = useCandles(interval && (endUs !== undefined || !replay) ? source : null, symbol, interval ?? 60, replay ? endUs : undefined);
  const candles = useMemo(
    () => (interval ? foldTicks((history.data ?? []).map(({ time, open, high, low, close }) => ({ time, open, high, low, close })), ticks[symbol] ?? [], interval) : []),
    [history.data, ticks, symbol, interval],
  );

  return (
    <Paper withBorder p="sm">
      <Group justify="space-between" mb="xs">
        <Text fw={600}>Price</Text>
        <Group gap="xs">
          {s.symbols.length > 1 && <SegmentedControl size="xs" data={s.symbols} value={symbol} onChange={setSymbol} />}
          <Select
            size="xs"
            w={90}
            aria-label="Candle interval"
            data={CHART_INTERVALS.map((i) => ({ value: String(i), label: INTERVAL_LABELS[i] }))}
            value={interval ? String(interval) : null}
            onChange={(v) => v && setChosen(Number(v))}
            allowDeselect={false}
          />
        </Group>
      </Group>
      {history.error && (history.error as { httpStatus?: number }).httpStatus !== 404 && <ErrorNotice error={history.error} title="Could not load the price history" />}
      {candles.length === 0 && (
        <Text size="sm" c="dimmed">
          {s.state === "running" || s.state === "starting" ? "Waiting for the session's first price…" : "No prices were recorded for this session."}
        </Text>
      )}
      <PriceChart candles={candles} fills={fillMarkers(fills, symbol)} positions={positionLines(positions, symbol)} label={`${symbol} price candles`} />
      <Text size="xs" c="dimmed" mt={4}>
        Market time.{" "}
        {replay ? `History from dataset ${market.dataset} up to the replay position, then live ticks.` : "History this session recorded, then live ticks."}
      </Text>
    </Paper>
  );
}
