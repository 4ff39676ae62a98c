import { Group, Paper, Select, SegmentedControl, Text } from "@mantine/core";
import { useEffect, useMemo, useRef, useState } from "react";
import { useDatasets } from "../api/hooks";
import type { DatasetInfo, SessionSummary } from "../api/types";
import { PriceChart } from "../charts/PriceChart";
import { ErrorNotice } from "../components/ErrorNotice";
import { useCandles } from "../data/hooks";
import { asNumber, toMillis } from "../format";
import { CHART_INTERVALS, chartIntervalFor, historyBehind, INTERVAL_LABELS, liveCandles } from "../live/candles";
import type { PriceTick } from "../live/useSessionStream";
import { fillMarkers, positionLines, type Row } from "./records";
import { useIndicators, useOverlays } from "./useIndicators";

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
  const [chosen, setChosen] = useState<number | null>(null);

  // A replay's history is its dataset up to where the replay is now (the latest price time
  // seen, from ticks or the runner's report); it is re-read while the session runs, so bars
  // have their real open/high/low/close, and ticks only extend the newest bar in between.
  const position = useRef<number | undefined>(undefined);
  const counters = (s.counters ?? {}) as Record<string, unknown>;
  const reported = asNumber(((counters.last_prices ?? {}) as Record<string, { ts?: unknown }>)[symbol]?.ts);
  const symbolTicks = useMemo(() => ticks[symbol] ?? [], [ticks, symbol]);
  const latestTick = symbolTicks.at(-1)?.timeMs;
  // A completed replay has seen its whole dataset (the reported price may be from the last
  // checkpoint, before the end); else the furthest of the reports and the ticks.
  const feedLast = asNumber(s.feed?.last_event_ts);
  position.current = s.state === "completed" ? Infinity : Math.max(reported ?? -Infinity, feedLast ?? -Infinity, latestTick !== undefined ? latestTick * 1000 : -Infinity);
  const running = s.state === "running" || s.state === "starting" || s.state === "stopping";
  const suggested = suggestedInterval(replay, dataset, position.current);
  const interval = chosen ?? suggested;
  const source = replay ? market.dataset ?? null : s.session_id;
  // Never read a replay's future; a live session has nothing recorded before its first price.
  const seen = position.current !== -Infinity;
  const history = useCandles(interval && seen ? source : null, symbol, interval ?? 60, {
    endUs: () => (replay && Number.isFinite(position.current) ? Math.floor(position.current!) + 1 : undefined),
    refetchMs: running ? 5000 : false,
  });
  const bars = history.bars;
  const candles = useMemo(() => (interval ? liveCandles(bars ?? [], symbolTicks, interval) : []), [bars, symbolTicks, interval]);
  const trades = s.mode !== "collect" && ((s.config?.strategies ?? []) as unknown[]).length > 0;
  const indicators = useIndicators(trades && seen ? s.session_id : "", trades && seen ? symbol : "", () =>
    replay && Number.isFinite(position.current) ? Math.floor(position.current!) + 1 : undefined, running ? 5000 : false);
  const overlays = useOverlays(indicators.data, candles, interval);

  // Ticks ran past the recorded bars (a fast replay): read history again, at most once a second.
  const behind = interval !== null && running && historyBehind(bars ?? [], symbolTicks, interval);
  const { refetch, isFetching } = history;
  useEffect(() => {
    if (!behind || isFetching) return;
    const timer = setTimeout(() => void refetch(), 1000);
    return () => clearTimeout(timer);
  }, [behind, isFetching, refetch]);

  const notFound = (history.error as { httpStatus?: number } | null)?.httpStatus === 404;
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
      {history.error && !notFound && <ErrorNotice error={history.error} title="Could not load the price history" />}
      {candles.length === 0 && (
        <Text size="sm" c="dimmed">
          {running ? "Waiting for the session's first price…" : "No prices were recorded for this session."}
        </Text>
      )}
      <PriceChart
        candles={candles}
        fills={fillMarkers(fills, symbol)}
        positions={positionLines(positions, symbol)}
        label={`${symbol} price candles`}
        fitKey={`${symbol}:${interval}`}
        onNeedOlder={() => history.hasNextPage && !history.isFetchingNextPage && void history.fetchNextPage()}
        overlays={overlays}
      />
      <Text size="xs" c="dimmed" mt={4}>
        Market time (UTC). Scroll back for older bars; hover a bar for its prices and fills.{" "}
        {overlays.length > 0 && `Lines: the strategy's ${overlays.map((o) => o.title).join(", ")}, on the bars it trades. `}
        {replay ? `History from dataset ${market.dataset} up to the replay position, then live ticks.` : "History this session recorded, then live ticks."}
      </Text>
    </Paper>
  );
}

/** The interval a chart opens at: what shows the market time seen so far (a replay's played
 * span, its whole dataset once completed) in one page of bars; 1m for a live feed. */
function suggestedInterval(replay: boolean, dataset: DatasetInfo | undefined, positionUs: number | undefined): number | null {
  if (!replay) return 60;
  if (!dataset) return null;
  const start = (toMillis(dataset.start) ?? 0) / 1000;
  const seenUs = positionUs ?? -Infinity; // -Infinity: nothing seen yet; Infinity: all of it
  const end = Number.isFinite(seenUs) ? seenUs / 1e6 : seenUs > 0 ? (toMillis(dataset.end) ?? 0) / 1000 : start;
  return chartIntervalFor(Math.max(0, end - start), dataset.interval ?? 1);
}
