import { JsonInput } from "@mantine/core";
import { useState } from "react";

/** A structured parameter (object, list, union) edited as JSON. Text that does not parse is
 * kept here and not sent, with a note saying so. */
export function JsonParamInput({
  label,
  description,
  value,
  onChange,
  error,
}: {
  label: string;
  description?: string;
  value: unknown;
  onChange: (value: unknown) => void;
  error?: string;
}) {
  const [text, setText] = useState(() => (value === undefined ? "" : JSON.stringify(value, null, 2)));
  const [parseError, setParseError] = useState<string | null>(null);
  const change = (next: string) => {
    setText(next);
    if (next.trim() === "") {
      setParseError(null);
      onChange(undefined);
      return;
    }
    try {
      onChange(JSON.parse(next));
      setParseError(null);
    } catch (e) {
      setParseError(`Not valid JSON yet (${(e as Error).message}); the last valid value is used.`);
    }
  };
  return (
    <JsonInput
      label={label}
      description={description}
      value={text}
      onChange={change}
      error={error ?? parseError ?? undefined}
      autosize
      minRows={2}
      maxRows={10}
      style={{ gridColumn: "1 / -1" }}
    />
  );
}
