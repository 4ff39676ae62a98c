import { Box, Paper, Text } from "@mantine/core";
import {
  type AutoscaleInfo,
  CandlestickSeries,
  createSeriesMarkers,
  HistogramSeries,
  LineSeries,
  type IPriceLine,
  type ISeriesApi,
  type ISeriesMarkersPluginApi,
  type MouseEventParams,
  type SeriesMarker,
  type Time,
  type UTCTimestamp,
} from "lightweight-charts";
import { useEffect, useMemo, useRef, useState } from "react";
import { formatNumber, formatPrice, formatTime } from "../format";
import type { Candle } from "../live/candles";
import { describeFill, markerGroups, spacedLabels, type FillMarker, type MarkerGroup } from "./markers";
import { chartOptions, useChart } from "./useChart";

export type { FillMarker } from "./markers";

export interface PositionLine {
  price: number;
  title: string;
  color: string;
  /** widen the price scale to show it (the entry); an exit far away is drawn only when in view */
  keepInView: boolean;
}

export type Bar = Candle & { volume?: number };

/** A line over the candles (a strategy's indicator), at the candles' times. */
export interface Overlay {
  id: string;
  title: string;
  color: string;
  points: { time: number; value: number }[];
}

const UP = "#26a69a";
const DOWN = "#ef5350";

/**
 * Candles with a volume pane, fill markers (one per bar and side, details on hover) and the
 * open position's entry and exit lines. Opens fitted to all its bars (again when `fitKey`
 * changes); `onNeedOlder` is called when the user scrolls back to the first bars.
 *
 * What is drawn on the canvas is also said on the container, for browser tests and tools:
 * `data-bars`, `data-markers` (their labels in `data-marker-labels`), `data-overlays`,
 * `data-lines`, `data-flat-bars` (finished bars drawn as a dash, open = high = low = close) and
 * the visible range (useChart).
 */
export function PriceChart({
  candles,
  fills = [],
  positions = [],
  height = 360,
  label,
  fitKey = "",
  onNeedOlder,
  overlays = [],
}: {
  candles: Bar[];
  fills?: FillMarker[];
  positions?: PositionLine[];
  height?: number;
  label: string;
  fitKey?: string;
  onNeedOlder?: () => void;
  overlays?: Overlay[];
}) {
  // bars no wider than a trader's usual: a running session's first few bars do not fill the chart
  // (the view moves only as below: not by itself when the newest bar is updated in place)
  const { container, chart } = useChart({ timeScale: { ...chartOptions.timeScale, maxBarSpacing: 16, shiftVisibleRangeOnNewBar: false } });
  const series = useRef<ISeriesApi<"Candlestick"> | null>(null);
  const volume = useRef<ISeriesApi<"Histogram"> | null>(null);
  const markers = useRef<ISeriesMarkersPluginApi<Time> | null>(null);
  const lines = useRef<IPriceLine[]>([]);
  const overlaySeries = useRef(new Map<string, ISeriesApi<"Line">>());
  const fitted = useRef<string | null>(null);
  const firstTime = useRef<number | null>(null);
  const shownCount = useRef(0);
  const groups = useRef<MarkerGroup[]>([]);
  const needOlder = useRef(onNeedOlder);
  const barCount = useRef(0);
  const drawn = useRef<Bar[]>([]);
  useEffect(() => {
    needOlder.current = onNeedOlder;
    barCount.current = candles.length;
  }, [onNeedOlder, candles.length]);
  const groupList = useMemo(() => markerGroups(fills, candles), [fills, candles]);
  // pixels per bar at the current zoom (changed by 15 % or more): how many labels fit
  const [pxPerBar, setPxPerBar] = useState(0);
  const labels = useMemo(() => spacedLabels(groupList, pxPerBar), [groupList, pxPerBar]);
  const [hover, setHover] = useState<{ bar: Bar; fills: MarkerGroup[] } | null>(null);

  useEffect(() => {
    if (!chart) return;
    series.current = chart.addSeries(CandlestickSeries, { upColor: UP, downColor: DOWN, wickUpColor: UP, wickDownColor: DOWN, borderVisible: false });
    volume.current = chart.addSeries(HistogramSeries, { priceFormat: { type: "volume" }, priceScaleId: "volume", lastValueVisible: false, priceLineVisible: false });
    chart.priceScale("volume").applyOptions({ scaleMargins: { top: 0.82, bottom: 0 } });
    series.current.priceScale().applyOptions({ scaleMargins: { top: 0.08, bottom: 0.22 } });
    markers.current = createSeriesMarkers(series.current, []);
    const overlayLines = overlaySeries.current;
    // Older bars when the user scrolls back to the first ones; a view fitted to every bar (the
    // opening view) reaches the first bar too, but asks for nothing: it also shows the newest.
    const onRange = (range: { from: number; to: number } | null) => {
      if (!range) return;
      if (range.from < 10 && range.to < barCount.current - 3) needOlder.current?.();
      const px = chart.timeScale().width() / Math.max(1, range.to - range.from);
      setPxPerBar((previous) => (Math.abs(px - previous) > previous * 0.15 ? px : previous));
    };
    const onMove = (param: MouseEventParams<Time>) => {
      const bar = param.time !== undefined && series.current ? (param.seriesData.get(series.current) as Bar | undefined) : undefined;
      if (!bar) return setHover(null);
      setHover({ bar: { ...bar, volume: (volume.current && (param.seriesData.get(volume.current) as { value?: number } | undefined)?.value) ?? undefined }, fills: groups.current.filter((g) => g.time === param.time) });
    };
    chart.timeScale().subscribeVisibleLogicalRangeChange(onRange);
    chart.subscribeCrosshairMove(onMove);
    return () => {
      chart.timeScale().unsubscribeVisibleLogicalRangeChange(onRange);
      chart.unsubscribeCrosshairMove(onMove);
      series.current = null;
      volume.current = null;
      markers.current = null;
      lines.current = [];
      overlayLines.clear();
      fitted.current = null;
      firstTime.current = null;
      shownCount.current = 0;
      drawn.current = [];
    };
  }, [chart]);

  useEffect(() => {
    if (!chart || !series.current || !volume.current) return;
    const range = chart.timeScale().getVisibleLogicalRange();
    const from = extendsDrawn(drawn.current, candles);
    if (from === null) {
      series.current.setData(candles.map(priceBar));
      volume.current.setData(candles.map(volumeBar));
    } else {
      // a price tick moved the newest bar, or bars were added after it: redraw only those (a
      // running session's chart is redrawn a few times a second; setData redraws every bar)
      for (const bar of candles.slice(from)) {
        series.current.update(priceBar(bar));
        volume.current.update(volumeBar(bar));
      }
    }
    drawn.current = candles;
    // A view showing every bar keeps doing so as newer bars come (a run's end, a re-read
    // history); a view the user zoomed or scrolled is left where it is.
    const shown = shownCount.current;
    const wholeView = range !== null && shown > 0 && range.from <= 0.5 && range.to >= shown - 1.5;
    shownCount.current = candles.length;
    if (candles.length === 0) return;
    const precision = pricePrecision(candles[candles.length - 1].close);
    series.current.applyOptions({ priceFormat: { type: "price", precision, minMove: 10 ** -precision } });
    const grew = candles.length !== shown && candles[0].time === firstTime.current;
    if (fitted.current !== fitKey || (wholeView && grew)) {
      chart.timeScale().fitContent();
      fitted.current = fitKey;
    } else if (range && firstTime.current !== null && candles[0].time < firstTime.current) {
      // Older bars were put in front: keep the user's view where it was.
      const added = candles.findIndex((c) => c.time === firstTime.current);
      if (added > 0) chart.timeScale().setVisibleLogicalRange({ from: range.from + added, to: range.to + added });
    }
    firstTime.current = candles[0].time;
  }, [candles, chart, fitKey]);

  useEffect(() => {
    if (!chart) return;
    const current = overlaySeries.current;
    for (const [id, line] of current) {
      if (!overlays.some((o) => o.id === id)) {
        chart.removeSeries(line);
        current.delete(id);
      }
    }
    for (const overlay of overlays) {
      let line = current.get(overlay.id);
      if (!line) {
        line = chart.addSeries(LineSeries, { color: overlay.color, lineWidth: 1, title: overlay.title, priceLineVisible: false, lastValueVisible: false, crosshairMarkerVisible: false });
        current.set(overlay.id, line);
      }
      line.setData(overlay.points.map((p) => ({ time: p.time as UTCTimestamp, value: p.value })));
    }
  }, [overlays, chart]);

  useEffect(() => {
    groups.current = groupList;
    const shown: SeriesMarker<Time>[] = groupList.map((g, i) => ({
      time: g.time as UTCTimestamp,
      position: g.side === "buy" ? "belowBar" : "aboveBar",
      shape: g.side === "buy" ? "arrowUp" : "arrowDown",
      color: g.side === "buy" ? UP : DOWN,
      text: labels[i],
    }));
    markers.current?.setMarkers(shown);
  }, [groupList, labels, chart]);

  useEffect(() => {
    const s = series.current;
    if (!s) return;
    // Keep open-position entry prices in view: widen the autoscaled range to include them.
    const prices = positions.filter((p) => p.keepInView).map((p) => p.price);
    s.applyOptions({
      autoscaleInfoProvider: (original: () => AutoscaleInfo | null) => {
        const info = original();
        if (!info?.priceRange || prices.length === 0) return info;
        return { ...info, priceRange: { minValue: Math.min(info.priceRange.minValue, ...prices), maxValue: Math.max(info.priceRange.maxValue, ...prices) } };
      },
    });
    for (const line of lines.current) s.removePriceLine(line);
    lines.current = positions.map((p) => s.createPriceLine({ price: p.price, color: p.color, lineWidth: 1, lineStyle: 2, title: p.title }));
  }, [positions, chart]);

  return (
    <Box pos="relative">
      <Box
        ref={container}
        h={height}
        role="img"
        aria-label={label}
        data-testid="price-chart"
        data-bars={candles.length}
        data-flat-bars={candles.slice(0, -1).filter((c) => c.high === c.low).length}
        data-markers={fills.length ? groupList.length : 0}
        data-marker-labels={labels.filter(Boolean).join("|")}
        data-overlays={overlays.map((o) => o.title).join(",")}
        data-lines={positions.map((p) => p.title).join("|")}
      />
      {hover && <HoverCard bar={hover.bar} fills={hover.fills} />}
    </Box>
  );
}

function HoverCard({ bar, fills }: { bar: Bar; fills: MarkerGroup[] }) {
  return (
    <Paper pos="absolute" top={6} left={8} px={8} py={4} bg="rgba(26,27,30,0.85)" style={{ pointerEvents: "none", zIndex: 3 }} data-testid="chart-hover">
      <Text size="xs" ff="monospace">
        {formatTime(bar.time)} O {formatPrice(bar.open)} H {formatPrice(bar.high)} L {formatPrice(bar.low)} C {formatPrice(bar.close)}
        {bar.volume !== undefined ? ` V ${formatNumber(bar.volume, 2)}` : ""}
      </Text>
      {fills.flatMap((g) => g.fills).map((f, i) => (
        <Text key={i} size="xs" ff="monospace" c={f.side === "buy" ? "teal" : "red"}>{describeFill(f)}</Text>
      ))}
    </Paper>
  );
}

/** Decimals that show a price's moves: 2 for 40,000, 4 for 1.2345, 8 for 0.0027. */
export function pricePrecision(price: number): number {
  const magnitude = Math.floor(Math.log10(Math.abs(price) || 1));
  return Math.min(10, Math.max(2, 4 - magnitude));
}

function priceBar({ time, open, high, low, close }: Bar) {
  return { time: time as UTCTimestamp, open, high, low, close };
}

function volumeBar(bar: Bar) {
  return { time: bar.time as UTCTimestamp, value: bar.volume ?? 0, color: bar.close >= bar.open ? "rgba(38,166,154,0.45)" : "rgba(239,83,80,0.45)" };
}

/**
 * Where `next` differs from the bars already drawn, when it is those bars with only the newest
 * changed and newer ones after it (each bar kept is the same object: the live candles and the
 * merged history pages keep them): the index to redraw from. Null when anything older changed,
 * a bar was dropped, or nothing is drawn: then every bar is set again.
 */
export function extendsDrawn(drawn: readonly Bar[], next: readonly Bar[]): number | null {
  const last = drawn.length - 1;
  if (last < 0 || next.length < drawn.length || next[0] !== drawn[0]) return null;
  if (last > 0 && next[last - 1] !== drawn[last - 1]) return null;
  if (next[last].time !== drawn[last].time) return null;
  return next[last] === drawn[last] && next.length === drawn.length ? next.length : last;
}
