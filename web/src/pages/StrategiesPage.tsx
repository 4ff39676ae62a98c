import { Code, Paper, Stack, Text, Title } from "@mantine/core";
import { useStrategies } from "../api/hooks";
import { ErrorNotice } from "../components/ErrorNotice";
import { RecordTable } from "../components/RecordTable";
import { strategyParams } from "../forms/strategyParams";
import { RuleBuilder } from "../strategies/RuleBuilder";

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
            { key: "kind", label: "Kind", render: (s) => <Text size="sm" c="teal" style={{ whiteSpace: "nowrap" }}>{String(s.kind ?? "—")}{s.base && s.base !== s.name ? ` · ${String(s.base)}` : ""}</Text> },
            { key: "description", label: "Description", render: (s) => s.description ?? "" },
            {
              key: "params",
              label: "Parameters",
              render: (s) =>
                strategyParams(s)
                  .map((p) => `${p.name}${p.default !== undefined && p.default !== null ? ` = ${JSON.stringify(p.default)}` : ""}`)
                  .join(", ") || "none",
            },
          ]}
        />
      )}
      <Paper withBorder p="md">
        <Title order={3} mb="xs">Rule strategy builder</Title>
        <Text size="sm" c="dimmed" mb="sm">
          Conditions over indicators, AND/OR/NOT groups, sizing, stop-loss, take-profit, trailing stop and cooldown. The server validates it when you save and rejects anything the engine would not enforce.
        </Text>
        <RuleBuilder />
      </Paper>
    </Stack>
  );
}
