import { Button, Group, NumberInput, Select, Text } from "@mantine/core";
import { useState } from "react";
import { usePlaceOrder } from "../api/hooks";
import { ErrorNotice } from "../components/ErrorNotice";
import { notifyInfo } from "../components/notify";

/** Manual market Buy/Sell for a running paper session (POST /sessions/{id}/orders). */
export function ManualOrder({ sessionId, symbols }: { sessionId: string; symbols: string[] }) {
  const [symbol, setSymbol] = useState<string | null>(symbols[0] ?? null);
  const [quantity, setQuantity] = useState<number | string>("");
  const place = usePlaceOrder(sessionId);
  const send = (side: "buy" | "sell") =>
    place.mutate(
      { symbol: symbol ?? "", side, type: "market", quantity: Number(quantity) },
      {
        onSuccess: ({ status, data }) =>
          notifyInfo(`Order ${status.replace(/_/g, " ")}`, `${side} ${quantity} ${symbol} · ${String(data.status ?? "")}`, "teal"),
      },
    );
  return (
    <div>
      <Group align="flex-end" gap="xs">
        <Select label="Symbol" data={symbols} value={symbol} onChange={setSymbol} w={150} allowDeselect={false} />
        <NumberInput label="Quantity" value={quantity} onChange={setQuantity} w={150} placeholder="e.g. 0.01" />
        <Button color="teal" onClick={() => send("buy")} loading={place.isPending} disabled={!symbol || quantity === ""}>
          Buy
        </Button>
        <Button color="red" onClick={() => send("sell")} loading={place.isPending} disabled={!symbol || quantity === ""}>
          Sell
        </Button>
      </Group>
      <Text size="xs" c="dimmed" mt={4}>Market orders, filled by the paper venue at the session's market prices.</Text>
      <ErrorNotice error={place.error} title="Order rejected" />
    </div>
  );
}
