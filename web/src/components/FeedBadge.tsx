import { Badge, Tooltip } from "@mantine/core";
import type { FeedStatus } from "../api/types";
import { formatTime } from "../format";

const COLORS: Record<string, string> = {
  connected: "teal",
  live: "teal",
  replaying: "teal",
  streaming: "teal",
  reconnecting: "orange",
  connecting: "yellow",
  exhausted: "blue",
  finished: "blue",
  stopped: "gray",
  error: "red",
  failed: "red",
};

/** The session's market-data feed, as the server reports it (nothing when it reports nothing). */
export function FeedBadge({ feed, ended = false }: { feed: FeedStatus | null | undefined; ended?: boolean }) {
  if (!feed) return <span aria-label="feed status not reported">—</span>;
  const detail = [
    feed.message,
    `${feed.events.toLocaleString("en-US")} events`,
    `${feed.reconnects} reconnects`,
    `${feed.gaps} gaps`,
    feed.last_event_ts ? `last event ${formatTime(feed.last_event_ts)}` : "no event yet",
  ]
    .filter(Boolean)
    .join(" · ");
  return (
    <Tooltip label={ended ? `Last reported before the session ended: ${detail}` : detail} multiline maw={360}>
      <Badge
        variant="outline"
        color={ended ? "gray" : COLORS[feed.state] ?? "gray"}
        data-testid="feed-badge"
        data-feed={feed.state}
        tabIndex={0}
        aria-label={`Feed ${ended ? "last reported " : ""}${feed.state}: ${detail}`}
        styles={{ label: { overflow: "visible" } }}
      >
        {ended ? "feed was" : "feed"}: {feed.state}
      </Badge>
    </Tooltip>
  );
}
