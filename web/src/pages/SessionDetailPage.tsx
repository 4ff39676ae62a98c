import { Alert, Anchor, Badge, Box, Group, Paper, SimpleGrid, Stack, Text, Title, Code } from "@mantine/core";
import { useMemo, type ReactNode } from "react";
import { Link, useParams } from "react-router-dom";
import { useSession, useSessionRecords } from "../api/hooks";
import { isTerminal, type SessionSummary } from "../api/types";
import { LineChart, drawdown, type LineData } from "../charts/LineChart";
import { useThrottled } from "../components/useThrottled";
import { updateEvery } from "../live/pace";
import { ErrorNotice } from "../components/ErrorNotice";
import { FeedBadge } from "../components/FeedBadge";
import { StateBadge } from "../components/StateBadge";
import { useNow } from "../components/useNow";
import { asNumber, formatDuration, formatTime } from "../format";
import { useSessionStream } from "../live/useSessionStream";
import { CollectStats } from "../session/CollectStats";
import { feedStory, type FeedStory } from "../session/feedStory";
import { LivePrices } from "../session/LivePrices";
import { ManualOrder } from "../session/ManualOrder";
import { MetricsGrid } from "../session/MetricsTable";
import { PerpetualRules } from "../session/PerpetualRules";
import { equityPoints } from "../session/records";
import { SessionRecordsTabs, type TradingRecords } from "../session/SessionRecordsTabs";
import { metricsOf, useResults } from "../backtests/useResults";
import { useStopControl } from "../session/StopControl";
import { SessionPriceChart } from "../session/SessionPriceChart";
import { useRefreshOnEnd } from "../session/useRefreshOnEnd";

/** No records (yet): one array for every render, so that what is computed from it is kept. */
const NONE: never[] = [];

export function SessionDetailPage() {
  const { sessionId = "" } = useParams();
  // Counters and metrics are pushed while the socket is up; re-read every few seconds otherwise.
  const session = useSession(sessionId, 3000);
  const s = session.data;
  const stream = useSessionStream(sessionId, updateEvery(s) > 0); // a running backtest's: quiet
  const ended = isTerminal(s?.state);
  const stop = useStopControl(sessionId, ended);
  useRefreshOnEnd(sessionId, s?.state);
  const story = useMemo(() => feedStory(s?.feed, stream.log.events), [s?.feed, stream.log.events]);

  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-start">
        <Stack gap={4}>
          <Text size="sm"><Anchor component={Link} to="/">Sessions</Anchor> /</Text>
          <Group gap="xs">
            <Title order={2} ff="monospace" fz="h3">{sessionId}</Title>
            {s && <StateBadge state={s.state} />}
            {s && <Badge variant="outline">{s.mode}</Badge>}
            {s && <FeedBadge feed={s.feed} ended={ended} everConnected={story.everConnected} />}
          </Group>
          {s && <SessionFacts session={s} />}
        </Stack>
        {s && !ended && stop.button}
      </Group>
      {stop.outcome}
      {s && <FeedNotice session={s} story={story} />}
      <ErrorNotice error={session.error} title="Could not load this session" />
      {s && <SessionBody session={s} stream={stream} />}
      {!s && !session.error && <Text c="dimmed">Loading…</Text>}
    </Stack>
  );
}

function SessionFacts({ session: s }: { session: SessionSummary }) {
  return (
    <>
      <Text size="sm" c="dimmed">
        {s.symbols.join(", ")}{s.label ? ` · ${s.label}` : ""} · created {formatTime(s.created_at)} · started {formatTime(s.started_at)}
        {s.ended_at ? ` · ended ${formatTime(s.ended_at)}` : ""}
      </Text>
      {s.stop_reason && <Text size="sm">Stop reason: <Code>{s.stop_reason}</Code></Text>}
      {s.state === "failed" && (
        <Alert color="red" title={`Failed: ${s.error_code ?? "unknown error"}`} role="alert" p="xs">
          {s.error_message ?? "The server recorded no message."}
        </Alert>
      )}
    </>
  );
}

/** Why the market data is not flowing (exchange unreachable, symbol unknown, …) and since
 * when, on the page itself; after the end, that it never connected when it never did. */
function FeedNotice({ session: s, story }: { session: SessionSummary; story: FeedStory }) {
  const feed = s.feed;
  const now = useNow();
  if (!feed) return null;
  if (isTerminal(s.state)) {
    if (story.everConnected) return null;
    return (
      <Alert color="gray" title="The market-data feed never connected" data-testid="feed-notice" p="xs">
        No market data arrived before the session ended{feed.message ? `: ${feed.message}` : "."}
      </Alert>
    );
  }
  if (!story.problem) return null;
  const since = story.sinceMs !== null ? ` since ${formatTime(story.sinceMs)} (${formatDuration(Math.max(0, now - story.sinceMs) / 1000)} ago)` : "";
  return (
    <Alert color="orange" title={`Market data ${feed.state}${since}`} role="status" data-testid="feed-notice" p="xs">
      <Text size="sm">{story.problem}</Text>
      <Text size="xs" c="dimmed" mt={2}>
        {story.everConnected
          ? `${feed.reconnects} reconnects so far; the session keeps running and resumes when data flows again.`
          : "The feed has never connected: no price has arrived yet. The session keeps trying until it is stopped."}
      </Text>
    </Alert>
  );
}

function SessionBody({ session: s, stream }: { session: SessionSummary; stream: ReturnType<typeof useSessionStream> }) {
  const trades = s.mode !== "collect";
  const counters = (s.counters ?? {}) as Record<string, unknown>;
  const reported = (counters.last_prices ?? {}) as Record<string, { price?: unknown; ts?: unknown }>;
  const running = !isTerminal(s.state);
  return (
    <Stack gap="md">
      <LivePrices symbols={s.symbols} prices={running ? stream.prices : {}} reported={reported} ended={!running} />
      {s.mode === "paper" && s.state === "running" && (
        <ManualOrder
          sessionId={s.session_id}
          symbols={s.symbols}
          pricedSymbols={s.symbols.filter((sym) => stream.prices[sym] !== undefined || asNumber(reported[sym]?.price) !== null)}
        />
      )}
      {trades ? <TradingBody session={s} stream={stream} /> : (
        <>
          <CollectStats session={s} />
          <SessionPriceChart session={s} ticks={stream.ticks} fills={NONE} positions={NONE} orders={NONE} />
          <SessionRecordsTabs session={s} log={stream.log} deferred={stream.deferred} catchUpError={stream.catchUpError} records={null} />
        </>
      )}
    </Stack>
  );
}

function TradingBody({ session: s, stream }: { session: SessionSummary; stream: ReturnType<typeof useSessionStream> }) {
  const records: TradingRecords = {
    fills: useSessionRecords(s.session_id, "fills"),
    orders: useSessionRecords(s.session_id, "orders"),
    positions: useSessionRecords(s.session_id, "positions"),
    trades: useSessionRecords(s.session_id, "trades"),
    funding: useSessionRecords(s.session_id, "funding"),
  };
  const equity = useSessionRecords(s.session_id, "equity");
  const results = useResults(s);
  const metrics = metricsOf(s, results.data);
  const ended = isTerminal(s.state);

  // a running backtest's curves are redrawn once a second, with the points they have then
  const curve = useThrottled(useMemo(() => ({ rows: equity.data, ticks: stream.equityTicks }), [equity.data, stream.equityTicks]), updateEvery(s));
  const equityLines: LineData[] = useMemo(() => {
    const points = [...equityPoints(curve.rows ?? []), ...curve.ticks.map((t) => ({ timeSec: t.timeSec, value: t.equity }))];
    return [{ id: "equity", title: "equity", color: "#20c997", points }];
  }, [curve]);
  const ddLines: LineData[] = useMemo(
    () => [{ id: "dd", title: "drawdown %", color: "#ff6b6b", points: drawdown(equityLines[0].points) }],
    [equityLines],
  );

  const noEquity = equityLines[0].points.length === 0;
  return (
    <>
      <SessionPriceChart
        session={s}
        ticks={stream.ticks}
        fills={records.fills.data ?? NONE}
        positions={records.positions.data ?? NONE}
        orders={records.orders.data ?? NONE}
      />
      <Paper withBorder p="sm">
        <Text fw={600} mb="xs">{results.data ? "Final results" : ended ? "Metrics (last reported; the tape holds no final results)" : "Metrics (live)"}</Text>
        <MetricsGrid metrics={metrics} ended={ended} />
      </Paper>
      <PerpetualRules session={s} />
      <SimpleGrid cols={2} spacing="md">
        <Paper withBorder p="sm">
          <Text fw={600} mb="xs">Equity</Text>
          <CurveOrNothing empty={noEquity}>
            <LineChart lines={equityLines} label="Equity curve" testId="equity-chart" />
          </CurveOrNothing>
        </Paper>
        <Paper withBorder p="sm">
          <Text fw={600} mb="xs">Drawdown</Text>
          <CurveOrNothing empty={noEquity}>
            <LineChart lines={ddLines} label="Drawdown curve" testId="drawdown-chart" />
          </CurveOrNothing>
        </Paper>
      </SimpleGrid>
      <SessionRecordsTabs session={s} log={stream.log} deferred={stream.deferred} catchUpError={stream.catchUpError} records={records} />
    </>
  );
}

/** A chart, or a line saying nothing is recorded yet instead of an empty panel (the chart stays
 * mounted, clipped to nothing, so it keeps its width for its first fit). */
function CurveOrNothing({ empty, children }: { empty: boolean; children: ReactNode }) {
  return (
    <>
      {empty && <Text size="sm" c="dimmed">No equity recorded yet.</Text>}
      <Box h={empty ? 0 : undefined} style={{ overflow: "hidden" }}>{children}</Box>
    </>
  );
}
