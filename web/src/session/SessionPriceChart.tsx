import { Group, Paper, Select, SegmentedControl, Text } from "@mantine/core";
import { useEffect, useMemo, useRef, useState } from "react";
import { useDatasets } from "../api/hooks";
import type { FillView, PositionView, SessionSummary } from "../api/types";
import { PriceChart } from "../charts/PriceChart";
import { ErrorNotice } from "../components/ErrorNotice";
import { useCandles } from "../data/hooks";
import { asNumber, toMillis } from "../format";
import { CHART_INTERVALS, foldTicks, intervalFor } from "../live/candles";
import { useConnection } from "../live/LiveProvider";
import type { PriceTick } from "../live/useSessionStream";
import { fillMarkers, positionLines } from "./records";

const HISTORY_REFRESH_MS = 2000;
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
  fills: FillView[];
  positions: PositionView[];
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

  // A replay's history is its dataset up to where the replay is now (the latest price time
  // seen, from ticks or the runner's report); it is re-read while the session runs, so bars
  // have their real open/high/low/close, and ticks only extend the newest bar in between.
  const reported = asNumber(((s.counters?.last_prices ?? {}) as Record<string, { ts?: unknown }>)[symbol]?.ts);
  const latestTick = ticks[symbol]?.at(-1)?.timeMs;
  const positionUs = Math.max(reported ?? -Infinity, latestTick !== undefined ? latestTick * 1000 : -Infinity);
  const position = useRef(positionUs); // read when the candles are (re)fetched
  useEffect(() => {
    position.current = positionUs;
  }, [positionUs]);
  const pushed = useConnection().status === "open";
  const running = s.state === "running" || s.state === "starting" || s.state === "stopping";
  const source = replay ? market.dataset ?? null : s.session_id;
  const known = Number.isFinite(positionUs); // never read a replay's future
  const history = useCandles(interval && (!replay || known) ? source : null, symbol, interval ?? 60, {
    endUs: () => (replay ? Math.floor(position.current) + 1 : undefined),
    refetchMs: running && !pushed ? 5000 : false,
  });
  // While ticks are pushed they extend the newest bar; the history is re-read once per bar
  // that closes (ticks are sampled a few times a second, the stored bars have the real range).
  const bar = interval && latestTick !== undefined ? Math.floor(latestTick / 1000 / interval) : null;
  const refetchHistory = history.refetch;
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => {
    if (!pushed || !running || bar === null || pending.current) return;
    pending.current = setTimeout(() => {  // at most one re-read per HISTORY_REFRESH_MS
      pending.current = null;
      void refetchHistory();
    }, HISTORY_REFRESH_MS);
  }, [bar, pushed, running, refetchHistory]);
  useEffect(() => () => {
    if (pending.current) clearTimeout(pending.current);
  }, []);
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
