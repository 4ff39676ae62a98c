import { Badge, Tooltip } from "@mantine/core";
import type { FeedStatus } from "../api/types";
import { formatTime } from "../format";
import { feedBadgeText } from "../session/feedStory";

const COLORS: Record<string, string> = {
  connected: "teal",
  live: "teal",
  replaying: "teal",
  streaming: "teal",
  reconnecting: "orange",
  stale: "orange",
  connecting: "yellow",
  exhausted: "blue",
  finished: "blue",
  stopped: "gray",
  error: "red",
  failed: "red",
};

/** The session's market-data feed, as the server reports it (nothing when it reports nothing).
 * `everConnected` false (no data, never live) says "never connected" rather than a state. */
export function FeedBadge({ feed, ended = false, everConnected }: { feed: FeedStatus | null | undefined; ended?: boolean; everConnected?: boolean }) {
  if (!feed) return <span aria-label="feed status not reported">—</span>;
  const connected = everConnected ?? feed.events > 0;
  const detail = [
    feed.message,
    `${feed.events.toLocaleString("en-US")} events`,
    `${feed.reconnects} reconnects`,
    `${feed.gaps} gaps`,
    feed.last_event_ts ? `last event ${formatTime(feed.last_event_ts)}` : "no event yet",
  ]
    .filter(Boolean)
    .join(" · ");
  const text = feedBadgeText(feed, ended, connected);
  return (
    <Tooltip label={ended ? `Last reported before the session ended: ${detail}` : detail} multiline maw={360}>
      <Badge
        variant="outline"
        color={ended ? "gray" : COLORS[feed.state] ?? "gray"}
        data-testid="feed-badge"
        data-feed={feed.state}
        tabIndex={0}
        aria-label={`${text}: ${detail}`}
        styles={{ label: { overflow: "visible" } }}
      >
        {text}
      </Badge>
    </Tooltip>
  );
}
