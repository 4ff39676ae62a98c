import { Button, Group, NumberInput, Select, TagsInput, TextInput } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router-dom";
import { ApiError } from "../api/errors";
import { useStartSession } from "../api/hooks";
import { ErrorNotice } from "../components/ErrorNotice";
import { FieldErrorMap } from "../forms/fieldErrors";
import { numberOrBlank } from "../forms/sessionForm";

/** Start a `collect` session: it records an exchange's trades and order book to the store. */
export function StartCollection() {
  const [exchange, setExchange] = useState("mexc");
  const [marketType, setMarketType] = useState<"spot" | "swap">("spot");
  const [symbols, setSymbols] = useState<string[]>([]);
  const [duration, setDuration] = useState<number | string>("");
  const [bookDepth, setBookDepth] = useState<number | string>(20);
  const [bookInterval, setBookInterval] = useState<number | string>(1);
  const start = useStartSession();
  const navigate = useNavigate();
  const errors = new FieldErrorMap(start.error instanceof ApiError ? start.error.fieldErrors : []);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    start.mutate(
      {
        mode: "collect",
        symbols,
        market: {
          source: "exchange",
          exchange,
          market_type: marketType,
          book_depth: numberOrBlank(bookDepth) as number | undefined,
          book_interval: numberOrBlank(bookInterval) as number | undefined,
        },
        duration_seconds: numberOrBlank(duration) as number | undefined,
      },
      { onSuccess: ({ data }) => void navigate(`/sessions/${data.session_id}`) },
    );
  };
  return (
    <form onSubmit={submit} aria-label="Start a collection">
      <Group align="flex-end" gap="sm">
        <TextInput label="Exchange" value={exchange} onChange={(e) => setExchange(e.currentTarget.value)} w={140} error={errors.for("market.exchange")} />
        <Select label="Market type" data={["spot", "swap"]} value={marketType} onChange={(v) => v && setMarketType(v as "spot" | "swap")} w={120} allowDeselect={false} />
        <TagsInput label="Symbols" placeholder="BTC_USDT, Enter" value={symbols} onChange={setSymbols} w={260} error={errors.for("symbols")} />
        <NumberInput label="Book levels" description="per side" value={bookDepth} onChange={setBookDepth} w={110} error={errors.for("market.book_depth")} />
        <NumberInput label="Book every (s)" description="0: each update" value={bookInterval} onChange={setBookInterval} w={120} error={errors.for("market.book_interval")} />
        <NumberInput label="Duration (s)" placeholder="until stopped" value={duration} onChange={setDuration} w={140} error={errors.for("duration_seconds")} />
        <Button type="submit" loading={start.isPending}>Start collecting</Button>
      </Group>
      <ErrorNotice error={start.error} title="Could not start the collection" />
    </form>
  );
}
