import { Box, Group, Paper, Select, SegmentedControl, Text } from "@mantine/core";
import { useEffect, useMemo, useRef, useState } from "react";
import { useDatasets } from "../api/hooks";
import type { DatasetInfo, FillView, OrderView, PositionView, SessionSummary } from "../api/types";
import { PriceChart } from "../charts/PriceChart";
import { useThrottled } from "../components/useThrottled";
import { updateEvery } from "../live/pace";
import { ErrorNotice } from "../components/ErrorNotice";
import { useCandles } from "../data/hooks";
import { asNumber, toMillis } from "../format";
import { CHART_INTERVALS, chartIntervalFor, historyBehind, INTERVAL_LABELS, liveCandles } from "../live/candles";
import { useConnection } from "../live/LiveProvider";
import { recordRefreshDelay, type PriceTick } from "../live/useSessionStream";
import { fillMarkers, positionLines } from "./records";
import { useIndicators, useOverlays } from "./useIndicators";

const HISTORY_REFRESH_MS = 2000;

/**
 * The session's market as candles: what it has already seen (a replay's dataset up to the
 * replay position, or what a live session recorded), extended by the live price ticks.
 */
export function SessionPriceChart({
  session: s,
  ticks,
  fills,
  positions,
  orders,
}: {
  session: SessionSummary;
  ticks: Record<string, PriceTick[]>;
  fills: FillView[];
  positions: PositionView[];
  orders: OrderView[];
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
  const reported = asNumber(((s.counters?.last_prices ?? {}) as Record<string, { ts?: unknown }>)[symbol]?.ts);
  const symbolTicks = useMemo(() => ticks[symbol] ?? [], [ticks, symbol]);
  const latestTick = symbolTicks.at(-1)?.timeMs;
  // A completed replay has seen its whole dataset (the reported price may be from the last
  // checkpoint, before the end); else the furthest of the reports and the ticks.
  const feedLast = asNumber(s.feed?.last_event_ts);
  const positionUs = s.state === "completed" ? Infinity : Math.max(reported ?? -Infinity, feedLast ?? -Infinity, latestTick !== undefined ? latestTick * 1000 : -Infinity);
  const position = useRef(positionUs); // read when the candles are (re)fetched
  useEffect(() => {
    position.current = positionUs;
  }, [positionUs]);
  const pushed = useConnection().status === "open";
  const running = s.state === "running" || s.state === "starting" || s.state === "stopping";
  // A backtest replays its whole dataset in seconds: its bars are sized for the whole run from
  // the start (following the position changed the interval four or five times, each change
  // reading every bar and indicator point again while the backtest ran); a paper replay's
  // follow the span replayed so far.
  const suggested = suggestedInterval(replay, dataset, s.mode === "backtest" ? Infinity : positionUs);
  const interval = chosen ?? suggested;
  const source = replay ? market.dataset ?? null : s.session_id;
  // Never read a replay's future; a live session has nothing recorded before its first price.
  const seen = positionUs !== -Infinity;
  const endUs = () => (replay && Number.isFinite(position.current) ? Math.floor(position.current) + 1 : undefined);
  // polled while the websocket is down; while ticks are pushed, re-read as bars close (below)
  const pollMs = running && !pushed ? 5000 : false;
  const history = useCandles(interval && seen ? source : null, symbol, interval ?? 60, { endUs, refetchMs: pollMs });
  const bars = history.bars;
  const candles = useMemo(() => (interval ? liveCandles(bars ?? [], symbolTicks, interval) : []), [bars, symbolTicks, interval]);
  const drawsIndicators = s.mode !== "collect" && ((s.config?.strategies ?? []) as unknown[]).length > 0 && seen;
  // the indicators' points over the bars loaded (older ones as the chart scrolls back to them)
  const oldestUs = bars && bars.length > 0 ? bars[0].time * 1_000_000 : 0;
  const indicators = useIndicators(drawsIndicators ? s.session_id : "", drawsIndicators ? symbol : "", endUs, pollMs, oldestUs, interval);
  const overlays = useOverlays(indicators.data, candles, interval);

  // While ticks are pushed they extend the newest bar; the history (and the indicators on it)
  // is re-read once per bar that closes (ticks are sampled a few times a second, the stored
  // bars have the real range), at most once per HISTORY_REFRESH_MS.
  const bar = interval && latestTick !== undefined ? Math.floor(latestTick / 1000 / interval) : null;
  const { extend } = history;
  const refetchIndicators = indicators.refetch;
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => {
    if (!pushed || !running || bar === null || pending.current) return;
    pending.current = setTimeout(() => {
      pending.current = null;
      void extend();
      if (drawsIndicators) void refetchIndicators();
    }, HISTORY_REFRESH_MS);
  }, [bar, pushed, running, extend, refetchIndicators, drawsIndicators]);
  useEffect(() => () => {
    if (pending.current) clearTimeout(pending.current);
  }, []);

  // Ticks ran past the recorded bars (a fast replay): read the newer bars, at most once a second
  // and never more than a fifth of the time (a backtest runs on the same machine).
  const behind = interval !== null && running && historyBehind(bars ?? [], symbolTicks, interval);
  const lastExtendMs = useRef(0);
  useEffect(() => {
    if (!behind) return;
    const timer = setTimeout(() => {
      const began = performance.now();
      void extend().finally(() => {
        lastExtendMs.current = performance.now() - began;
      });
    }, recordRefreshDelay(lastExtendMs.current));
    return () => clearTimeout(timer);
  }, [behind, bars, extend]);

  // Fitted again to the whole run once it has ended and its newest bars are read (a page opened
  // while a backtest ran was fitted to its first bars and stayed zoomed in on its end); older
  // pages loaded by scrolling back do not change the key.
  const newestPage = history.data?.pages[0]?.items.length ?? 0;
  const fitKey = `${symbol}:${interval}:${running ? "running" : `ended:${newestPage}`}`;
  const notFound = (history.error as { httpStatus?: number } | null)?.httpStatus === 404;
  // new arrays only when the records are read again: the chart sets its markers and price lines
  // anew (and redraws) whenever these change, and the page renders at every batch of events
  const markers = useMemo(() => fillMarkers(fills, symbol), [fills, symbol]);
  const lines = useMemo(() => positionLines(positions, orders, symbol), [positions, orders, symbol]);
  // a running backtest's chart is redrawn once a second, all of it at once
  const drawn = useThrottled(useMemo(() => ({ candles, markers, lines, overlays }), [candles, markers, lines, overlays]), updateEvery(s));
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
      {drawn.candles.length === 0 && (
        <Text size="sm" c="dimmed">
          {history.isFetching ? "Loading prices…" : running ? "Waiting for the session's first price…" : "No prices were recorded for this session."}
        </Text>
      )}
      {/* no empty chart before the first price: clipped to nothing, not hidden, so it keeps its
          width and fits the first bars it gets */}
      <Box h={drawn.candles.length === 0 ? 0 : undefined} style={{ overflow: "hidden" }}>
        <PriceChart
          candles={drawn.candles}
          fills={drawn.markers}
          positions={drawn.lines}
          label={`${symbol} price candles`}
          fitKey={fitKey}
          onNeedOlder={() => history.hasNextPage && !history.isFetchingNextPage && void history.fetchNextPage()}
          overlays={drawn.overlays}
        />
      </Box>
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
