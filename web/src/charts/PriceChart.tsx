import { Box } from "@mantine/core";
import {
  type AutoscaleInfo,
  CandlestickSeries,
  createSeriesMarkers,
  type IPriceLine,
  type ISeriesApi,
  type ISeriesMarkersPluginApi,
  type SeriesMarker,
  type Time,
  type UTCTimestamp,
} from "lightweight-charts";
import { useEffect, useRef } from "react";
import type { Candle } from "../live/candles";
import { useChart } from "./useChart";

export interface FillMarker {
  timeSec: number;
  side: "buy" | "sell";
  price: number;
  quantity?: number;
}

export interface PositionLine {
  price: number;
  title: string;
}

/** Candles with fill markers and open-position entry lines. */
export function PriceChart({
  candles,
  fills = [],
  positions = [],
  height = 320,
  label,
}: {
  candles: Candle[];
  fills?: FillMarker[];
  positions?: PositionLine[];
  height?: number;
  label: string;
}) {
  const { container, chart } = useChart();
  const series = useRef<ISeriesApi<"Candlestick"> | null>(null);
  const markers = useRef<ISeriesMarkersPluginApi<Time> | null>(null);
  const lines = useRef<IPriceLine[]>([]);

  useEffect(() => {
    if (!chart) return;
    series.current = chart.addSeries(CandlestickSeries, {
      upColor: "#26a69a",
      downColor: "#ef5350",
      wickUpColor: "#26a69a",
      wickDownColor: "#ef5350",
      borderVisible: false,
    });
    markers.current = createSeriesMarkers(series.current, []);
    return () => {
      series.current = null;
      markers.current = null;
      lines.current = [];
    };
  }, [chart]);

  useEffect(() => {
    series.current?.setData(candles.map((c) => ({ ...c, time: c.time as UTCTimestamp })));
    if (candles.length >= 20 && candles.length < 150) chart?.timeScale().fitContent();
  }, [candles, chart]);

  useEffect(() => {
    const sorted = [...fills].sort((a, b) => a.timeSec - b.timeSec);
    const list: SeriesMarker<Time>[] = sorted.map((f) => ({
      time: alignToCandle(f.timeSec, candles) as UTCTimestamp,
      position: f.side === "buy" ? "belowBar" : "aboveBar",
      shape: f.side === "buy" ? "arrowUp" : "arrowDown",
      color: f.side === "buy" ? "#26a69a" : "#ef5350",
      text: `${f.side === "buy" ? "B" : "S"} ${f.quantity ?? ""}`.trim(),
    }));
    markers.current?.setMarkers(list);
  }, [fills, candles, chart]);

  useEffect(() => {
    const s = series.current;
    if (!s) return;
    // Keep open-position entry prices in view: widen the autoscaled range to include them.
    const prices = positions.map((p) => p.price);
    s.applyOptions({
      autoscaleInfoProvider: (original: () => AutoscaleInfo | null) => {
        const info = original();
        if (!info?.priceRange || prices.length === 0) return info;
        return {
          ...info,
          priceRange: {
            minValue: Math.min(info.priceRange.minValue, ...prices),
            maxValue: Math.max(info.priceRange.maxValue, ...prices),
          },
        };
      },
    });
    for (const line of lines.current) s.removePriceLine(line);
    lines.current = positions.map((p) =>
      s.createPriceLine({ price: p.price, color: "#fab005", lineWidth: 1, lineStyle: 2, title: p.title }),
    );
  }, [positions, chart]);

  return <Box ref={container} h={height} role="img" aria-label={label} data-testid="price-chart" />;
}

function alignToCandle(timeSec: number, candles: Candle[]): number {
  let best = timeSec;
  for (const c of candles) {
    if (c.time <= timeSec) best = c.time;
    else break;
  }
  return best;
}
