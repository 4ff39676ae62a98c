import type { FeedStatus } from "../api/types";
import { toMillis } from "../format";
import type { TapeEvent } from "../live/eventLog";

/** What a session's feed has done, told from its status and its tape's feed events. */
export interface FeedStory {
  /** Whether the feed ever delivered data or reported itself live. */
  everConnected: boolean;
  /** When the current state began (market-independent wall time, ms), if the tape says. */
  sinceMs: number | null;
  /** A sentence for a state that needs the user's attention, else null. */
  problem: string | null;
}

const TROUBLE = new Set(["reconnecting", "stale", "failed", "connecting"]);

export function feedStory(feed: FeedStatus | null | undefined, events: readonly TapeEvent[]): FeedStory {
  const feedEvents = events.filter((e) => e.kind === "feed");
  const everConnected = Boolean(feed && feed.events > 0) || feedEvents.some((e) => e.data.state === "live");
  if (!feed) return { everConnected, sinceMs: null, problem: null };
  let sinceMs: number | null = null;
  for (let i = feedEvents.length - 1; i >= 0 && feedEvents[i].data.state === feed.state; i -= 1) {
    sinceMs = toMillis(feedEvents[i].ts);
  }
  const problem = TROUBLE.has(feed.state) ? (feed.message || `The feed is ${feed.state}.`) : null;
  return { everConnected, sinceMs, problem };
}

/** The feed badge's words: the state now, or after the end what really happened. */
export function feedBadgeText(feed: FeedStatus, ended: boolean, everConnected: boolean): string {
  if (!ended) return `feed: ${feed.state}`;
  if (!everConnected) return "feed: never connected";
  return `feed was: ${feed.state}`;
}
