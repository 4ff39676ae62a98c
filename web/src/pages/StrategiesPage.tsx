import { Badge, Code, Stack, Title } from "@mantine/core";
import { useStrategies } from "../api/hooks";
import { ErrorNotice } from "../components/ErrorNotice";
import { RecordTable } from "../components/RecordTable";
import { strategyParams } from "../forms/strategyParams";

export function StrategiesPage() {
  const strategies = useStrategies();
  return (
    <Stack>
      <Title order={2}>Strategies</Title>
      <ErrorNotice error={strategies.error} title="Could not load strategies" />
      {strategies.data && (
        <RecordTable
          rows={strategies.data}
          rowKey={(s) => s.name}
          empty="The server lists no strategies."
          testId="strategies"
          columns={[
            { key: "name", label: "Name", render: (s) => <Code>{s.name}</Code> },
            { key: "kind", label: "Kind", render: (s) => <Badge variant="light">{String(s.kind ?? s.base ?? (s.builtin ? "built-in" : "saved"))}</Badge> },
            { key: "description", label: "Description", render: (s) => s.description ?? "" },
            {
              key: "params",
              label: "Parameters",
              render: (s) =>
                strategyParams(s)
                  .map((p) => `${p.name}: ${p.type}${p.default !== undefined ? ` = ${JSON.stringify(p.default)}` : ""}`)
                  .join(", ") || "none",
            },
          ]}
        />
      )}
    </Stack>
  );
}
