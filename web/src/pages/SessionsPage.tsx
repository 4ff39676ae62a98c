import { Button, Group, Modal, Stack, Title } from "@mantine/core";
import { useState } from "react";
import { useNavigate } from "react-router-dom";
import { useStartSession, type SessionFilters } from "../api/hooks";
import type { StartSessionBody } from "../api/types";
import { notifyInfo } from "../components/notify";
import { SessionsTable } from "../components/SessionsTable";
import { StopAllButton } from "../components/StopAllButton";
import { SessionForm } from "../forms/SessionForm";
import { useSessionListUpdates } from "../live/useSessionListUpdates";

export function SessionsPage() {
  useSessionListUpdates();
  const [filters, setFilters] = useState<SessionFilters>({ limit: 20, offset: 0 });
  const [open, setOpen] = useState(false);
  const start = useStartSession();
  const navigate = useNavigate();

  const submit = (body: StartSessionBody) =>
    start.mutate(body, {
      onSuccess: ({ status, data }) => {
        setOpen(false);
        start.reset();
        notifyInfo(status === "session_started" ? "Session started" : status.replace(/_/g, " "), data.session_id, "teal");
        void navigate(`/sessions/${data.session_id}`);
      },
    });

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Sessions</Title>
        <Group>
          <StopAllButton />
          <Button onClick={() => setOpen(true)}>Start session</Button>
        </Group>
      </Group>
      <SessionsTable filters={filters} onFilters={setFilters} />
      <Modal opened={open} onClose={() => { setOpen(false); start.reset(); }} title="Start session" size="xl">
        <SessionForm
          variant="session"
          submitLabel="Start"
          onSubmit={submit}
          pending={start.isPending}
          error={start.error}
          onCancel={() => { setOpen(false); start.reset(); }}
        />
      </Modal>
    </Stack>
  );
}
