import { createChart, ColorType, type DeepPartial, type ChartOptions, type IChartApi } from "lightweight-charts";
import { useEffect, useRef, useState } from "react";

/** Dark chart options shared by every chart. The TradingView attribution logo stays on. */
export const chartOptions: DeepPartial<ChartOptions> = {
  autoSize: true,
  layout: {
    background: { type: ColorType.Solid, color: "#1a1b1e" },
    textColor: "#c1c2c5",
    attributionLogo: true,
  },
  grid: { vertLines: { color: "#2c2e33" }, horzLines: { color: "#2c2e33" } },
  // minBarSpacing far below the 0.5 px default: fitContent can then show a whole month of
  // minutes (or a long equity curve) instead of stopping at the last ~2,000 points. A resize
  // (the page's scrollbar appearing as panels load) keeps the range shown: a fitted chart would
  // otherwise lose its first points off the left edge.
  timeScale: { timeVisible: true, secondsVisible: false, borderColor: "#373a40", barSpacing: 10, minBarSpacing: 0.001, lockVisibleTimeRangeOnResize: true },
  rightPriceScale: { borderColor: "#373a40" },
};

/** Create a chart in a container for the component's lifetime. */
export function useChart(extra?: DeepPartial<ChartOptions>) {
  const container = useRef<HTMLDivElement | null>(null);
  const [chart, setChart] = useState<IChartApi | null>(null);
  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const created = createChart(element, { ...chartOptions, ...extra });
    // The visible range in data indices, on the container (a chart fitted to all its data shows
    // from 0 to the last index): what a browser test reads to tell fitted from zoomed in.
    created.timeScale().subscribeVisibleLogicalRangeChange((range) => {
      if (!range) return;
      element.dataset.visibleFrom = range.from.toFixed(1);
      element.dataset.visibleTo = range.to.toFixed(1);
    });
    setChart(created);
    return () => {
      setChart(null);
      created.remove();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  return { container, chart };
}
