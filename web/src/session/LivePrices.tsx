import { Group, Paper, Text } from "@mantine/core";
import type { LivePrice } from "../live/useSessionStream";
import { asNumber, formatPrice, formatTime } from "../format";

/** The latest price of each symbol: from live ticks, else the runner's last reported price. */
export function LivePrices({
  symbols,
  prices,
  reported,
  ended = false,
}: {
  symbols: string[];
  prices: Record<string, LivePrice>;
  reported: Record<string, { price?: unknown; ts?: unknown }>;
  /** The session has ended: its prices are the last ones it saw, never "live". */
  ended?: boolean;
}) {
  return (
    <Group gap="sm">
      {symbols.map((symbol) => {
        const live = ended ? undefined : prices[symbol];
        const fallback = reported[symbol];
        const price = live?.price ?? asNumber(fallback?.price);
        const time = live?.timeMs ?? (fallback?.ts as number | undefined);
        return (
          <Paper key={symbol} withBorder p="xs" miw={200} data-testid="live-price" data-symbol={symbol}>
            <Text size="xs" c="dimmed">{symbol} {live ? "· live" : price !== null ? (ended ? "· last price seen" : "· last reported") : ""}</Text>
            <Text fw={700} size="xl" ff="monospace" data-testid="live-price-value">
              {price === null ? (ended ? "no price seen" : "no price yet") : formatPrice(price)}
            </Text>
            <Text size="xs" c="dimmed">market time {formatTime(time)}</Text>
          </Paper>
        );
      })}
    </Group>
  );
}
