import { Badge } from "@mantine/core";

const COLORS: Record<string, string> = {
  starting: "yellow",
  running: "teal",
  stopping: "orange",
  stopped: "gray",
  completed: "blue",
  failed: "red",
};

export function StateBadge({ state }: { state: string }) {
  return (
    <Badge color={COLORS[state] ?? "gray"} variant="light" miw={96} data-testid="state-badge" data-state={state}>
      {state}
    </Badge>
  );
}
