import { Anchor, Group, Paper, Progress, Stack, Text, Title } from "@mantine/core";
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { useSession, useStartSession } from "../api/hooks";
import { isTerminal } from "../api/types";
import { ErrorNotice } from "../components/ErrorNotice";
import { StateBadge } from "../components/StateBadge";
import { formatNumber } from "../format";
import { useSessionStream } from "../live/useSessionStream";
import { StopControl } from "../session/StopControl";
import { axisNames, backtestOfTrial, trialsKey, useTrials, type TrialView } from "./api";
import { Heatmap } from "./Heatmap";
import { sweepCounters } from "./SweepsPage";
import { TrialsTable } from "./TrialsTable";

/** One sweep: progress, the heatmap, the trials as they arrive; a trial opens as a backtest. */
export function SweepDetailPage() {
  const { sessionId = "" } = useParams();
  const session = useSession(sessionId, 2000);
  const trials = useTrials(sessionId);
  const stream = useSessionStream(sessionId);
  const client = useQueryClient();
  const navigate = useNavigate();
  const start = useStartSession();
  const [opening, setOpening] = useState<number | null>(null);

  // a `trial` event on the tape (pushed over /ws): read the trials again
  const arrived = stream.log.events.filter((e) => e.kind === "trial" || e.kind === "state").length;
  useEffect(() => {
    if (arrived) void client.invalidateQueries({ queryKey: trialsKey(sessionId) });
  }, [arrived, client, sessionId]);

  const open = (trial: TrialView) => {
    if (!session.data?.config) return;
    setOpening(trial.number);
    start.mutate(backtestOfTrial(session.data.config, trial, sessionId), {
      onSuccess: ({ data }) => void navigate(`/sessions/${data.session_id}`),
      onSettled: () => setOpening(null),
    });
  };

  if (session.error) return <ErrorNotice error={session.error} />;
  const s = session.data;
  const data = trials.data;
  const counters = s ? sweepCounters(s) : {};
  const done = data ? data.trials.length + data.skipped.length : (counters.done ?? 0);
  const total = data?.total ?? counters.total ?? 0;
  const names = data ? axisNames(data) : [];
  return (
    <Stack>
      <Group justify="space-between">
        <Group>
          <Anchor component={Link} to="/sweeps" size="sm">
            ← Sweeps
          </Anchor>
          <Title order={2} ff="monospace" size="h3">
            {sessionId}
          </Title>
          {s && <StateBadge state={s.state} />}
        </Group>
        {s && <StopControl sessionId={sessionId} terminal={isTerminal(s.state)} />}
      </Group>
      {s?.error_message && <Text c="red">{s.error_message}</Text>}
      <Paper withBorder p="md">
        <Group justify="space-between" mb="xs">
          <Text data-testid="sweep-progress">
            {done} of {total} trials{data && data.skipped.length ? ` (${data.skipped.length} refused by the strategy)` : ""}
          </Text>
          {data?.best && (
            <Text data-testid="sweep-best">
              best {data.objective} {formatNumber(data.best.score, 3)} at{" "}
              {names.map((n) => `${n}=${String(data.best?.params[n])}`).join(" ")}
            </Text>
          )}
        </Group>
        <Progress value={total ? (100 * done) / total : 0} animated={!!s && !isTerminal(s.state)} />
      </Paper>
      {start.error && <ErrorNotice error={start.error} />}
      {data && names.length >= 2 && data.trials.length > 0 && (
        <Paper withBorder p="md">
          <Text fw={600} mb="xs">
            {data.objective} by parameter — click a cell to open its trial as a backtest
          </Text>
          <Heatmap data={data} onPick={open} />
        </Paper>
      )}
      <Paper withBorder p="md">
        <Text fw={600} mb="xs">
          Trials
        </Text>
        {trials.error ? (
          <ErrorNotice error={trials.error} />
        ) : (
          <TrialsTable trials={data?.trials ?? []} params={names} objective={data?.objective ?? "score"} opening={opening} onOpen={open} />
        )}
      </Paper>
    </Stack>
  );
}
