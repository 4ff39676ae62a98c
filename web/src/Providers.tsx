import { MantineProvider, createTheme } from "@mantine/core";
import { Notifications } from "@mantine/notifications";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { ApiError } from "./api/errors";
import { LiveProvider } from "./live/LiveProvider";
import type { LiveSocket } from "./live/socket";

const theme = createTheme({
  primaryColor: "teal",
  fontFamilyMonospace: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace",
  defaultRadius: "sm",
});

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // A 4xx will not get better by asking again; a network error may.
        retry: (count, error) => error instanceof ApiError && error.httpStatus === 0 && count < 2,
        refetchOnWindowFocus: false,
        staleTime: 2_000,
      },
    },
  });
}

export function Providers({
  children,
  socket,
  queryClient,
}: {
  children: ReactNode;
  socket?: LiveSocket;
  queryClient?: QueryClient;
}) {
  const [client] = useState(() => queryClient ?? makeQueryClient());
  return (
    <MantineProvider theme={theme} defaultColorScheme="dark">
      <Notifications position="bottom-right" limit={4} />
      <QueryClientProvider client={client}>
        <LiveProvider socket={socket}>{children}</LiveProvider>
      </QueryClientProvider>
    </MantineProvider>
  );
}
