import { Button, Group, Modal, Text } from "@mantine/core";
import { useState } from "react";
import { useStopAll } from "../api/hooks";
import { ErrorNotice } from "./ErrorNotice";
import { notifyInfo } from "./notify";

/** The emergency stop: asks once, stops every session that has not ended, says how many. */
export function StopAllButton() {
  const stopAll = useStopAll();
  const [asking, setAsking] = useState(false);
  const confirm = () =>
    stopAll.mutate(undefined, {
      onSuccess: ({ data }) => {
        setAsking(false);
        notifyInfo(
          "Emergency stop",
          data.count === 0 ? "No session was running." : `${data.count} session(s) stopped.`,
          data.count === 0 ? "blue" : "teal",
        );
      },
    });
  return (
    <>
      <Button color="red" variant="outline" onClick={() => setAsking(true)} data-testid="stop-all-button">
        Stop all
      </Button>
      <Modal opened={asking} onClose={() => setAsking(false)} title="Stop every session?">
        <Text mb="md">
          Every session that has not ended is stopped now (stop reason "emergency"). Their records are kept.
        </Text>
        <ErrorNotice error={stopAll.error} title="Stop all failed" />
        <Group justify="flex-end" mt="md">
          <Button variant="default" onClick={() => setAsking(false)}>
            Cancel
          </Button>
          <Button color="red" loading={stopAll.isPending} onClick={confirm}>
            Stop all sessions
          </Button>
        </Group>
      </Modal>
    </>
  );
}
