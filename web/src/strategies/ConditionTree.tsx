import { ActionIcon, Autocomplete, Button, Group, Paper, SegmentedControl, Stack, Switch, Text, Select } from "@mantine/core";
import { newCondition, newGroup, nodePath, OPS, updateNode, type ConditionNode, type GroupNode, type RuleNode } from "./ruleModel";

type ErrorFor = (path: string) => string | undefined;

/** An AND/OR group of conditions and nested groups, each of which can be negated. `path` is
 * where the tree sits in the definition (`entry`); the server's errors show on their rows. */
export function ConditionTree({ root, onChange, operands, label, path, errorFor }: { root: GroupNode; onChange: (root: GroupNode) => void; operands: string[]; label: string; path: string; errorFor: ErrorFor }) {
  const change = (id: string, fn: (node: RuleNode) => RuleNode | null) => onChange(updateNode(root, id, fn));
  return <GroupEditor node={root} depth={0} change={change} operands={operands} label={label} path={path} errorFor={errorFor} />;
}

type Change = (id: string, fn: (node: RuleNode) => RuleNode | null) => void;

/** A negated node is sent wrapped in `{"not": …}`: its own path goes one level deeper. */
const within = (path: string, negate: boolean) => (negate ? `${path}.not` : path);

function GroupEditor({ node, depth, change, operands, label, path, errorFor }: { node: GroupNode; depth: number; change: Change; operands: string[]; label: string; path: string; errorFor: ErrorFor }) {
  const add = (child: RuleNode) => change(node.id, (n) => ({ ...(n as GroupNode), children: [...(n as GroupNode).children, child] }));
  const inner = within(path, node.negate);
  const groupError = errorFor(inner);
  return (
    <Paper withBorder p="xs" bg={depth % 2 ? "dark.6" : "dark.7"} role="group" aria-label={label}>
      <Stack gap={6}>
        <Group gap="xs">
          <SegmentedControl
            size="xs"
            aria-label={`${label}: combine with`}
            data={[{ value: "all", label: "ALL of (AND)" }, { value: "any", label: "ANY of (OR)" }]}
            value={node.mode}
            onChange={(mode) => change(node.id, (n) => ({ ...(n as GroupNode), mode: mode as GroupNode["mode"] }))}
          />
          <Switch size="xs" label="NOT" checked={node.negate} onChange={(e) => { const negate = e.currentTarget.checked; change(node.id, (n) => ({ ...n, negate })); }} />
          {depth > 0 && (
            <Button size="compact-xs" variant="subtle" color="red" onClick={() => change(node.id, () => null)}>Remove group</Button>
          )}
        </Group>
        {groupError && <Text c="red" size="xs" role="alert">{groupError}</Text>}
        {node.children.length === 0 && <Text size="xs" c="dimmed">Empty group: add a condition.</Text>}
        {node.children.map((child, i) => {
          const childPath = nodePath(inner, node.mode, i);
          return child.kind === "group" ? (
            <GroupEditor key={child.id} node={child} depth={depth + 1} change={change} operands={operands} label={`${label}, group ${i + 1}`} path={childPath} errorFor={errorFor} />
          ) : (
            <ConditionRow key={child.id} node={child} change={change} operands={operands} label={`${label}, condition ${i + 1}`} path={childPath} errorFor={errorFor} />
          );
        })}
        <Group gap="xs">
          <Button size="compact-xs" variant="light" onClick={() => add(newCondition())}>+ Condition</Button>
          <Button size="compact-xs" variant="light" onClick={() => add(newGroup(node.mode === "all" ? "any" : "all"))}>+ Group</Button>
        </Group>
      </Stack>
    </Paper>
  );
}

function ConditionRow({ node, change, operands, label, path, errorFor }: { node: ConditionNode; change: Change; operands: string[]; label: string; path: string; errorFor: ErrorFor }) {
  const set = (patch: Partial<ConditionNode>) => change(node.id, (n) => ({ ...n, ...patch }) as RuleNode);
  const at = within(path, node.negate);
  const left = errorFor(`${at}.left`), right = errorFor(`${at}.right`), row = errorFor(at) ?? errorFor(`${at}.op`);
  return (
    <Stack gap={2} data-testid="condition-row" data-path={at}>
      <Group gap="xs" wrap="nowrap" align="flex-start">
        <Switch size="xs" label="NOT" mt={6} checked={node.negate} onChange={(e) => set({ negate: e.currentTarget.checked })} aria-label={`${label}: negate`} />
        <Autocomplete size="xs" aria-label={`${label}: left`} placeholder="indicator, field or number" data={operands} value={node.left} onChange={(left) => set({ left })} w={200} error={left} />
        <Select size="xs" aria-label={`${label}: operator`} data={OPS} value={node.op} onChange={(op) => op && set({ op: op as ConditionNode["op"] })} w={140} allowDeselect={false} />
        <Autocomplete size="xs" aria-label={`${label}: right`} placeholder="indicator, field or number" data={operands} value={node.right} onChange={(right) => set({ right })} w={200} error={right} />
        <ActionIcon size="sm" variant="subtle" color="red" mt={4} aria-label={`${label}: remove`} onClick={() => change(node.id, () => null)}>×</ActionIcon>
      </Group>
      {row && <Text c="red" size="xs">{row}</Text>}
    </Stack>
  );
}
