import { Code, ScrollArea, Table, Text } from "@mantine/core";
import type { EventLog } from "../live/eventLog";
import { formatTime } from "../format";

const KIND_COLORS: Record<string, string> = {
  state: "grape",
  fill: "teal",
  order: "blue",
  position: "cyan",
  risk: "red",
  feed: "orange",
};

/** The session's tape, newest first; every event once, by seq. `deferred`: the tape is not
 * followed live (a running backtest's), and says so. */
export function EventTimeline({ log, error, deferred = false }: { log: EventLog; error: string | null; deferred?: boolean }) {
  const events = [...log.events].reverse().slice(0, 500);
  return (
    <>
      {deferred && (
        <Text size="sm" c="dimmed" mb="xs" data-testid="timeline-deferred">
          A running backtest records its events faster than they can be read: the timeline shows them up to when this page
          opened, and all of them once the backtest ends.
        </Text>
      )}
      {error && (
        <Text c="red" size="sm" role="alert">
          Could not catch up on events: {error}
        </Text>
      )}
      {events.length === 0 ? (
        <Text size="sm" c="dimmed">No events recorded yet.</Text>
      ) : (
        <ScrollArea h={320} type="auto" tabIndex={0} aria-label="Event timeline">
          <Table fz="xs" data-testid="event-timeline" striped>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>seq</Table.Th>
                <Table.Th>time (UTC)</Table.Th>
                <Table.Th>kind</Table.Th>
                <Table.Th>data</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {events.map((e) => (
                <Table.Tr key={e.seq} data-seq={e.seq}>
                  <Table.Td ff="monospace">{e.seq}</Table.Td>
                  <Table.Td>{formatTime(e.ts)}</Table.Td>
                  <Table.Td>
                    <Text size="xs" fw={700} c={KIND_COLORS[e.kind] ?? "gray"} tt="uppercase">{e.kind}</Text>
                  </Table.Td>
                  <Table.Td>
                    <Code fz="xs">{describeEvent(e.kind, e.data)}</Code>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollArea>
      )}
      <Text size="xs" c="dimmed" mt={4}>
        {log.events.length} event{log.events.length === 1 ? "" : "s"} held, up to seq {log.lastSeq}
        {log.gap ? " (catching up on a gap…)" : ""}
      </Text>
    </>
  );
}

export function describeEvent(kind: string, data: Record<string, unknown>): string {
  if (kind === "state" && typeof data.to === "string") {
    const extra = data.stop_reason ?? data.error_code;
    return `${data.from ?? "∅"} → ${data.to}${extra ? ` (${extra})` : ""}${data.error_message ? `: ${data.error_message}` : ""}`;
  }
  if (kind === "feed" && typeof data.state === "string") {
    return `${data.state}${data.message ? ` · ${data.message}` : ""}${data.reconnects ? ` · ${data.reconnects} reconnects` : ""}${data.gaps ? ` · ${data.gaps} gaps` : ""}`;
  }
  return JSON.stringify(data);
}
