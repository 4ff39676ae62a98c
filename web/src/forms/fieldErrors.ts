import type { FieldError } from "../api/errors";

/** Server field paths as the form names them: `body.market.speed` / `strategies[0].params` → dots. */
export function normalizeField(field: string): string {
  return field
    .replace(/\[(\d+)\]/g, ".$1")
    .replace(/^body\./, "")
    .replace(/^\./, "");
}

export class FieldErrorMap {
  private readonly byField = new Map<string, string[]>();
  private readonly claimed = new Set<string>();

  constructor(errors: FieldError[] = []) {
    for (const error of errors) {
      const key = normalizeField(error.field);
      this.byField.set(key, [...(this.byField.get(key) ?? []), error.message]);
    }
  }

  get size(): number {
    return this.byField.size;
  }

  /** The message(s) for a field; marks them as shown. */
  for(field: string): string | undefined {
    const messages = this.byField.get(field);
    if (!messages) return undefined;
    this.claimed.add(field);
    return messages.join("; ");
  }

  /** Messages no field shows (e.g. model-level errors), to show above the form. `shown` says
   * which fields the form has an input for (it may render after this is asked). */
  unclaimed(shown: readonly string[] | ((field: string) => boolean)): FieldError[] {
    const isShown = typeof shown === "function" ? shown : (field: string) => shown.includes(field);
    return [...this.byField.entries()]
      .filter(([field]) => !isShown(field) && !this.claimed.has(field))
      .map(([field, messages]) => ({ field, message: messages.join("; ") }));
  }
}
