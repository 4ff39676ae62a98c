import { Alert, Button } from "@mantine/core";
import { useState } from "react";
import { useStopSession } from "../api/hooks";
import type { StopResult } from "../api/types";
import { ErrorNotice } from "../components/ErrorNotice";

/** Stop, and say what happened: "stopped", or "was already …" as a notice, not an error. */
export function StopControl({ sessionId, terminal }: { sessionId: string; terminal: boolean }) {
  const stop = useStopSession();
  const [result, setResult] = useState<StopResult | null>(null);
  return (
    <>
      <Button
        color="red"
        variant={terminal ? "subtle" : "light"}
        loading={stop.isPending}
        title={terminal ? "The session has ended; stopping it again only confirms that" : "Stop the session"}
        onClick={() => stop.mutate(sessionId, { onSuccess: ({ data }) => setResult(data) })}
        data-testid="stop-button"
      >
        Stop
      </Button>
      {result && <StopNotice result={result} onClose={() => setResult(null)} />}
      <ErrorNotice error={stop.error} title="Stop failed" />
    </>
  );
}

export function StopNotice({ result, onClose }: { result: StopResult; onClose: () => void }) {
  const already = result.stopped_via === "already_stopped";
  return (
    <Alert
      color={already ? "blue" : "teal"}
      title={already ? `Session was already ${result.final_state}` : `Session ${result.final_state}`}
      withCloseButton
      onClose={onClose}
      data-testid="stop-result"
      data-stopped-via={result.stopped_via}
      role="status"
    >
      {already
        ? "It had ended before this stop arrived; nothing needed stopping."
        : "The session has stopped; its record is kept."}
    </Alert>
  );
}
