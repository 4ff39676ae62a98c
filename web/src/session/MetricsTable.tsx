import { Paper, SimpleGrid, Text, Tooltip } from "@mantine/core";
import { displayMetrics } from "./metrics";

export { formatMetric, metricLabel } from "./metrics";

/** Metric cards for whatever metrics the server computed, formatted for people. */
export function MetricsGrid({ metrics, ended = true }: { metrics: Record<string, unknown> | null | undefined; ended?: boolean }) {
  const items = displayMetrics(metrics ?? {}, ended);
  if (items.length === 0) {
    return <Text size="sm" c="dimmed">The server reports no metrics for this session yet.</Text>;
  }
  return (
    <SimpleGrid cols={{ base: 3, md: 6 }} spacing="xs" data-testid="metrics">
      {items.map(({ key, label, text, hint }) => (
        <Paper key={key} withBorder p="xs">
          {hint ? (
            <Tooltip label={hint} multiline w={320} withArrow>
              <Text size="xs" c="dimmed" style={{ textDecoration: "underline dotted", cursor: "help" }} tabIndex={0}>{label}</Text>
            </Tooltip>
          ) : (
            <Text size="xs" c="dimmed">{label}</Text>
          )}
          {/* a timestamp in smaller type: on one line in a card, like the numbers */}
          <Text fw={600} ff="monospace" fz={key.endsWith("_ts") ? "xs" : undefined} data-metric={key}>{text}</Text>
        </Paper>
      ))}
    </SimpleGrid>
  );
}
