import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import openapiTS, { astToString } from "openapi-typescript";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { components } from "./schema";
import type { CandlesPage, EquityView, FillView, IndicatorSeries, OrderView, PlacedOrder, PositionView, SessionPage, StrategyInfo, TradeView } from "./types";

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

type Schemas = components["schemas"];

describe("per-endpoint types", () => {
  it("resolve to the schemas the OpenAPI document gives each endpoint (checked by tsc)", () => {
    expectTypeOf<SessionPage>().toEqualTypeOf<Schemas["SessionPageData"]>();
    expectTypeOf<OrderView>().toEqualTypeOf<Schemas["OrderView"]>();
    expectTypeOf<FillView>().toEqualTypeOf<Schemas["FillView"]>();
    expectTypeOf<PositionView>().toEqualTypeOf<Schemas["PositionView"]>();
    expectTypeOf<EquityView>().toEqualTypeOf<Schemas["EquityView"]>();
    expectTypeOf<TradeView>().toEqualTypeOf<Schemas["TradeView"]>();
    expectTypeOf<IndicatorSeries>().toEqualTypeOf<Schemas["IndicatorSeries"]>();
    expectTypeOf<CandlesPage>().toEqualTypeOf<Schemas["CandlesData"]>();
    expectTypeOf<PlacedOrder>().toEqualTypeOf<Schemas["OrderPlacedData"]>();
    expectTypeOf<StrategyInfo>().toEqualTypeOf<
      Schemas["BuiltinStrategyView"] | Schemas["ExampleStrategyView"] | Schemas["SavedStrategyView"]
    >();
  });
});
