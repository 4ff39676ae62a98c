import { Group, Paper, Select, Stack, Table, Text } from "@mantine/core";
import { useMemo, useState } from "react";
import { formatNumber } from "../format";
import type { TrialView, TrialsData } from "./api";

const CELL = 34;
const MARGIN = { left: 64, top: 12, bottom: 48 };

interface Cell {
  x: string;
  y: string;
  trial: TrialView | null; // the best trial at (x, y); null: every set there was refused
}

/** Red (worst) → amber → green (best). */
export function colour(value: number, min: number, max: number): string {
  const t = max > min ? (value - min) / (max - min) : 1;
  const hue = Math.round(t * 120);
  return `hsl(${hue}, 70%, ${42 + Math.round(t * 8)}%)`;
}

function key(value: unknown): string {
  return JSON.stringify(value);
}

/**
 * The objective over two swept parameters: one cell per (x, y) pair, coloured by the best
 * score among the trials there (other swept parameters vary inside a cell); hovering a cell
 * shows its trial's metrics, clicking it selects the trial.
 */
export function Heatmap({
  data,
  onPick,
}: {
  data: TrialsData;
  onPick: (trial: TrialView) => void;
}) {
  const names = data.axes.map((a) => String(a.name));
  const [xName, setX] = useState(names[0]);
  const [yName, setY] = useState(names[1] ?? names[0]);
  const [hover, setHover] = useState<Cell | null>(null);

  const { xs, ys, cells, min, max } = useMemo(() => {
    const values = (name: string) => {
      const axis = data.axes.find((a) => a.name === name);
      const listed = (axis?.values as unknown[] | undefined) ?? [];
      if (listed.length) return listed.map(key);
      const seen = new Set<string>();
      for (const t of [...data.trials, ...data.skipped]) seen.add(key(t.params[name]));
      return [...seen].sort((a, b) => Number(a) - Number(b));
    };
    const xs = values(xName), ys = values(yName).reverse(); // larger y on top
    const cells = new Map<string, Cell>();
    for (const t of data.trials) {
      const id = `${key(t.params[xName])}|${key(t.params[yName])}`;
      const cell = cells.get(id);
      const better = !cell?.trial || (t.score ?? -Infinity) > (cell.trial.score ?? -Infinity);
      if (better) cells.set(id, { x: key(t.params[xName]), y: key(t.params[yName]), trial: t });
    }
    for (const s of data.skipped) {
      const id = `${key(s.params[xName])}|${key(s.params[yName])}`;
      if (!cells.has(id)) cells.set(id, { x: key(s.params[xName]), y: key(s.params[yName]), trial: null });
    }
    const scores = data.trials.map((t) => t.score).filter((s): s is number => s !== null && s !== undefined);
    return { xs, ys, cells, min: Math.min(...scores), max: Math.max(...scores) };
  }, [data, xName, yName]);

  const width = MARGIN.left + xs.length * CELL + 8;
  const height = MARGIN.top + ys.length * CELL + MARGIN.bottom;
  const options = names.map((n) => ({ value: n, label: n }));

  return (
    <Group align="flex-start" wrap="nowrap" gap="lg">
      <Stack gap="xs">
        <Group gap="xs">
          <Select size="xs" w={120} label="x axis" data={options} value={xName} onChange={(v) => v && setX(v)} allowDeselect={false} />
          <Select size="xs" w={120} label="y axis" data={options} value={yName} onChange={(v) => v && setY(v)} allowDeselect={false} />
        </Group>
        <svg width={width} height={height} role="img" aria-label={`${data.objective} by ${xName} and ${yName}`}>
          {ys.map((y, row) => (
            <text key={`y${y}`} x={MARGIN.left - 6} y={MARGIN.top + row * CELL + CELL / 2 + 4} textAnchor="end" fontSize={11} fill="currentColor">
              {y}
            </text>
          ))}
          {xs.map((x, col) => (
            <text key={`x${x}`} x={MARGIN.left + col * CELL + CELL / 2} y={MARGIN.top + ys.length * CELL + 14} textAnchor="middle" fontSize={11} fill="currentColor">
              {x}
            </text>
          ))}
          <text x={MARGIN.left + (xs.length * CELL) / 2} y={height - 8} textAnchor="middle" fontSize={12} fill="currentColor">
            {xName}
          </text>
          <text x={12} y={MARGIN.top + (ys.length * CELL) / 2} fontSize={12} fill="currentColor" transform={`rotate(-90 12 ${MARGIN.top + (ys.length * CELL) / 2})`} textAnchor="middle">
            {yName}
          </text>
          {ys.map((y, row) =>
            xs.map((x, col) => {
              const cell = cells.get(`${x}|${y}`);
              const score = cell?.trial?.score;
              const fill = !cell ? "transparent" : cell.trial === null ? "var(--mantine-color-gray-4)" : score === null || score === undefined ? "var(--mantine-color-gray-6)" : colour(score, min, max);
              return (
                <rect
                  key={`${x}|${y}`}
                  data-testid="heatmap-cell"
                  data-x={x}
                  data-y={y}
                  x={MARGIN.left + col * CELL + 1}
                  y={MARGIN.top + row * CELL + 1}
                  width={CELL - 2}
                  height={CELL - 2}
                  rx={3}
                  fill={fill}
                  stroke={hover && hover.x === x && hover.y === y ? "currentColor" : "none"}
                  style={{ cursor: cell?.trial ? "pointer" : "default" }}
                  onMouseEnter={() => cell && setHover(cell)}
                  onClick={() => cell?.trial && onPick(cell.trial)}
                />
              );
            }),
          )}
        </svg>
        <Text size="xs" c="dimmed">
          colour: {data.objective} (red lowest {formatNumber(min, 3)}, green highest {formatNumber(max, 3)}); grey: refused or not rankable
        </Text>
      </Stack>
      <HoverPanel cell={hover} xName={xName} yName={yName} objective={data.objective} />
    </Group>
  );
}

const SHOWN = ["total_return_pct", "sharpe", "sortino", "max_drawdown_pct", "trades", "win_rate_pct", "profit_factor", "final_equity"];

function HoverPanel({ cell, xName, yName, objective }: { cell: Cell | null; xName: string; yName: string; objective: string }) {
  if (!cell) {
    return (
      <Paper withBorder p="sm" w={260}>
        <Text size="sm" c="dimmed">Hover a cell to see its trial.</Text>
      </Paper>
    );
  }
  const trial = cell.trial;
  return (
    <Paper withBorder p="sm" w={260} data-testid="heatmap-hover">
      <Text size="sm" fw={600}>
        {xName}={cell.x}, {yName}={cell.y}
      </Text>
      {trial === null ? (
        <Text size="sm" c="dimmed">refused by the strategy</Text>
      ) : (
        <Table withRowBorders={false} verticalSpacing={2} fz="xs">
          <Table.Tbody>
            <Table.Tr>
              <Table.Td>trial</Table.Td>
              <Table.Td ta="right">#{trial.number}</Table.Td>
            </Table.Tr>
            <Table.Tr>
              <Table.Td>{objective}</Table.Td>
              <Table.Td ta="right">{formatNumber(trial.score, 3)}</Table.Td>
            </Table.Tr>
            {SHOWN.map((name) => (
              <Table.Tr key={name}>
                <Table.Td>{name}</Table.Td>
                <Table.Td ta="right">{formatNumber(trial.metrics?.[name], 2)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Paper>
  );
}
