import { Button, FileInput, Group, Select, TextInput } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { ApiError } from "../api/errors";
import { ErrorNotice } from "../components/ErrorNotice";
import { notifyInfo } from "../components/notify";
import { FieldErrorMap } from "../forms/fieldErrors";
import { useImportDataset } from "./hooks";

/** A dataset name from a file name: its stem, in the characters a dataset name allows
 * ("btc-perp_1m_2022-01.csv.gz" → "btc-perp_1m_2022-01"). */
export function nameFromFile(fileName: string): string {
  const stem = fileName.replace(/\.(gz|bz2|zip)$/i, "").replace(/\.(csv|json|jsonl|parquet|txt)$/i, "");
  return stem.replace(/[^A-Za-z0-9_.-]+/g, "-").replace(/^[-._]+|[-.]+$/g, "").slice(0, 100);
}

export function ImportDataset() {
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState("");
  const [nameEdited, setNameEdited] = useState(false);
  const pickFile = (picked: File | null) => {
    setFile(picked);
    if (picked && !nameEdited) setName(nameFromFile(picked.name));
  };
  const [symbol, setSymbol] = useState("");
  const [kind, setKind] = useState<string | null>(null);
  const importer = useImportDataset();
  const errors = new FieldErrorMap(importer.error instanceof ApiError ? importer.error.fieldErrors : []);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!file) return;
    importer.mutate(
      { file, name, symbol: symbol || undefined, kind: kind ?? undefined },
      { onSuccess: (d) => notifyInfo("Dataset imported", `${d.name}: ${d.rows.toLocaleString("en-US")} ${d.kind} rows`, "teal") },
    );
  };
  return (
    <form onSubmit={submit} aria-label="Import a dataset">
      <Group align="flex-end" gap="sm">
        <FileInput label="File" placeholder="CSV, JSON or Parquet (.gz ok)" value={file} onChange={pickFile} w={260} error={errors.for("file")} clearable />
        <TextInput label="Name" value={name} onChange={(e) => {
          setName(e.currentTarget.value);
          setNameEdited(e.currentTarget.value !== "");
        }} w={180} error={errors.for("name")} />
        <TextInput label="Symbol" placeholder="e.g. BTC_USDT" value={symbol} onChange={(e) => setSymbol(e.currentTarget.value)} w={150} error={errors.for("symbol")} />
        <Select label="Kind" placeholder="detect" data={["trades", "candles", "book"]} value={kind} onChange={setKind} w={120} clearable error={errors.for("kind")} />
        <Button type="submit" loading={importer.isPending} disabled={!file}>Import</Button>
      </Group>
      <ErrorNotice error={importer.error} title="Import failed" />
    </form>
  );
}
