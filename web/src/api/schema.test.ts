import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import openapiTS, { astToString } from "openapi-typescript";
import { describe, expect, it } from "vitest";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

describe("generated API types", () => {
  it("match the saved openapi.json (run `npm run gen:api` after saving a new one)", async () => {
    const document = JSON.parse(readFileSync(here("../../openapi.json"), "utf8"));
    const fresh = astToString(await openapiTS(document, { defaultNonNullable: false }));
    const committed = readFileSync(here("./schema.d.ts"), "utf8");
    const body = (text: string) => text.slice(text.indexOf("export "));
    expect(body(committed)).toBe(body(fresh));
  });
});
