import { Table, Text } from "@mantine/core";
import type { ReactNode } from "react";
import { localeNumber } from "../format";

export interface Column<T> {
  key: string;
  label: string;
  render?: (row: T) => ReactNode;
  align?: "left" | "right";
}

/** A plain, keyboard-scrollable table of records, with an honest empty state. */
export function RecordTable<T extends object>({
  rows,
  columns,
  empty,
  rowKey,
  testId,
  caption,
  maxHeight,
}: {
  rows: T[];
  columns: Column<T>[];
  empty: string;
  rowKey: (row: T, index: number) => string;
  testId?: string;
  caption?: string;
  /** Scroll the rows inside this height (px) instead of growing the page. */
  maxHeight?: number;
}) {
  if (rows.length === 0) {
    return (
      <Text size="sm" c="dimmed" data-testid={testId ? `${testId}-empty` : undefined}>
        {empty}
      </Text>
    );
  }
  return (
    <Table.ScrollContainer minWidth={400} type="native" mah={maxHeight}>
      <Table striped highlightOnHover fz="sm" data-testid={testId} captionSide="top" stickyHeader={maxHeight !== undefined}>
        {caption && <Table.Caption>{caption}</Table.Caption>}
        <Table.Thead>
          <Table.Tr>
            {columns.map((c) => (
              <Table.Th key={c.key} style={{ textAlign: c.align ?? "left" }}>
                {c.label}
              </Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((row, i) => (
            <Table.Tr key={rowKey(row, i)}>
              {columns.map((c) => (
                <Table.Td key={c.key} style={c.align === "right" ? { textAlign: "right", whiteSpace: "nowrap" } : undefined}>
                  {c.render ? c.render(row) : display((row as Record<string, unknown>)[c.key])}
                </Table.Td>
              ))}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

function display(value: unknown): ReactNode {
  if (value === null || value === undefined) return "—";
  if (typeof value === "number") return localeNumber(value, { maximumFractionDigits: 8 });
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
