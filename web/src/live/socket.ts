import { parseMessage, topicKey, type ServerMessage, type Topic } from "./protocol";

export type ConnectionStatus = "connecting" | "open" | "reconnecting" | "offline";

export interface ConnectionInfo {
  status: ConnectionStatus;
  /** Time of the last message of any kind from the server (ms since epoch). */
  lastMessageAt: number | null;
  /** How many times the socket has (re)opened. */
  connects: number;
  /** Delay before the next reconnect attempt, when reconnecting. */
  retryInMs: number | null;
  lastError: string | null;
}

export interface LiveSocketOptions {
  url: string;
  /** Server heartbeats come every 10 s: silence longer than this means the link is dead. */
  silenceTimeoutMs?: number;
  pingIntervalMs?: number;
  backoffMs?: (attempt: number) => number;
  createSocket?: (url: string) => WebSocket;
  now?: () => number;
}

interface Subscription {
  topic: Topic;
  /** Asked on every (re)subscribe: the seq the subscriber already holds (0: nothing yet). */
  afterSeq?: () => number;
  count: number;
}

export function defaultBackoff(attempt: number): number {
  const base = Math.min(10_000, 500 * 2 ** Math.min(attempt, 5));
  return Math.round(base * (0.75 + Math.random() * 0.5));
}

/**
 * The tab's one websocket. It reconnects with backoff, watches the server heartbeat, replays
 * subscriptions after a reconnect and tells listeners, so they can catch up over HTTP.
 */
export class LiveSocket {
  private socket: WebSocket | null = null;
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly messageListeners = new Set<(message: ServerMessage) => void>();
  private readonly statusListeners = new Set<(info: ConnectionInfo) => void>();
  private readonly openListeners = new Set<(reconnected: boolean) => void>();
  private info: ConnectionInfo = {
    status: "connecting",
    lastMessageAt: null,
    connects: 0,
    retryInMs: null,
    lastError: null,
  };
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private stopped = false;
  private readonly options: Required<LiveSocketOptions>;

  constructor(options: LiveSocketOptions) {
    this.options = {
      silenceTimeoutMs: 25_000,
      pingIntervalMs: 10_000,
      backoffMs: defaultBackoff,
      createSocket: (url) => new WebSocket(url),
      now: () => Date.now(),
      ...options,
    };
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    this.socket?.close();
    this.socket = null;
    this.update({ status: "offline", retryInMs: null });
  }

  get connection(): ConnectionInfo {
    return this.info;
  }

  onMessage(listener: (message: ServerMessage) => void): () => void {
    this.messageListeners.add(listener);
    return () => this.messageListeners.delete(listener);
  }

  onStatus(listener: (info: ConnectionInfo) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Called each time the socket opens; `reconnected` is true after the first time. */
  onOpen(listener: (reconnected: boolean) => void): () => void {
    this.openListeners.add(listener);
    return () => this.openListeners.delete(listener);
  }

  subscribe(topic: Topic, afterSeq?: () => number): () => void {
    const key = topicKey(topic);
    const existing = this.subscriptions.get(key);
    if (existing) {
      existing.count += 1;
      if (afterSeq) existing.afterSeq = afterSeq;
    } else {
      this.subscriptions.set(key, { topic, afterSeq, count: 1 });
      this.sendSubscribe(this.subscriptions.get(key)!);
    }
    return () => {
      const sub = this.subscriptions.get(key);
      if (!sub) return;
      sub.count -= 1;
      if (sub.count <= 0) {
        this.subscriptions.delete(key);
        this.send({ action: "unsubscribe", ...topic });
      }
    };
  }

  private connect(): void {
    if (this.stopped) return;
    this.update({ status: this.info.connects === 0 ? "connecting" : "reconnecting", retryInMs: null });
    let socket: WebSocket;
    try {
      socket = this.options.createSocket(this.options.url);
    } catch (error) {
      this.scheduleReconnect(String(error));
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      const reconnected = this.info.connects > 0;
      this.attempt = 0;
      this.update({
        status: "open",
        connects: this.info.connects + 1,
        lastMessageAt: this.options.now(),
        lastError: null,
      });
      this.startWatchdog();
      for (const sub of this.subscriptions.values()) this.sendSubscribe(sub);
      for (const listener of this.openListeners) listener(reconnected);
    };
    socket.onmessage = (event: MessageEvent) => {
      if (this.socket !== socket) return;
      this.info = { ...this.info, lastMessageAt: this.options.now() };
      const message = parseMessage(event.data);
      if (!message) return;
      if (message.type === "heartbeat" || message.type === "pong") {
        this.emitStatus();
        return;
      }
      for (const listener of this.messageListeners) listener(message);
    };
    socket.onclose = (event: CloseEvent) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.scheduleReconnect(`closed (code ${event.code}${event.reason ? `: ${event.reason}` : ""})`);
    };
    socket.onerror = () => {
      /* a close event follows; reconnect happens there */
    };
  }

  private scheduleReconnect(reason: string): void {
    this.clearTimers();
    if (this.stopped) return;
    const delay = this.options.backoffMs(this.attempt);
    this.attempt += 1;
    this.update({ status: "reconnecting", retryInMs: delay, lastError: reason });
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private startWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    let sincePing = 0;
    const tick = Math.min(this.options.pingIntervalMs, 5_000);
    this.watchdog = setInterval(() => {
      const silentFor = this.options.now() - (this.info.lastMessageAt ?? 0);
      if (silentFor > this.options.silenceTimeoutMs) {
        const socket = this.socket;
        this.socket = null;
        socket?.close();
        this.scheduleReconnect(`no heartbeat for ${Math.round(silentFor / 1000)} s`);
        return;
      }
      sincePing += tick;
      if (sincePing >= this.options.pingIntervalMs) {
        sincePing = 0;
        this.send({ action: "ping" });
      }
    }, tick);
  }

  private sendSubscribe(sub: Subscription): void {
    const message: Record<string, unknown> = { action: "subscribe", ...sub.topic };
    // With nothing held yet the subscriber reads the history over HTTP; the server replays only
    // what a subscriber that already holds events missed.
    const after = sub.topic.topic === "session" ? sub.afterSeq?.() : undefined;
    if (after !== undefined && after > 0) message.after_seq = after;
    this.send(message);
  }

  private send(message: Record<string, unknown>): void {
    if (this.socket && this.socket.readyState === 1) this.socket.send(JSON.stringify(message));
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.watchdog) clearInterval(this.watchdog);
    this.retryTimer = null;
    this.watchdog = null;
  }

  private update(change: Partial<ConnectionInfo>): void {
    this.info = { ...this.info, ...change };
    this.emitStatus();
  }

  private emitStatus(): void {
    for (const listener of this.statusListeners) listener(this.info);
  }
}

export function defaultSocketUrl(): string {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${window.location.host}/ws`;
}
