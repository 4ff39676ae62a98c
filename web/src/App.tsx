import { AppShell, Group, NavLink, Text, Title } from "@mantine/core";
import { lazy, Suspense } from "react";
import { NavLink as RouterLink, Route, Routes, useLocation } from "react-router-dom";
import { ConnectionIndicator } from "./components/ConnectionIndicator";
import { NotFoundPage } from "./pages/NotFoundPage";
import { SessionsPage } from "./pages/SessionsPage";

// Pages with charts (lightweight-charts) or the rule builder load on demand: the sessions list
// opens without them.
const SessionDetailPage = lazy(() => import("./pages/SessionDetailPage").then((m) => ({ default: m.SessionDetailPage })));
const BacktestsPage = lazy(() => import("./pages/BacktestsPage").then((m) => ({ default: m.BacktestsPage })));
const DataPage = lazy(() => import("./pages/DataPage").then((m) => ({ default: m.DataPage })));
const StrategiesPage = lazy(() => import("./pages/StrategiesPage").then((m) => ({ default: m.StrategiesPage })));
const SweepsPage = lazy(() => import("./sweeps/SweepsPage").then((m) => ({ default: m.SweepsPage })));
const SweepDetailPage = lazy(() => import("./sweeps/SweepDetailPage").then((m) => ({ default: m.SweepDetailPage })));

const NAV = [
  { to: "/", label: "Sessions", match: (p: string) => p === "/" || p.startsWith("/sessions") },
  { to: "/backtests", label: "Backtests", match: (p: string) => p.startsWith("/backtests") },
  { to: "/sweeps", label: "Sweeps", match: (p: string) => p.startsWith("/sweeps") },
  { to: "/data", label: "Data", match: (p: string) => p.startsWith("/data") },
  { to: "/strategies", label: "Strategies", match: (p: string) => p.startsWith("/strategies") },
];

export function App() {
  const { pathname } = useLocation();
  return (
    <AppShell header={{ height: 52 }} navbar={{ width: 180, breakpoint: 0 }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group gap="xs">
            <Title order={3} ff="monospace">
              papertape
            </Title>
            <Text size="sm" c="dimmed">
              trading sessions
            </Text>
          </Group>
          <ConnectionIndicator />
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" component="nav" aria-label="Main">
        {NAV.map((item) => (
          <NavLink
            key={item.to}
            component={RouterLink}
            to={item.to}
            label={item.label}
            active={item.match(pathname)}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>
        <Suspense fallback={<Text c="dimmed">Loading…</Text>}>
        <Routes>
          <Route path="/" element={<SessionsPage />} />
          <Route path="/sessions" element={<SessionsPage />} />
          <Route path="/sessions/:sessionId" element={<SessionDetailPage />} />
          <Route path="/backtests" element={<BacktestsPage />} />
          <Route path="/sweeps" element={<SweepsPage />} />
          <Route path="/sweeps/:sessionId" element={<SweepDetailPage />} />
          <Route path="/data" element={<DataPage />} />
          <Route path="/strategies" element={<StrategiesPage />} />
          <Route path="*" element={<NotFoundPage />} />
        </Routes>
        </Suspense>
      </AppShell.Main>
    </AppShell>
  );
}
