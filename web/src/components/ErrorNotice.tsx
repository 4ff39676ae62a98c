import { Alert, Code, Text } from "@mantine/core";
import { ApiError } from "../api/errors";

/** A failed request, as the server described it. */
export function ErrorNotice({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const api = error instanceof ApiError ? error : null;
  return (
    <Alert color="red" title={title ?? "Request failed"} role="alert" data-testid="error-notice">
      <Text size="sm">{(error as Error).message ?? String(error)}</Text>
      {api && (
        <Text size="xs" c="dimmed" mt={4}>
          <Code>{api.code}</Code> · HTTP {api.httpStatus || "—"} · {api.request}
        </Text>
      )}
    </Alert>
  );
}
