/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// `npm run dev` proxies the API to a local `papertape serve --port 8099`.
const api = process.env.PAPERTAPE_API ?? "http://127.0.0.1:8099";
const apiPaths = ["/sessions", "/strategies", "/datasets", "/data", "/markets", "/health", "/openapi.json"];

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      ...Object.fromEntries(apiPaths.map((p) => [p, { target: api, bypass: htmlBypass }])),
      "/ws": { target: api.replace(/^http/, "ws"), ws: true },
    },
  },
  build: { outDir: "dist", sourcemap: true, chunkSizeWarningLimit: 1500 },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    css: false,
  },
});

// Browser navigations to client routes such as /sessions/exec_... get the SPA, not the API.
function htmlBypass(req: { headers: Record<string, string | string[] | undefined> }) {
  const accept = String(req.headers.accept ?? "");
  return accept.includes("text/html") ? "/index.html" : undefined;
}
