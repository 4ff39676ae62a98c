import { MantineProvider } from "@mantine/core";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { MemoryRouter } from "react-router-dom";
import { vi } from "vitest";
import { LiveProvider } from "../live/LiveProvider";
import { LiveSocket } from "../live/socket";

/** Answer fetch() from a table of `path → body` (status 200), like the server would. */
export function stubFetch(routes: Record<string, unknown>) {
  const fetchMock = vi.fn(async (input: RequestInfo | URL) => {
    const path = String(input).replace(/\?.*$/, "");
    if (!(path in routes)) {
      return new Response(JSON.stringify({ status: "error", error_code: "not_found", message: `no route ${path}` }), { status: 404 });
    }
    return new Response(JSON.stringify(routes[path]), { status: 200 });
  });
  vi.stubGlobal("fetch", fetchMock);
  return fetchMock;
}

/** A LiveSocket whose WebSocket never connects (components see "connecting"). */
export function idleSocket(): LiveSocket {
  return new LiveSocket({
    url: "ws://test/ws",
    createSocket: () => ({ readyState: 0, send() {}, close() {} }) as unknown as WebSocket,
  });
}

export function renderWithProviders(ui: ReactElement, socket: LiveSocket = idleSocket()) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <MantineProvider defaultColorScheme="dark">
      <QueryClientProvider client={client}>
        <LiveProvider socket={socket}>
          <MemoryRouter>{ui}</MemoryRouter>
        </LiveProvider>
      </QueryClientProvider>
    </MantineProvider>,
  );
}
