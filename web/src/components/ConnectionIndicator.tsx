import { Badge, Tooltip } from "@mantine/core";
import { useConnection } from "../live/LiveProvider";
import type { ConnectionInfo } from "../live/socket";
import { useNow } from "./useNow";

/** What the header says about the live link: only what the socket really observed. */
export function describeConnection(info: ConnectionInfo, now: number): { label: string; color: string; detail: string } {
  const seen = info.lastMessageAt ? `last message ${Math.max(0, Math.round((now - info.lastMessageAt) / 1000))} s ago` : "no message yet";
  switch (info.status) {
    case "open":
      return { label: "Live", color: "teal", detail: `Connected to the server; ${seen}.` };
    case "connecting":
      return { label: "Connecting…", color: "yellow", detail: "Opening the live connection." };
    case "reconnecting": {
      const retry = info.retryInMs !== null ? ` Retrying in ${Math.ceil(info.retryInMs / 1000)} s.` : " Retrying now.";
      return {
        label: "Reconnecting…",
        color: "orange",
        detail: `Live connection lost${info.lastError ? ` (${info.lastError})` : ""}.${retry} Data shown may be out of date.`,
      };
    }
    case "offline":
      return { label: "Offline", color: "red", detail: "The live connection is closed." };
  }
}

export function ConnectionIndicator() {
  const info = useConnection();
  const now = useNow();
  const { label, color, detail } = describeConnection(info, now);
  return (
    <Tooltip label={detail} multiline w={280} withArrow>
      <Badge
        color={color}
        variant="dot"
        size="lg"
        role="status"
        aria-live="polite"
        aria-label={`Connection: ${label}. ${detail}`}
        data-testid="connection-indicator"
        data-status={info.status}
        tabIndex={0}
        styles={{ label: { overflow: "visible" } }}
      >
        {label}
      </Badge>
    </Tooltip>
  );
}
