import { Button, Group, NumberInput, SegmentedControl, Select, Stack, Text } from "@mantine/core";
import { useState } from "react";
import { ApiError } from "../api/errors";
import { usePlaceOrder } from "../api/hooks";
import type { OrderBody } from "../api/types";
import { ErrorNotice } from "../components/ErrorNotice";
import { notifyInfo } from "../components/notify";
import { FieldErrorMap } from "../forms/fieldErrors";
import { numberOrBlank } from "../forms/sessionForm";

/** Manual Buy/Sell for a running paper session (POST /sessions/{id}/orders). Orders wait for
 * the session's first price of the symbol (the server refuses them with 409 no_market_price). */
export function ManualOrder({
  sessionId,
  symbols,
  pricedSymbols,
}: {
  sessionId: string;
  symbols: string[];
  /** The symbols the session has seen a price for. */
  pricedSymbols: string[];
}) {
  const [symbol, setSymbol] = useState<string | null>(symbols[0] ?? null);
  const [type, setType] = useState<NonNullable<OrderBody["type"]>>("market");
  const [qty, setQty] = useState<number | string>("");
  const [price, setPrice] = useState<number | string>("");
  const place = usePlaceOrder(sessionId);
  const waiting = symbol !== null && !pricedSymbols.includes(symbol);
  const blocked = !symbol || qty === "" || waiting;
  const errors = new FieldErrorMap(place.error instanceof ApiError ? place.error.fieldErrors : []);
  const send = (side: OrderBody["side"]) => {
    const body: OrderBody = { symbol: symbol ?? "", side, type, qty: numberOrBlank(qty) as number };
    if (type === "limit") body.price = numberOrBlank(price) as number;
    if (type === "stop") body.stop_price = numberOrBlank(price) as number;
    place.mutate(body, {
      onSuccess: ({ status, data }) =>
        notifyInfo(humanize(status), `${side} ${qty} ${symbol} · ${data.order.status.replace(/_/g, " ")}`, "teal"),
    });
  };
  return (
    <Stack gap={4} data-testid="manual-order">
      <Group align="flex-end" gap="xs">
        <Select label="Symbol" data={symbols} value={symbol} onChange={setSymbol} w={140} allowDeselect={false} error={errors.for("symbol")} />
        <Stack gap={2}>
          <Text size="sm" fw={500} id="order-type-label">Order type</Text>
          <SegmentedControl aria-labelledby="order-type-label" data={["market", "limit", "stop"]} value={type} onChange={(v) => setType(v as typeof type)} />
        </Stack>
        <NumberInput label="Quantity" value={qty} onChange={setQty} w={140} placeholder="e.g. 0.01" error={errors.for("qty")} />
        {type !== "market" && (
          <NumberInput label={type === "limit" ? "Limit price" : "Stop price"} value={price} onChange={setPrice} w={150} error={errors.for(type === "limit" ? "price" : "stop_price")} />
        )}
        <Button color="teal" onClick={() => send("buy")} loading={place.isPending} disabled={blocked}>Buy</Button>
        <Button color="red" onClick={() => send("sell")} loading={place.isPending} disabled={blocked}>Sell</Button>
      </Group>
      {waiting && (
        <Text size="sm" c="yellow" data-testid="order-waits-for-price">
          No market price for {symbol} yet: Buy and Sell are enabled once the session has seen one.
        </Text>
      )}
      <Text size="xs" c="dimmed">Filled by the paper venue against the session's market data, with its fees and slippage.</Text>
      <ErrorNotice error={place.error} title="Order rejected" />
    </Stack>
  );
}

function humanize(status: string): string {
  const text = status.replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}
