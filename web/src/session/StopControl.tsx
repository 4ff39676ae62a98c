import { Alert, Button } from "@mantine/core";
import { useState, type ReactNode } from "react";
import { useStopSession } from "../api/hooks";
import type { StopResult } from "../api/types";
import { ErrorNotice } from "../components/ErrorNotice";

/**
 * Stop, and say what happened: "stopped", or "was already …" as a notice, not an error.
 * Returns the button and the outcome separately so a page can place them apart.
 */
export function useStopControl(sessionId: string, terminal: boolean): { button: ReactNode; outcome: ReactNode } {
  const stop = useStopSession();
  const [result, setResult] = useState<StopResult | null>(null);
  const button = (
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
  );
  const outcome = (
    <>
      {result && <StopNotice result={result} onClose={() => setResult(null)} />}
      <ErrorNotice error={stop.error} title="Stop failed" />
    </>
  );
  return { button, outcome };
}

export function StopControl({ sessionId, terminal }: { sessionId: string; terminal: boolean }) {
  const { button, outcome } = useStopControl(sessionId, terminal);
  return (
    <>
      {button}
      {outcome}
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
