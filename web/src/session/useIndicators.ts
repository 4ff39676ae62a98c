import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { query, request } from "../api/client";
import type { IndicatorSeries } from "../api/types";
import type { Overlay } from "../charts/PriceChart";
import type { Candle } from "../live/candles";

type Series = IndicatorSeries;

const COLORS = ["#fab005", "#4dabf7", "#e599f7", "#ff922b", "#63e6be", "#f06595"];

/** A session's strategy indicators over its price chart (GET /sessions/{id}/indicators) from
 * the chart's oldest bar (``startUs``) on, one point per chart bar (``every`` seconds: a 1m SMA
 * over a month of 1h bars is 44,640 points, of which the chart draws 744), re-read while it runs. */
export function useIndicators(sessionId: string, symbol: string, endUs: () => number | undefined, refetchMs: number | false, startUs = 0, every: number | null = null) {
  return useQuery({
    queryKey: ["session", sessionId, "indicators", symbol, startUs, every],
    enabled: Boolean(symbol),
    refetchInterval: refetchMs,
    placeholderData: keepPreviousData, // keep the lines while older bars' points load
    queryFn: async ({ signal }) =>
      (await request<{ series: Series[] }>(`/sessions/${sessionId}/indicators${query({ symbol, start_us: startUs || undefined, end_us: endUs(), every: every ?? undefined })}`, { signal })).data.series,
  });
}

/**
 * Indicator series as chart overlays at the candles' times: the last value within each candle
 * (a 1m SMA on a 1h chart reads as its value at the hour's close), only where a candle is.
 */
export function overlaysOn(series: Series[] | undefined, candles: readonly Candle[], intervalSec: number): Overlay[] {
  if (!series?.length || candles.length === 0) return [];
  const times = new Set(candles.map((c) => c.time));
  return series.map((s, i) => {
    const byBar = new Map<number, number>();
    for (const p of s.points) {
      const bar = Math.floor(p.time / intervalSec) * intervalSec;
      if (times.has(bar)) byBar.set(bar, p.value);
    }
    const title = s.output === "value" ? s.name : `${s.name}.${s.output}`;
    return { id: `${s.strategy}:${title}`, title, color: COLORS[i % COLORS.length], points: [...byBar].map(([time, value]) => ({ time, value })) };
  });
}

export function useOverlays(series: Series[] | undefined, candles: readonly Candle[], intervalSec: number | null): Overlay[] {
  return useMemo(() => (intervalSec ? overlaysOn(series, candles, intervalSec) : []), [series, candles, intervalSec]);
}
