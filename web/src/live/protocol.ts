/** The messages of `WS /ws` (see DESIGN.md and the lead's API). */

export interface EventMessage {
  type: "event";
  session_id: string;
  seq: number;
  ts: number | string;
  kind: string;
  data: Record<string, unknown>;
}

/** Several events of one session in a row, in order (a busy session's batch). */
export interface EventsMessage {
  type: "events";
  session_id: string;
  events: EventMessage[];
}

export interface SessionMessage {
  type: "session";
  data: Record<string, unknown> & { session_id: string };
}

export interface TickMessage {
  type: "tick";
  session_id: string;
  /** The session's latest recorded seq when the tick was sent. */
  seq: number;
  kind: string;
  data: Record<string, unknown>;
}

export interface HeartbeatMessage {
  type: "heartbeat";
  ts: number | string;
}

export interface PongMessage {
  type: "pong";
}

/** The server dropped messages for this client (it fell behind): catch up over HTTP. */
export interface ResyncMessage {
  type: "resync";
  session_id?: string;
}

export interface ErrorMessage {
  type: "error";
  error_code?: string;
  message?: string;
}

export type ServerMessage =
  | EventMessage
  | EventsMessage
  | SessionMessage
  | TickMessage
  | HeartbeatMessage
  | PongMessage
  | ResyncMessage
  | ErrorMessage
  | { type: "subscribed" | "unsubscribed"; topic: string; session_id?: string; last_seq?: number };

/** `events: false`: the session's summaries and ticks without its events (a running backtest's
 * page reads its tape over HTTP when the backtest ends). */
export type Topic = { topic: "sessions" } | { topic: "session"; session_id: string; events?: false };

export function topicKey(topic: Topic): string {
  if (topic.topic === "sessions") return "sessions";
  return `session:${topic.session_id}${topic.events === false ? ":quiet" : ""}`;
}

export function parseMessage(raw: unknown): ServerMessage | null {
  if (typeof raw !== "string") return null;
  try {
    const value = JSON.parse(raw);
    if (value && typeof value === "object" && typeof value.type === "string") {
      return value as ServerMessage;
    }
  } catch {
    /* not JSON: ignored below */
  }
  return null;
}
