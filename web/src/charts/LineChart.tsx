import { Box } from "@mantine/core";
import { LineSeries, type ISeriesApi, type UTCTimestamp } from "lightweight-charts";
import { useEffect, useMemo, useRef } from "react";
import { formatMoney } from "../format";
import { useChart } from "./useChart";

export interface LinePoint {
  timeSec: number;
  value: number;
}

export interface LineData {
  id: string;
  title: string;
  color: string;
  points: LinePoint[];
}

export const PALETTE = ["#20c997", "#4dabf7", "#fab005", "#f06595", "#9775fa", "#ff922b"];

/** One or more line series on one time axis (equity, drawdown, overlaid runs). */
export function LineChart({ lines, height = 220, label, testId }: { lines: LineData[]; height?: number; label: string; testId?: string }) {
  const { container, chart } = useChart();
  const series = useRef(new Map<string, ISeriesApi<"Line">>());
  const points = useMemo(() => lines.map((l) => uniqueByTime(l.points)), [lines]);

  useEffect(() => {
    if (!chart) return;
    const current = series.current;
    for (const [id, s] of current) {
      if (!lines.some((l) => l.id === id)) {
        chart.removeSeries(s);
        current.delete(id);
      }
    }
    lines.forEach((line, i) => {
      let s = current.get(line.id);
      if (!s) {
        // axis and labels as the dashboard writes money and percentages: 10,014.40
        s = chart.addSeries(LineSeries, { color: line.color, lineWidth: 2, title: line.title, priceFormat: { type: "custom", formatter: formatMoney, minMove: 0.01 } });
        current.set(line.id, s);
      }
      s.setData(points[i].map((p) => ({ time: p.timeSec as UTCTimestamp, value: p.value })));
    });
    chart.timeScale().fitContent();
  }, [lines, points, chart]);

  useEffect(() => () => series.current.clear(), [chart]);

  // how many points each line has and where it starts, said on the container for browser tests
  return (
    <Box
      ref={container}
      h={height}
      role="img"
      aria-label={label}
      data-testid={testId}
      data-points={points.map((p) => p.length).join(",")}
      data-starts={points.map((p) => p[0]?.value.toFixed(2) ?? "").join(",")}
    />
  );
}

/** lightweight-charts needs strictly increasing times: keep the last value of each second. */
export function uniqueByTime(points: LinePoint[]): LinePoint[] {
  const sorted = [...points].sort((a, b) => a.timeSec - b.timeSec);
  const out: LinePoint[] = [];
  for (const p of sorted) {
    if (out.length && out[out.length - 1].timeSec === p.timeSec) out[out.length - 1] = p;
    else out.push(p);
  }
  return out;
}

/** Drawdown (in %, ≤ 0) of an equity curve. */
export function drawdown(points: LinePoint[]): LinePoint[] {
  let peak = -Infinity;
  return points.map((p) => {
    peak = Math.max(peak, p.value);
    return { timeSec: p.timeSec, value: peak > 0 ? ((p.value - peak) / peak) * 100 : 0 };
  });
}
